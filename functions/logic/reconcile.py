"""Re-derive the public site from the canonical store (`presswire reconcile`; daily on AWS).

The publisher follows the table's stream, so an output goes missing or stale only when a stream
batch was given up on and not redriven while the stream kept it (24 hours), when an object in the
site bucket was deleted or overwritten by hand, or when a publish raced another. Reconcile renders
every output again through the publisher's own functions and writes exactly those whose bytes
differ from what the site bucket holds, so a second run writes nothing.

It pages through the published and retracted articles of the home listing, one batch at a time:
memory is bounded by a batch and by the publisher's own bounds (a listing's feed size, a month's
sitemap, an archive page). It sends no notifications: a re-derived output is not news.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from functions.logic.changes import ArticleChange
from functions.logic.listings import HOME, Listing, listings_of
from functions.logic.publish_articles import (
    PublishReport,
    PublishStore,
    overlay_of,
    publish_article,
    rebuild_front,
    regenerate_listings,
)
from functions.logic.site_lease import site_lease
from functions.models.article import ArticleRecord, ArticleStatus
from functions.models.paths import NOT_FOUND_KEY, ROBOTS_PATH, page_key
from functions.models.site import Site
from functions.observability import logger, metrics

# The stream's batch size: the publisher's per-invocation work is proven at this size.
BATCH_SIZE = 100
# An article edited this many times while its page was being re-rendered is left to the
# publisher, whose writes follow every commit.
MAX_PAGE_ROUNDS = 5
# The report lists at most this many keys (the counts stay exact).
MAX_LISTED_KEYS = 1000
PUBLIC_STATUSES: tuple[ArticleStatus, ...] = ("published", "retracted")

OutputKind = Literal[
    "article page", "retraction page", "listing page", "feed", "archive page", "sitemap", "other"
]
KIND_ORDER: tuple[OutputKind, ...] = (
    "article page",
    "retraction page",
    "listing page",
    "feed",
    "archive page",
    "sitemap",
    "other",
)


def output_kind(key: str, article_pages: dict[str, OutputKind]) -> OutputKind:
    if key in article_pages:
        return article_pages[key]
    if key.startswith("feeds/archive/"):
        return "archive page"
    if key.startswith("feeds/"):
        return "feed"
    if key.startswith("sitemap"):
        return "sitemap"
    if key in (NOT_FOUND_KEY, page_key(ROBOTS_PATH)):
        return "other"
    return "listing page"


@dataclass
class ReconcileReport:
    """What one run checked and fixed. Counts are exact; `fixed_keys` lists the first keys."""

    articles: int = 0
    checked: int = 0
    fixed: Counter[OutputKind] = field(default_factory=Counter)
    fixed_keys: list[str] = field(default_factory=list)
    # Shared outputs (listings, feeds, archive, sitemaps) are rendered once per batch: count each
    # once. Bounded by the number of listings, archive pages and months, not of articles.
    _shared_checked: set[str] = field(default_factory=set, repr=False)
    _shared_fixed: set[str] = field(default_factory=set, repr=False)

    @property
    def fixed_total(self) -> int:
        return sum(self.fixed.values())

    def absorb(self, published: PublishReport, article_pages: dict[str, OutputKind]) -> None:
        # A key twice: a page rendered again after a change landed, or an output shared by
        # several batches rewritten by a later one; it was checked, and fixed, once.
        for key in dict.fromkeys([*published.unchanged, *published.written]):
            self._check(key, article_pages)
        for key in dict.fromkeys(published.written):
            if key not in article_pages:
                if key in self._shared_fixed:
                    continue
                self._shared_fixed.add(key)
            self.fixed[output_kind(key, article_pages)] += 1
            if len(self.fixed_keys) < MAX_LISTED_KEYS:
                self.fixed_keys.append(key)

    def _check(self, key: str, article_pages: dict[str, OutputKind]) -> None:
        if key in article_pages:
            self.checked += 1
        elif key not in self._shared_checked:
            self._shared_checked.add(key)
            self.checked += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "checked": self.checked,
            "fixed": self.fixed_total,
            "fixed_by_kind": {kind: self.fixed[kind] for kind in KIND_ORDER if self.fixed[kind]},
            "fixed_keys": self.fixed_keys,
        }

    def summary(self) -> str:
        """One line: what was checked, and what was fixed."""
        articles = f"{self.articles} article{'' if self.articles == 1 else 's'}"
        head = f"reconciled {articles}, {self.checked} outputs: "
        if not self.fixed_total:
            return head + "nothing to fix"
        kinds = ", ".join(
            f"{self.fixed[kind]} {kind}{'s' if self.fixed[kind] > 1 else ''}"
            for kind in KIND_ORDER
            if self.fixed[kind]
        )
        more = self.fixed_total - len(self.fixed_keys)
        keys = ", ".join(self.fixed_keys) + (f" and {more} more" if more > 0 else "")
        return head + f"fixed {self.fixed_total} ({kinds}): {keys}"


def reconcile(store: PublishStore, site: Site) -> ReconcileReport:
    """Check every output against the canonical store; write those missing or stale."""
    # A warm container remembers what it wrote yesterday: compare with the bucket itself.
    store.forget_site_outputs()
    report = ReconcileReport()
    # The front page, feeds, 404 and robots.txt exist even on a site without articles.
    report.absorb(rebuild_front(store, site), {})
    for status in PUBLIC_STATUSES:
        cursor: str | None = None
        while True:
            listed, cursor = store.list_listing(HOME.id, status, BATCH_SIZE, cursor)
            reconcile_batch([record.id for record in listed], store, site, report)
            if cursor is None:
                break
    metrics.add_metric(name="OutputsReconciled", unit="Count", value=report.fixed_total)
    logger.info("site reconciled", extra=report.as_dict())
    return report


def reconcile_batch(
    article_ids: Sequence[str], store: PublishStore, site: Site, report: ReconcileReport
) -> None:
    """The batch's article pages, then every listing, archive page and sitemap they belong to."""
    published = PublishReport()
    article_pages: dict[str, OutputKind] = {}
    records: list[ArticleRecord] = []
    for article_id in article_ids:
        record = settled_page(article_id, store, site, published)
        if record is not None:
            records.append(record)
            article_pages[page_key(record.path)] = (
                "article page" if record.status == "published" else "retraction page"
            )
    report.articles += len(records)
    if records:
        changes = [ArticleChange(None, record) for record in records]
        # Every listing the batch's articles are in, a retracted one's too: its listings must not
        # show it any more.
        listings: dict[str, Listing] = {
            listing.id: listing for record in records for listing in listings_of(record)
        }
        # The lease orders this regeneration with the publisher's. The batch is not news, so it
        # is not added to the lease's lately published records (which the index already has).
        with site_lease(store, []) as known:
            regenerate_listings(changes, listings, store, site, published, overlay_of(changes, known))
    report.absorb(published, article_pages)


def settled_page(
    article_id: str, store: PublishStore, site: Site, published: PublishReport
) -> ArticleRecord | None:
    """Render the article's page from its record (read strongly consistently), then read the
    record again: if a change landed meanwhile, the publisher may have written the newer page
    before this one, so render again. The last write is then of a revision that was still
    current after it, and every later change is published after it."""
    record = store.get_record(article_id)
    for _ in range(MAX_PAGE_ROUNDS):
        if record is None or record.status not in PUBLIC_STATUSES:
            return None
        publish_article(ArticleChange(None, record), store, site, published)
        current = store.get_record(article_id)
        if current is not None and current.revision == record.revision:
            return record
        record = current
    logger.warning("article kept changing while reconciled; left to the publisher", extra={"id": article_id})
    return record if record is not None and record.status in PUBLIC_STATUSES else None
