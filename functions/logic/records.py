"""The article's derived bookkeeping: its DynamoDB record, ETag, status from time, listings."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from functions.dal.aws import canonical_bytes
from functions.dal.protocol import StoredVersion
from functions.dal.schema import ARCHIVE_LISTING
from functions.logic.listings import listings_of
from functions.models.article import Article, ArticleRecord, ArticleStatus, ArticleSummary
from functions.models.site import Site


def entity_tag(article: Article) -> str:
    return '"' + hashlib.sha256(canonical_bytes(article)).hexdigest()[:32] + '"'


def record_for(article: Article, stored: StoredVersion) -> ArticleRecord:
    summary = article.model_dump(include=set(ArticleSummary.model_fields))
    return ArticleRecord(
        **summary, content_key=stored.key, content_version=stored.version_id, etag=entity_tag(article)
    )


def in_utc(moment: datetime | None, site: Site) -> datetime | None:
    """A time without offset is the site's local time (as the API documents)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=site.zone)
    return moment.astimezone(UTC)


def status_at(published_at: datetime, now: datetime) -> ArticleStatus:
    return "published" if published_at <= now else "scheduled"


def listing_ids(record: ArticleSummary) -> list[str]:
    """Every listing item the article has: its pages' listings, and the feed archive once sequenced."""
    return [listing.id for listing in listings_of(record)] + ([ARCHIVE_LISTING] if record.sequence else [])


def partner_visibility(status_before: str, after: Article, now: datetime) -> datetime | None:
    """When partners may see this change: published articles' changes (and the retraction of a
    published one), not before any embargo; None for changes partners never see (drafts)."""
    public = after.status == "published" or (after.status == "retracted" and status_before == "published")
    if not public:
        return None
    return max(now, after.embargo_until) if after.embargo_until else now
