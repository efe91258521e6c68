"""The storage layer's contract: logic depends on these, never on boto3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from functions.models.api import ApiKeyRecord
from functions.models.article import Article, ArticleRecord, ArticleStatus
from functions.models.site import Output


class SlugTaken(Exception):
    """The slug was reserved by another article between our check and our write."""


@dataclass(frozen=True, slots=True)
class StoredMedia:
    key: str
    content_type: str
    length: int


@dataclass(frozen=True, slots=True)
class StoredVersion:
    key: str
    version_id: str


class ArticleStore(Protocol):
    def put_canonical(self, article: Article) -> StoredVersion:
        """Store a revision of the canonical JSON; returns where it went."""
        ...

    def get_canonical(self, record: ArticleRecord) -> Article:
        """The canonical document at exactly the version the record points to."""
        ...

    def is_slug_free(self, slug: str) -> bool: ...

    def create_article(self, record: ArticleRecord) -> None:
        """Reserve the slug and create the item atomically; SlugTaken if the slug is gone."""
        ...

    def get_record(self, article_id: str) -> ArticleRecord | None: ...

    def list_timeline(
        self, status: ArticleStatus, limit: int, cursor: str | None = None
    ) -> tuple[list[ArticleRecord], str | None]:
        """Newest first by published_at; the cursor is opaque to callers."""
        ...


class KeyStore(Protocol):
    def get_api_key(self, key_hash: str) -> ApiKeyRecord | None: ...

    def put_api_key(self, record: ApiKeyRecord) -> None: ...


class MediaStore(Protocol):
    def put_media(self, key: str, body: bytes, content_type: str) -> StoredMedia: ...

    def head_media(self, key: str) -> StoredMedia | None: ...


class SiteStore(Protocol):
    def write_if_changed(self, output: Output) -> bool:
        """Upload unless an identical object is already there; True when written."""
        ...
