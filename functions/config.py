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
}


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    content_bucket: str = Field(min_length=3)
    site_bucket: str = Field(min_length=3)
    table_name: str = Field(min_length=3)
    site_url: str = Field(description="Public base URL of the site, without a trailing slash")
    site_name: str = "Presswire"
    site_description: str = "Tin tức"
    site_banner: str = ""
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

    @field_validator("site_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("SITE_URL must be an absolute http(s) URL")
        return value.rstrip("/")

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
