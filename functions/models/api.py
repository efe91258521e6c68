"""Request and response shapes of the HTTP API beyond the article itself, and the rules every
request body is read by."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from functions.models.article import EVENT_TYPES, Article, ArticleSummary, Delivery, EventType, Revision
from functions.models.errors import (
    FieldError,
    MalformedBody,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    field_errors,
)

# ApiKeyRecord and Role live in functions.models.keys (the other functions need them without the
# API's shapes); they stay importable from here for the callers that predate it.
from functions.models.keys import ApiKeyRecord as ApiKeyRecord
from functions.models.keys import Role

Slug = Annotated[str, Field(min_length=1, max_length=120)]

JSON_MEDIA_TYPE = "application/json"
# A JSON request body is at most this large (413 beyond). An article body of MAX_BODY_CHARS
# characters fits even with every character \u-escaped; the local gateway, like API Gateway,
# refuses anything over 10 MB before the function sees it.
MAX_JSON_BODY_BYTES = 4 * 1024 * 1024
MAX_URL_CHARS = 2_000

# Idempotency-Key (POST /articles): what clients commonly send (a UUID, a hash, a job id) and
# nothing a proxy could alter: printable ASCII, no leading or trailing space (HTTP trims those).
IDEMPOTENCY_KEY_MAX_CHARS = 255
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


def check_idempotency_key(value: Any) -> Any:
    """An Idempotency-Key header as sent, or ValueError saying what a key must be."""
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or len(value) > IDEMPOTENCY_KEY_MAX_CHARS
        or not _IDEMPOTENCY_KEY.fullmatch(value)
    ):
        raise ValueError(
            f"must be 1 to {IDEMPOTENCY_KEY_MAX_CHARS} printable ASCII characters, not starting or "
            "ending with a space (a UUID is a good key)"
        )
    return value


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lower-cased, without its parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _charset(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def read_json_body(content_type: str | None, body: bytes) -> Any:
    """The JSON value of a request body (None when there is none), by this API's rules: at most
    MAX_JSON_BODY_BYTES (413), sent as application/json (415), UTF-8 and strict JSON (400)."""
    if len(body) > MAX_JSON_BODY_BYTES:
        raise PayloadTooLarge(
            f"a JSON body is at most {MAX_JSON_BODY_BYTES} bytes; this one has {len(body)}; "
            "images go through POST /media"
        )
    if not body:
        return None
    kind = media_type(content_type)
    if kind != JSON_MEDIA_TYPE:
        raise UnsupportedMediaType(
            f"send the body as JSON with Content-Type: {JSON_MEDIA_TYPE}; got {kind or 'no Content-Type'}"
        )
    charset = _charset(content_type or "")
    if charset not in (None, "utf-8", "utf8"):
        raise UnsupportedMediaType(f"JSON is UTF-8; got charset={charset}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedBody(
            f"the body is not UTF-8: byte 0x{body[error.start]:02x} at offset {error.start} cannot be decoded"
        ) from error
    try:
        value = json.loads(text, parse_constant=_no_constants)
        # Strict UTF-8 has no surrogates, so only a \u escape can bring one, and json pairs the
        # valid ones: what is left cannot be stored (UTF-8 cannot encode it) and is dropped.
        return _without_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value
    except json.JSONDecodeError as error:
        raise MalformedBody(f"line {error.lineno} column {error.colno}: {error.msg}") from error
    except RecursionError as error:
        raise MalformedBody("the JSON is nested too deeply") from error
    except ValueError as error:  # NaN/Infinity, or an integer of more than 4300 digits
        raise MalformedBody(f"the body is not valid JSON: {error}") from error


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("", value)
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_surrogates(key): _without_surrogates(item) for key, item in value.items()}
    return value


ModelT = TypeVar("ModelT", bound=BaseModel)


def validate_body(model: type[ModelT], value: Any) -> ModelT:
    """A parsed JSON body as `model`; what is wrong becomes a 422 naming each field at fault."""
    if value is None:
        message = "a JSON body is required"
        raise ValidationFailed.from_errors([FieldError(field="body", location="body", message=message)])
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise ValidationFailed.from_errors(field_errors(error.errors(), location="body")) from error


def check_http_url(value: str) -> str:
    """An absolute http(s) URL this service may store and later call or link: a host, no
    credentials, no whitespace or control characters, at most MAX_URL_CHARS. Raises ValueError."""
    if len(value) > MAX_URL_CHARS:
        raise ValueError(f"must have at most {MAX_URL_CHARS} characters")
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise ValueError("must have no spaces or control characters (percent-encode them)")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        raise ValueError(f"must be a valid URL ({error})") from error
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("must name a host, e.g. https://partner.example/hooks")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("must not carry credentials (user:password@)")
    if port == 0:
        raise ValueError("must not use port 0")
    return value


class ArticleResponse(ArticleSummary):
    url: str = Field(description="Absolute public URL of the article page")


class ArticleDetail(Article):
    url: str = Field(description="Absolute public URL of the article page")


class ArticlePage(BaseModel):
    items: list[ArticleResponse]
    next_cursor: str | None = Field(default=None, description="Pass as ?cursor= for the next page")


class MediaResponse(BaseModel):
    url: str = Field(description="Site-relative URL to reference from an article body")
    content_type: str
    length: int


MediaType = Literal["image/jpeg", "image/png", "image/webp", "image/gif"]


class MediaUploadRequest(BaseModel):
    """POST /media as JSON: ask for a presigned PUT URL (for files up to 10 MB)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    filename: str = Field(min_length=1, max_length=200)
    content_type: MediaType
    length: int = Field(gt=0, le=10 * 1024 * 1024, description="Exact size in bytes (at most 10 MB)")
    caption: str = Field(default="", max_length=1_000)
    credit: str = Field(default="", max_length=200)
    alt: str = Field(default="", max_length=500)


