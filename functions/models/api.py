"""Request and response shapes of the HTTP API beyond the article itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.models.article import EVENT_TYPES, Article, ArticleSummary, Delivery, EventType, Revision

Role = Literal["reporter", "editor", "partner", "admin"]


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


class ApiKeyRecord(BaseModel):
    """A stored key: only the SHA-256 of the secret is ever kept."""

    key_id: str
    key_hash: str
    role: Role
    name: str
    created_at: datetime
    revoked: bool = False


class PartnerRequest(BaseModel):
    """POST /partners: a webhook subscription."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str = Field(
        min_length=8, max_length=2_000, pattern=r"^https?://[^\s]+$", description="Where to POST events"
    )
    events: list[EventType] = Field(default_factory=lambda: list(EVENT_TYPES), min_length=1)
    sections: list[str] = Field(default_factory=list, max_length=50, description="Section slugs; empty: all")
    tags: list[str] = Field(default_factory=list, max_length=50, description="Tag slugs; empty: all")


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
