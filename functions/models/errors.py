"""The one error hierarchy, and the RFC 9457 problem document the API maps it to in one place."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_TYPE_PREFIX = "urn:presswire:problem:"
FieldLocation = Literal["body", "query", "path", "header"]
_LOCATIONS: frozenset[str] = frozenset({"body", "query", "path", "header"})


class FieldError(BaseModel):
    """One field at fault and what is wrong with it."""

    field: str = Field(
        description="The field: a body field as a dotted path (tags.3), or a query, path or header "
        "parameter by name; 'body' for the body as a whole"
    )
    location: FieldLocation = Field(description="Where the field is: body, query, path or header")
    message: str = Field(description="What is wrong, in words")


class Problem(BaseModel):
    """RFC 9457 problem details, served as application/problem+json."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="A URI naming the kind of problem (urn:presswire:problem:<slug>)")
    title: str = Field(description="A short summary of the kind of problem; the same for every occurrence")
    status: int = Field(ge=400, le=599, description="The HTTP status code")
    detail: str = Field(description="What went wrong with this request, in words")
    field: str | None = Field(
        default=None, description="The field at fault, when there is one (the first of errors)"
    )
    errors: list[FieldError] | None = Field(
        default=None, description="Every field at fault, with a message each (validation problems)"
    )


class PresswireError(Exception):
    """Base of every domain error: carries its HTTP status and a problem type slug."""

    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR
    type_slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    # The field at fault when the raiser names none (a header, for errors that are about one).
    default_field: ClassVar[str | None] = None
    # Seconds a client should wait before repeating the request (sent as Retry-After), if known.
    retry_after: ClassVar[int | None] = None

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if self.default_field is not None:
            extensions.setdefault("field", self.default_field)
        self.extensions = extensions

    def problem(self) -> Problem:
        return Problem(
            type=PROBLEM_TYPE_PREFIX + self.type_slug,
            title=self.title,
            status=int(self.status),
            detail=self.detail,
            **self.extensions,
        )


class InvalidRequest(PresswireError):
    status = HTTPStatus.BAD_REQUEST
    type_slug = "invalid-request"
    title = "The request is not valid"


class MalformedBody(InvalidRequest):
    """The body is not JSON at all: not UTF-8, not parseable, nested too deep."""

    type_slug = "malformed-json"
    title = "The body is not valid JSON"
    default_field = "body"


class UnsupportedMediaType(PresswireError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    type_slug = "unsupported-media-type"
    title = "The body's Content-Type is not accepted here"
    default_field = "Content-Type"


class PayloadTooLarge(PresswireError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    type_slug = "body-too-large"
    title = "The request body is too large"
    default_field = "body"


class ValidationFailed(PresswireError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    type_slug = "validation-failed"
    title = "The request failed validation"

    @classmethod
    def from_errors(cls, errors: Sequence[FieldError]) -> ValidationFailed:
        if not errors:
            return cls("the request is not valid", field="body")
        first = errors[0]
        more = len(errors) - 1
        suffix = f" (and {more} more: see errors)" if more else ""
        return cls(
            f"{first.field}: {first.message}{suffix}",
            field=first.field,
            errors=[error.model_dump() for error in errors],
        )


class Unauthorized(PresswireError):
    status = HTTPStatus.UNAUTHORIZED
    type_slug = "unauthorized"
    title = "A valid API key is required"
    default_field = "Authorization"


class Forbidden(PresswireError):
    status = HTTPStatus.FORBIDDEN
    type_slug = "forbidden"
    title = "This key may not do that"


class ArticleNotFound(PresswireError):
    status = HTTPStatus.NOT_FOUND
    type_slug = "article-not-found"
    title = "No such article"


class RouteNotFound(PresswireError):
    status = HTTPStatus.NOT_FOUND
    type_slug = "not-found"
    title = "No such route"


class SlugUnavailable(PresswireError):
    status = HTTPStatus.CONFLICT
    type_slug = "slug-unavailable"
    title = "No free slug could be found for this title"
    default_field = "title"


class MediaTooLarge(PresswireError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    type_slug = "media-too-large"
    title = "The upload is too large"
    default_field = "body"


class MediaNotFound(PresswireError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    type_slug = "media-not-found"
    title = "A referenced image was not uploaded"


class BodyTooDeep(PresswireError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    type_slug = "body-too-deep"
    title = "The body's HTML is nested too deeply"
    default_field = "body"


class InvalidImage(PresswireError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    type_slug = "invalid-image-url"
    title = "An image in the body has a URL that cannot be used"
    default_field = "body"


class PreconditionFailed(PresswireError):
    status = HTTPStatus.PRECONDITION_FAILED
    type_slug = "stale-etag"
    title = "The article changed since you read it"
    default_field = "If-Match"


class PreconditionRequired(PresswireError):
    status = HTTPStatus.PRECONDITION_REQUIRED
    type_slug = "if-match-required"
    title = "Send If-Match with the ETag of your last read"
    default_field = "If-Match"


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


class IdempotencyKeyReused(PresswireError):
    """The Idempotency-Key was already used, by the same caller, for a different request."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    type_slug = "idempotency-key-reused"
    title = "This Idempotency-Key was used with a different request"
    default_field = "Idempotency-Key"


class RequestInProgress(PresswireError):
    """The first request with this Idempotency-Key has not finished: its answer is not known yet."""

    status = HTTPStatus.CONFLICT
    type_slug = "request-in-progress"
    title = "A request with this Idempotency-Key is still in progress"
    default_field = "Idempotency-Key"
    # A submit takes well under a second; the client learns the outcome on its next try.
    retry_after = 1


# -- validation errors as fields at fault ------------------------------------------------------

# pydantic's messages, said the way this API says them.
_MESSAGES: dict[str, str] = {
    "extra_forbidden": "unknown field: this request does not take it",
    "missing": "required",
    "json_invalid": "not valid JSON",
    "model_attributes_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
}


def field_errors(
    errors: Iterable[Mapping[str, Any]], location: FieldLocation | None = None
) -> list[FieldError]:
    """pydantic (or Powertools) error dicts as fields at fault. Each error's `loc` starts with its
    location (body, query, path, header) unless `location` says where they all are."""
    found: list[FieldError] = []
    for error in errors:
        parts = [str(part) for part in error.get("loc", ())]
        where: str = location or "body"
        if location is None and parts and parts[0] in _LOCATIONS:
            where = parts.pop(0)
        message = _MESSAGES.get(str(error.get("type", "")), str(error.get("msg", "invalid")))
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        name = ".".join(parts) or "body"
        if name == "body" and error.get("type") == "missing":
            message = "a JSON body is required"
        if where == "header":
            # As the API names headers everywhere else (If-Match, Idempotency-Key): Powertools
            # gives their lower-cased parameter names.
            name = "-".join(word.capitalize() for word in name.replace("_", "-").split("-"))
        found.append(FieldError(field=name, location=where, message=message))  # type: ignore[arg-type]
    return found
