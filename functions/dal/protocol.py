"""The storage layer's contract: logic depends on these, never on boto3."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from functions.models.article import (
    Article,
    ArticleRecord,
    ArticleStatus,
    Delivery,
    MediaInfo,
    Partner,
    Preview,
    Revision,
)
from functions.models.feeds import RecentPublication
from functions.models.keys import ApiKeyRecord
from functions.models.site import Output


class SlugTaken(Exception):
    """The slug was reserved by another article between our check and our write."""


class ArticleVersionConflict(Exception):
    """Another change was committed since the article was read (its ETag moved)."""


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

    def get_canonical_version(self, article_id: str, key: str, version_id: str) -> Article: ...

    def is_slug_free(self, slug: str) -> bool: ...

    def create_article(self, record: ArticleRecord, revision: Revision, listings: list[str]) -> None:
        """Reserve the slug and create item, first revision and listings atomically (SlugTaken)."""
        ...

    def save_change(
        self,
        before: ArticleRecord,
        after: ArticleRecord,
        revision: Revision,
        listings_before: list[str],
        listings_after: list[str],
    ) -> None:
        """Commit a revision atomically, unless `before` is stale (ArticleVersionConflict)."""
        ...

    def get_record(self, article_id: str) -> ArticleRecord | None: ...

    def get_records(self, article_ids: Sequence[str]) -> list[ArticleRecord]:
        """The current records of these articles (those that exist), strongly consistent."""
        ...

    def next_sequence(self) -> int:
        """The next publication sequence number (pages the feed archive)."""
        ...

    def last_sequence(self) -> int: ...

    def archived_pages(self) -> int: ...

    def set_archived_pages(self, pages: int) -> None:
        """Record that pages 1..pages are written (never lowers it)."""
        ...

    def list_archive(self, first: int, last: int) -> list[ArticleRecord]:
        """Sequence numbers first..last, published or retracted, in sequence order."""
        ...

    def list_changes(
        self, *, cursor: str | None, since: datetime | None, until: datetime, limit: int
    ) -> tuple[list[Revision], str | None]:
        """Public changes oldest first; the cursor continues after the last one returned."""
        ...

    def list_revisions(self, article_id: str) -> list[Revision]: ...

    def get_revision(self, article_id: str, revision: int) -> Revision | None: ...

    def list_listing(
        self,
        listing_id: str,
        status: ArticleStatus,
        limit: int,
        cursor: str | None = None,
        *,
        published_before: datetime | None = None,
        published_since: datetime | None = None,
        section: str | None = None,
        author: str | None = None,
        oldest_first: bool = False,
    ) -> tuple[list[ArticleRecord], str | None]:
        """Newest first by published_at (oldest first if asked); the cursor is opaque to callers."""
        ...


class KeyStore(Protocol):
    def get_api_key(self, key_hash: str) -> ApiKeyRecord | None: ...

    def put_api_key(self, record: ApiKeyRecord) -> None: ...

    def list_api_keys(self) -> list[ApiKeyRecord]: ...

    def revoke_api_key(self, key_id: str) -> ApiKeyRecord: ...


class PreviewStore(Protocol):
    def put_preview(self, preview: Preview) -> None: ...

    def get_preview(self, token_hash: str) -> Preview | None: ...


class MediaStore(Protocol):
    def put_media(self, key: str, body: bytes, content_type: str) -> StoredMedia: ...

    def head_media(self, key: str) -> StoredMedia | None: ...

    def put_media_info(self, info: MediaInfo) -> None: ...

    def get_media_info(self, key: str) -> MediaInfo | None: ...

    def presign_media_upload(self, key: str, content_type: str, length: int, expires_in: int) -> str: ...


class SiteStore(Protocol):
    def write_if_changed(self, output: Output) -> bool:
        """Upload unless an identical object is already there; True when written."""
        ...

    def put_sitemap_month(self, year: int, month: int, lastmod: datetime, count: int) -> None: ...

    def list_sitemap_months(self) -> list[tuple[int, int, datetime, int]]: ...

    def forget_site_outputs(self) -> None:
        """Forget what this process knows the site bucket holds: the next write of each output
        compares with the bucket itself."""
        ...

    def acquire_site_lease(
        self, owner: str, now: datetime, until: datetime
    ) -> list[RecentPublication] | None:
        """The lease on the site's shared outputs and the records lately published under it, or
        None while another holder's lease runs."""
        ...

    def release_site_lease(self, owner: str, recent: Sequence[RecentPublication]) -> bool: ...


class RebuildStore(Protocol):
    """A full rebuild's plan and checkpoint (item REBUILD#<id>) and its shard queue."""

    def put_rebuild(self, rebuild_id: str, plan: dict[str, Any], shards: int) -> None: ...

    def get_rebuild(self, rebuild_id: str) -> tuple[dict[str, Any], int, bool] | None: ...

    def record_rebuild_shard(
        self, rebuild_id: str, run: str, shard: int, result: dict[str, Any], expires_at: datetime
    ) -> int | None:
        """Count a finished shard once: the shards still to render, or None if counted already."""
        ...

    def list_rebuild_shards(self, rebuild_id: str, run: str) -> list[dict[str, Any]]: ...

    def finish_rebuild(self, rebuild_id: str) -> None: ...

    def send_rebuild_shards(self, queue_url: str, messages: Sequence[dict[str, Any]]) -> None: ...


class NotificationStore(Protocol):
    def send_notification(self, message: dict[str, Any], delay_seconds: int = 0) -> None: ...

    def postpone_notification(self, receipt_handle: str, seconds: int) -> None: ...

    def put_pending_notification(self, article_id: str, revision: int, release_at: datetime) -> None: ...

    def due_pending_notifications(self, now: datetime) -> list[tuple[str, int]]: ...

    def delete_pending_notification(self, article_id: str, revision: int) -> None: ...


class PartnerStore(Protocol):
    def put_partner(self, partner: Partner) -> None: ...

    def get_partner(self, partner_id: str) -> Partner | None: ...

    def list_partners(self) -> list[Partner]: ...

    def delete_partner(self, partner_id: str) -> None: ...

    def put_delivery(self, delivery: Delivery) -> None: ...

    def list_deliveries(self, partner_id: str, limit: int) -> list[Delivery]: ...
