"""Settings: the environment, read once into one validated object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Every environment variable the code reads. template.yaml must declare exactly these
# (tests/unit/test_template.py keeps the two in step).
ENVIRONMENT_VARIABLES: dict[str, str] = {
    "CONTENT_BUCKET": "content_bucket",
    "SITE_BUCKET": "site_bucket",
    "TABLE_NAME": "table_name",
    "SITE_URL": "site_url",
    "SITE_NAME": "site_name",
    "SITE_DESCRIPTION": "site_description",
    "SITE_BANNER": "site_banner",
    "SITE_SECTIONS": "site_sections",
    "SITE_LANGUAGE": "site_language",
    "SITE_TIMEZONE": "site_timezone",
    "FEED_ID_AUTHORITY": "feed_id_authority",
    "FEED_SIZE": "feed_size",
    "LOG_FORMAT": "log_format",
    "PREVIEW_TTL_SECONDS": "preview_ttl_seconds",
    "WEBSUB_HUBS": "websub_hubs",
    "RIGHTS_HOLDER": "rights_holder",
    "USAGE_TERMS": "usage_terms",
    "NOTIFY_QUEUE_URL": "notify_queue_url",
    "REBUILD_QUEUE_URL": "rebuild_queue_url",
    "CORS_ALLOWED_ORIGINS": "cors_allowed_origins",
    "ALLOW_PRIVATE_WEBHOOKS": "allow_private_webhooks",
}

_DEFAULT_PORTS = {"http": 80, "https": 443}


def cors_origin(value: str) -> str:
    """One browser origin, exactly as browsers write it in the Origin header (RFC 6454):
    scheme://host[:port], lower case, ASCII, no default port, no path. Raises ValueError.

    Matching is exact (API Gateway compares strings), so anything a browser would never send,
    such as a trailing slash or an upper-case host, would silently never match: it is refused
    here with the form to write instead."""
    if value == "*":
        raise ValueError(
            "'*' is not accepted: any web page could then call the API with a key its user holds; "
            "name each origin, e.g. https://cms.example.vn"
        )
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        raise ValueError(f"{value!r} is not an origin ({error})") from error
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(
            f"{value!r} is not an origin: write scheme://host[:port], e.g. https://cms.example.vn"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{value!r} is not an origin: it carries credentials")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{value!r} is not an origin: an origin has no path, query or fragment")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValueError(f"{value!r} is not an origin: its host is not a valid DNS name") from error
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    canonical = f"{scheme}://{host}"
    if value != canonical:
        raise ValueError(f"{value!r} is not written as browsers send it; write {canonical}")
    return value


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    content_bucket: str = Field(min_length=3)
    site_bucket: str = Field(min_length=3)
    table_name: str = Field(min_length=3)
    site_url: str = Field(description="Public base URL of the site, without a trailing slash")
    site_name: str = "Presswire"
    site_description: str = "Tin tức"
    site_banner: str = ""
    site_sections: str = Field(default="", description="Comma-separated section names for the navigation")
    site_language: str = "vi"
    site_timezone: str = "Asia/Ho_Chi_Minh"
    feed_id_authority: str = Field(
        default="",
        description="DNS name used in tag: URIs (RFC 4151); defaults to the site URL's host",
    )
    feed_size: int = Field(default=50, ge=1, le=500)
    log_format: str = Field(default="json", pattern="^(json|text)$")
    preview_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    websub_hubs: str = Field(default="", description="Comma-separated WebSub hub URLs to ping")
    rights_holder: str = Field(default="", description="Copyright holder named in syndicated items")
    usage_terms: str = Field(default="", description="Usage terms for partners, in syndicated items")
    notify_queue_url: str = Field(default="", description="SQS queue of the notifier (webhooks, WebSub)")
    rebuild_queue_url: str = Field(default="", description="SQS queue of a full rebuild's shards")
    cors_allowed_origins: str = Field(
        default="",
        description="Comma-separated browser origins (https://cms.example.vn) that may call the API; "
        "empty: no CORS, so browsers refuse every other origin",
    )
    allow_private_webhooks: bool = Field(
        default=False,
        description="Let partner webhooks use plain http and reach private, loopback and link-local "
        "addresses: only for the local stack, whose partners listen on 127.0.0.1",
    )

    @field_validator("site_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("SITE_URL must be an absolute http(s) URL")
        return value.rstrip("/")

    @field_validator("cors_allowed_origins")
    @classmethod
    def _exact_origins(cls, value: str) -> str:
        if value:
            for origin in value.split(","):
                try:
                    cors_origin(origin)
                except ValueError as error:
                    raise ValueError(f"CORS_ALLOWED_ORIGINS: {error}") from error
        return value

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return tuple(value for value in self.cors_allowed_origins.split(",") if value)

    @property
    def tag_authority(self) -> str:
        """An ASCII DNS name for tag: URIs; IP addresses are not valid there, so they fall back."""
        if self.feed_id_authority:
            return self.feed_id_authority
        host = urlsplit(self.site_url).hostname or ""
        if not host or host.replace(".", "").isdigit() or ":" in host:
            return "presswire.localhost"
        return host.encode("idna").decode("ascii")


def settings_from_environment(environ: Mapping[str, str]) -> Settings:
    values = {field: environ[name] for name, field in ENVIRONMENT_VARIABLES.items() if environ.get(name)}
    return Settings.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from_environment(os.environ)
