"""Request and response shapes of the HTTP API beyond the article itself."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from functions.models.article import Article, ArticleSummary

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


class ApiKeyRecord(BaseModel):
    """A stored key: only the SHA-256 of the secret is ever kept."""

    key_id: str
    key_hash: str
    role: Role
    name: str
    created_at: datetime
    revoked: bool = False
