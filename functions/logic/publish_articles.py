"""Turn committed article changes into the public site: pages, listings and feeds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from functions.dal.protocol import ArticleStore, SiteStore
from functions.logic.listings import HOME, Listing, listings_of
from functions.models.article import Article, ArticleRecord
from functions.models.paths import ATOM_PATH, NOT_FOUND_KEY, RSS_PATH, page_key
from functions.models.site import Output, Site
from functions.observability import logger, metrics
from functions.render.feeds import render_atom, render_rss
from functions.render.pages import (
    render_article_page,
    render_home_page,
    render_listing_page,
    render_not_found_page,
    render_retraction_page,
)

HTML = "text/html; charset=utf-8"
PAGE_CACHE = "public, max-age=60, s-maxage=60"
FEED_CACHE = "public, max-age=60, s-maxage=60"
GONE = 410
FEED_KEYS = frozenset({page_key(RSS_PATH), page_key(ATOM_PATH)})


class PublishStore(ArticleStore, SiteStore, Protocol):
    pass


@dataclass(frozen=True, slots=True)
class ArticleChange:
    """One committed change, as the stream delivers it: the item before (if any) and after."""

    before: ArticleRecord | None
    after: ArticleRecord


@dataclass
class PublishReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _write(store: SiteStore, output: Output, report: PublishReport) -> None:
    if store.write_if_changed(output):
        report.written.append(output.key)
    else:
        report.unchanged.append(output.key)


def newest_first(records: Iterable[ArticleRecord]) -> list[ArticleRecord]:
    return sorted(records, key=lambda record: (record.published_at, record.id), reverse=True)


def latest_revisions(changes: Iterable[ArticleChange]) -> list[ArticleChange]:
    """One change per article: the oldest `before` and the newest `after` of a batch."""
    merged: dict[str, ArticleChange] = {}
    for change in changes:
        seen = merged.get(change.after.id)
        if seen is None:
            merged[change.after.id] = change
        elif change.after.revision >= seen.after.revision:
            merged[change.after.id] = ArticleChange(seen.before, change.after)
    return list(merged.values())


def publish_article(change: ArticleChange, store: PublishStore, site: Site, report: PublishReport) -> None:
    """The article's own page: the article when published, a retraction notice (410) when
    retracted, nothing while it is a draft or scheduled (never public)."""
    record = change.after
    if record.status not in ("published", "retracted"):
        return
    with logger.append_context_keys(article_id=record.id):
        article = store.get_canonical(record)
        if record.status == "published":
            page = Output(
                page_key(article.path), render_article_page(article, site).encode(), HTML, PAGE_CACHE
            )
        else:
            page = Output(
                page_key(article.path), render_retraction_page(article, site).encode(), HTML, PAGE_CACHE, GONE
            )
        _write(store, page, report)
        logger.info("article page rendered", extra={"path": article.path, "status": record.status})


def affected_listings(changes: Iterable[ArticleChange]) -> list[Listing]:
    """The listings an article is or was in, when it is or was public: a draft's edits touch none."""
    affected: dict[str, Listing] = {}
    for change in changes:
        for record in (change.before, change.after):
            if record is not None and (
                change.after.status == "published"
                or (change.before is not None and change.before.status == "published")
            ):
                affected.update((listing.id, listing) for listing in listings_of(record))
    return list(affected.values())


def latest_published(
    store: ArticleStore, listing: Listing, changes: Sequence[ArticleChange], limit: int
) -> list[ArticleRecord]:
    """The listing's newest published articles, with this batch merged in: the index lags the table."""
    indexed, _ = store.list_listing(listing.id, "published", limit)
    changed_ids = {change.after.id for change in changes}
    merged = [record for record in indexed if record.id not in changed_ids]
    merged += [
        change.after
        for change in changes
        if change.after.status == "published"
        and listing.id in {item.id for item in listings_of(change.after)}
    ]
    return newest_first(merged)[:limit]


def publish_listings(
    changes: Sequence[ArticleChange],
    store: PublishStore,
    site: Site,
    report: PublishReport,
    *,
    always: Iterable[Listing] = (),
) -> None:
    """Each affected listing page once per batch; the home listing also drives the feeds."""
    listings = {listing.id: listing for listing in [*affected_listings(changes), *always]}
    for listing in listings.values():
        latest = latest_published(store, listing, changes, site.feed_size)
        if listing == HOME:
            _write(
                store, Output("index.html", render_home_page(latest, site).encode(), HTML, PAGE_CACHE), report
            )
            _write(
                store, Output(NOT_FOUND_KEY, render_not_found_page(site).encode(), HTML, PAGE_CACHE), report
            )
            articles: list[Article] = [store.get_canonical(record) for record in latest]
            rss, atom = render_rss(articles, site), render_atom(articles, site)
            _write(
                store,
                Output(page_key(RSS_PATH), rss, "application/rss+xml; charset=utf-8", FEED_CACHE),
                report,
            )
            _write(
                store,
                Output(page_key(ATOM_PATH), atom, "application/atom+xml; charset=utf-8", FEED_CACHE),
                report,
            )
        else:
            page = render_listing_page(listing.kind, listing.name, listing.slug, latest, site)
            _write(store, Output(page_key(listing.path), page.encode(), HTML, PAGE_CACHE), report)


def record_report(report: PublishReport, changes: Sequence[ArticleChange]) -> None:
    feeds_written = sum(1 for key in report.written if key in FEED_KEYS)
    metrics.add_metric(name="PagesWritten", unit="Count", value=len(report.written) - feeds_written)
    metrics.add_metric(name="FeedsWritten", unit="Count", value=feeds_written)
    metrics.add_metric(name="OutputsUnchanged", unit="Count", value=len(report.unchanged))
    logger.info(
        "site updated",
        extra={
            "articles": [change.after.id for change in changes],
            "written": report.written,
            "unchanged": len(report.unchanged),
        },
    )


def publish_changes(
    changes: Sequence[ArticleChange], store: PublishStore, site: Site, *, always: Iterable[Listing] = ()
) -> PublishReport:
    """Idempotent: replaying the same changes rewrites nothing (unchanged outputs are skipped)."""
    report = PublishReport()
    merged = latest_revisions(changes)
    for change in merged:
        publish_article(change, store, site, report)
    publish_listings(merged, store, site, report, always=always)
    record_report(report, merged)
    return report


def rebuild_front(store: PublishStore, site: Site) -> PublishReport:
    """The home page, the feeds and the 404 page from the store alone (also with no articles yet)."""
    return publish_changes([], store, site, always=[HOME])