class MediaUploadTicket(BaseModel):
    url: str = Field(description="Site-relative URL to reference from an article body once uploaded")
    upload_url: str = Field(description="PUT the file here, with exactly upload_headers")
    upload_method: Literal["PUT"] = "PUT"
    upload_headers: dict[str, str]
    expires_in: int = Field(description="Seconds the upload URL stays valid")


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    role: Role
    name: str = Field(min_length=1, max_length=100)


class KeyResponse(BaseModel):
    key_id: str
    role: Role
    name: str
    created_at: datetime
    revoked: bool = False


class NewKeyResponse(KeyResponse):
    key: str = Field(description="The secret: shown once, never stored")


class KeyList(BaseModel):
    items: list[KeyResponse]


class RevisionList(BaseModel):
    items: list[Revision]


class PreviewResponse(BaseModel):
    url: str = Field(description="Absolute URL of the draft's page; anyone with it can read the draft")
    expires_at: datetime


class PartnerRequest(BaseModel):
    """POST /partners: a webhook subscription."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str = Field(
        min_length=8,
        max_length=MAX_URL_CHARS,
        # Documented for clients and generators; the validator below says precisely what is wrong.
        json_schema_extra={"format": "uri", "pattern": r"^https?://[^\s/?#@]+([/?#]\S*)?$"},
        description="Where to POST events: an https URL without credentials (user:password@), "
        f"at most {MAX_URL_CHARS} characters, whose host is a public address or a name that "
        "resolves only to public addresses (not localhost, 127.0.0.1, 10.0.0.0/8, 169.254.0.0/16 "
        "and the like); redirects are not followed",
    )
    events: list[EventType] = Field(default_factory=lambda: list(EVENT_TYPES), min_length=1)
    sections: list[Slug] = Field(default_factory=list, max_length=50, description="Section slugs; empty: all")
    tags: list[Slug] = Field(default_factory=list, max_length=50, description="Tag slugs; empty: all")

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        # Whether it may be plain http or private depends on a setting: register_partner decides.
        return check_http_url(url)


class PartnerResponse(BaseModel):
    id: str
    url: str
    events: list[EventType]
    sections: list[str]
    tags: list[str]
    created_at: datetime


class PartnerCreated(PartnerResponse):
    secret: str = Field(description="The Standard Webhooks signing secret: shown once")


class PartnerList(BaseModel):
    items: list[PartnerResponse]


class DeliveryList(BaseModel):
    items: list[Delivery]


class SyndicationPage(BaseModel):
    items: list[dict[str, Any]] = Field(description="IPTC ninjs 2.0 items, oldest change first")
    next_cursor: str | None = Field(description="Pass as ?since= to continue; returned even at the end")
