"""Reading articles back: through the API, one, one revision, its history, listings; and an article
as it stood at a given revision (the change feed and the notifier)."""

from __future__ import annotations

from datetime import datetime

from functions.dal.protocol import ArticleStore
from functions.logic.listings import HOME, Listing
from functions.models.article import Article, ArticleRecord, ArticleStatus, ArticleSummary, Revision
from functions.models.errors import ArticleNotFound, Forbidden
from functions.models.keys import ApiKeyRecord


def visible_to(principal: ApiKeyRecord, article: ArticleSummary, now: datetime) -> bool:
    """Partners see published articles once any embargo has passed; the newsroom sees everything."""
    if principal.role != "partner":
        return True
    return article.status == "published" and (article.embargo_until is None or article.embargo_until <= now)


def get_article(
    store: ArticleStore, principal: ApiKeyRecord, article_id: str, now: datetime, revision: int | None = None
) -> tuple[ArticleRecord, Article]:
    record = store.get_record(article_id)
    if record is None or not visible_to(principal, record, now):
        raise ArticleNotFound(f"there is no article with id {article_id}", field="id")
    if revision is None or revision == record.revision:
        return record, store.get_canonical(record)
    if principal.role == "partner":
        raise Forbidden("partners see the current version only", field="version")
    found = store.get_revision(article_id, revision)
    if found is None:
        raise ArticleNotFound(f"article {article_id} has no revision {revision}", field="version")
    return record, store.get_canonical_version(article_id, record.content_key, found.version_id)


def list_revisions(store: ArticleStore, principal: ApiKeyRecord, article_id: str) -> list[Revision]:
    if principal.role == "partner":
        raise Forbidden("partners see the current version only")
    if store.get_record(article_id) is None:
        raise ArticleNotFound(f"there is no article with id {article_id}", field="id")
    return store.list_revisions(article_id)


def list_articles(
    store: ArticleStore,
    principal: ApiKeyRecord,
    *,
    status: ArticleStatus,
    limit: int,
    cursor: str | None,
    section: str | None,
    tag: str | None,
    author: str | None,
    now: datetime,
) -> tuple[list[ArticleRecord], str | None]:
    """One Query on the listings index: the tag's listing when filtering by tag, else the section's,
    the author's or home; the remaining filters apply inside that Query."""
    if principal.role == "partner" and status != "published":
        raise Forbidden("partner keys see published articles only", field="status")
    # The most selective listing is queried; the other filters apply within that Query.
    if tag:
        listing, section_filter, author_filter = Listing("tag", tag), section, author
    elif section:
        listing, section_filter, author_filter = Listing("section", section), None, author
    elif author:
        listing, section_filter, author_filter = Listing("author", author), None, None
    else:
        listing, section_filter, author_filter = HOME, None, None
    records, next_cursor = store.list_listing(
        listing.id, status, limit, cursor, section=section_filter, author=author_filter
    )
    return [record for record in records if visible_to(principal, record, now)], next_cursor


def article_at(store: ArticleStore, article_id: str, revision: int) -> Article:
    """The canonical article as it stood at `revision`; ArticleNotFound if it or the revision is gone."""
    record = store.get_record(article_id)
    if record is None:
        raise ArticleNotFound(f"article {article_id} is gone")
    if record.revision == revision:
        return store.get_canonical(record)
    found = store.get_revision(article_id, revision)
    if found is None:
        raise ArticleNotFound(f"article {article_id} has no revision {revision}")
    return store.get_canonical_version(article_id, record.content_key, found.version_id)
