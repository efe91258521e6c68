"""The one error hierarchy. The API maps it to RFC 9457 problem+json in one place."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar


class PresswireError(Exception):
    """Base of every domain error: carries its HTTP status and a problem type slug."""

    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR
    type_slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidRequest(PresswireError):
    status = HTTPStatus.BAD_REQUEST
    type_slug = "invalid-request"
    title = "The request is not valid"


class Unauthorized(PresswireError):
    status = HTTPStatus.UNAUTHORIZED
    type_slug = "unauthorized"
    title = "A valid API key is required"


class Forbidden(PresswireError):
    status = HTTPStatus.FORBIDDEN
    type_slug = "forbidden"
    title = "This key may not do that"


class ArticleNotFound(PresswireError):
    status = HTTPStatus.NOT_FOUND
    type_slug = "article-not-found"
    title = "No such article"


class SlugUnavailable(PresswireError):
    status = HTTPStatus.CONFLICT
    type_slug = "slug-unavailable"
    title = "No free slug could be found for this title"


class MediaTooLarge(PresswireError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    type_slug = "media-too-large"
    title = "The upload is too large"


class MediaNotFound(PresswireError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    type_slug = "media-not-found"
    title = "A referenced image was not uploaded"


class PreconditionFailed(PresswireError):
    status = HTTPStatus.PRECONDITION_FAILED
    type_slug = "stale-etag"
    title = "The article changed since you read it"


class PreconditionRequired(PresswireError):
    status = HTTPStatus.PRECONDITION_REQUIRED
    type_slug = "if-match-required"
    title = "Send If-Match with the ETag of your last read"


class InvalidTransition(PresswireError):
    status = HTTPStatus.CONFLICT
    type_slug = "invalid-transition"
    title = "The article is not in a state that allows this"


class PreviewNotFound(PresswireError):
    status = HTTPStatus.NOT_FOUND
    type_slug = "preview-not-found"
    title = "No such preview, or it has expired"


class PartnerNotFound(PresswireError):
    status = HTTPStatus.NOT_FOUND
    type_slug = "partner-not-found"
    title = "No such partner subscription"


class KeyNotFound(PresswireError):
    status = HTTPStatus.NOT_FOUND
    type_slug = "key-not-found"
    title = "No such API key"


class StorageUnavailable(PresswireError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    type_slug = "storage-unavailable"
    title = "Storage is temporarily unavailable; retry later"
