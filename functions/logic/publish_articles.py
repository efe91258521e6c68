"""Turn committed article changes into the public site: pages, listings and feeds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from functions import clock
from functions.dal.protocol import ArticleStore, SiteStore
from functions.logic.changes import ArticleChange, latest_revisions
from functions.logic.listings import HOME, Listing, listings_of
from functions.logic.site_lease import RECENT_WINDOW, newest_revisions, site_lease
from functions.models.article import Article, ArticleRecord, RevisionAction
from functions.models.feeds import SITE_FEED, ArchiveLinks, FeedSpec, Tombstone
from functions.models.paths import (
    ATOM_PATH,
    FEED_TYPES,
    NEWS_SITEMAP_PATH,
    NOT_FOUND_KEY,
    ROBOTS_PATH,
    SITEMAP_PATH,
    FeedFormat,
    archive_path,
    listing_month_path,
    month_bounds,
    page_key,
    sitemap_month_path,
)
from functions.models.site import Output, Site
from functions.observability import logger, metrics
from functions.render.assets import asset_outputs
from functions.render.feed_set import render_feed_set
from functions.render.feeds import entry_id, render_atom
from functions.render.pages import (
    render_article_page,
    render_home_page,
    render_listing_page,
    render_month_page,
    render_not_found_page,
    render_retraction_page,
)
from functions.render.sitemaps import (
    MAX_NEWS_URLS,
    NEWS_WINDOW,
    ROBOTS_CONTENT_TYPE,
    SITEMAP_CONTENT_TYPE,
    SitemapMonth,
    render_news_sitemap,
    render_robots,
    render_sitemap_index,
    render_sitemap_month,
    sitemap_month_of,
)

HTML = "text/html; charset=utf-8"
PAGE_CACHE = "public, max-age=60, s-maxage=60"
FEED_CACHE = "public, max-age=60, s-maxage=60"
# Full archive pages never change again (a retraction aside): cache them for a year.
ARCHIVE_CACHE = "public, max-age=31536000, immutable"
ARCHIVE_PAGE_SIZE = 50
SITEMAP_TYPE = f"{SITEMAP_CONTENT_TYPE}; charset=utf-8"
GONE = 410


class PublishStore(ArticleStore, SiteStore, Protocol):
    pass


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


def publish_assets(store: SiteStore, report: PublishReport) -> None:
    """The stylesheet and icon the pages name, under their hashed names: after a deployment that
    changed them, before the first page that names the new ones (free when warm: see _write)."""
    for asset in asset_outputs():
        _write(store, asset, report)


def publish_article(change: ArticleChange, store: PublishStore, site: Site, report: PublishReport) -> None:
    """The article's own page: the article when published, a retraction notice (410) when
    retracted, nothing while it is a draft or scheduled (never public)."""
    record = change.after
    if record.status not in ("published", "retracted"):
        return
    with logger.append_context_keys(article_id=record.id):
        article = store.get_canonical(record)
        if record.status == "published":
            body = render_article_page(article, site, related_articles(store, record))
            page = Output(page_key(article.path), body.encode(), HTML, PAGE_CACHE)
        else:
            page = Output(
                page_key(article.path), render_retraction_page(article, site).encode(), HTML, PAGE_CACHE, GONE
            )
        _write(store, page, report)
        logger.info("article page rendered", extra={"path": article.path, "status": record.status})


RELATED_COUNT = 4


def related_articles(store: ArticleStore, record: ArticleRecord) -> list[ArticleRecord]:
    """The articles of its section published just before it: unlike the section's newest, they
    do not change with every later article, so neither does the page."""
    section = Listing("section", record.section.slug, record.section.name)
    found, _ = store.list_listing(
        section.id, "published", RELATED_COUNT + 1, published_before=record.published_at - _INSTANT
    )
    return [item for item in found if item.id != record.id][:RELATED_COUNT]


def _was_public(change: ArticleChange) -> bool:
    """Whether the article is or may have been public: a retraction always follows a publication,
    which a batch's merged change (create -> retract) may no longer show, though a regeneration
    (another article's, reconcile's) may have listed it in between."""
    return change.after.status in ("published", "retracted") or (
        change.before is not None and change.before.status == "published"
    )


def affected_listings(changes: Iterable[ArticleChange]) -> list[Listing]:
    """The listings an article is or was in, when it is or was public: a draft's edits touch none."""
    affected: dict[str, Listing] = {}
    for change in changes:
        for record in (change.before, change.after):
            if record is not None and _was_public(change):
                affected.update((listing.id, listing) for listing in listings_of(record))
    return list(affected.values())


# The actions after which an article may have no public page yet: its page is written by that
# commit's own stream record, which may be in a later batch, or failing.
_FIRST_SHOWN: frozenset[RevisionAction] = frozenset({"create", "publish", "reinstate"})


def _unsettled(
    record: ArticleRecord, overlay: Mapping[str, ArticleRecord], settled_before: datetime | None
) -> bool:
    return (
        settled_before is not None
        and record.id not in overlay
        and record.last_action in _FIRST_SHOWN
        # A backdated create carries its publication date as updated_at; created_at is its commit.
        and max(record.updated_at, record.created_at) > settled_before
    )


def merge_records(
    indexed: Sequence[ArticleRecord],
    overlay: Mapping[str, ArticleRecord],
    listing: Listing,
    settled_before: datetime | None = None,
) -> list[ArticleRecord]:
    """What the index returned, corrected by the records this regeneration knows to be newer
    (its batch's own and those lately published): the index lags the table. With
    `settled_before`, an article the index holds but no regeneration has published, first shown
    by a commit since then, is left out: its page may not exist yet, and its own batch lists it."""
    kept = [
        record
        for record in indexed
        if (record.id not in overlay or record.revision > overlay[record.id].revision)
        and not _unsettled(record, overlay, settled_before)
    ]
    kept_ids = {record.id for record in kept}
    kept += [
        record
        for record in overlay.values()
        if record.id not in kept_ids
        and record.status == "published"
        and listing.id in {item.id for item in listings_of(record)}
    ]
    return newest_first(kept)


def overlay_of(changes: Sequence[ArticleChange], known: Iterable[ArticleRecord]) -> dict[str, ArticleRecord]:
    return newest_revisions([*known, *(change.after for change in changes)])


def latest_published(
    store: ArticleStore,
    listing: Listing,
    overlay: Mapping[str, ArticleRecord],
    limit: int,
    settled_before: datetime | None = None,
) -> list[ArticleRecord]:
    """The listing's newest published articles, this regeneration's known records included."""
    indexed, _ = store.list_listing(listing.id, "published", limit)
    return merge_records(indexed, overlay, listing, settled_before)[:limit]


def publish_listings(
    changes: Sequence[ArticleChange],
    store: PublishStore,
    site: Site,
    report: PublishReport,
    *,
    always: Iterable[Listing] = (),
    settle: bool = True,
) -> None:
    """Each affected listing's page and its three feeds, once per batch, the site's own first
    (readers and partners watch those); then the Atom archive, sitemaps, robots.txt and 404 (the
    archive pages first when the batch completes one, which the site's Atom feed links to).
    Under the site lease: one regeneration at a time, never older than the one before."""
    listings = {listing.id: listing for listing in [*affected_listings(changes), *always]}
    if not listings:
        return
    with site_lease(store, [change.after for change in changes]) as known:
        # The lease's memory of what was published reaches back RECENT_WINDOW: a commit older
        # than that which first showed an article has had its page written (or reconcile will).
        settled_before = clock.utc_now() - RECENT_WINDOW if settle else None
        regenerate_listings(
            changes, listings, store, site, report, overlay_of(changes, known), settled_before
        )


def regenerate_listings(
    changes: Sequence[ArticleChange],
    listings: Mapping[str, Listing],
    store: PublishStore,
    site: Site,
    report: PublishReport,
    overlay: Mapping[str, ArticleRecord],
    settled_before: datetime | None = None,
    months: Mapping[str, Iterable[tuple[int, int]]] | None = None,
) -> None:
    """With `settled_before` (the publisher's), articles first shown since then that this
    regeneration does not know are left out of listings, feeds and the news sitemap (see
    merge_records); reconcile and rebuild check every page themselves and pass none.
    `months`: the month pages to write per listing id; by default those the changes touch."""
    ordered = sorted(listings.values(), key=lambda listing: listing != HOME)
    complete = written = 0
    archive_first = False
    if HOME.id in listings:
        complete, written = archive_progress(store)
        if complete > written:
            # Archive pages this batch completes go first: the head feed, which links to the newest
            # page already written (never to one in the making), is then written once, not once
            # before them and again after.
            publish_archive(changes, store, site, report, overlay, progress=(complete, written))
            written, archive_first = complete, True
    head = ArchiveLinks(prev_archive=archive_path(written) if written else None)
    months = months if months is not None else months_touched(changes, listings.values(), site)
    for listing in ordered:
        # One more than a page holds: whether there are older articles, and in which month.
        latest = latest_published(store, listing, overlay, site.feed_size + 1, settled_before)
        shown, older = latest[: site.feed_size], latest[site.feed_size :]
        articles: list[Article] = [store.get_canonical(record) for record in shown]
        older_month = sitemap_month_of(older[0], site) if older else None
        if listing == HOME:
            page = render_home_page(shown, site, older=older_month)
        else:
            page = render_listing_page(
                listing.kind, listing.name, listing.slug, shown, site, older=older_month
            )
        _write(store, Output(page_key(listing.path), page.encode(), HTML, PAGE_CACHE), report)
        feed = FeedSpec(listing.kind, listing.slug, listing.name)
        archive = head if listing == HOME else None
        _write_feeds(store, report, feed, render_feed_set(articles, site, feed, archive))
        publish_listing_months(
            listing, months.get(listing.id, ()), changes, store, site, report, overlay, settled_before
        )
    if HOME.id not in listings:
        return
    if not archive_first:
        # Only pages already complete, holding a corrected or retracted article: the head's link
        # does not move.
        publish_archive(changes, store, site, report, overlay, progress=(complete, written))
    publish_assets(store, report)
    _write(store, Output(NOT_FOUND_KEY, render_not_found_page(site).encode(), HTML, PAGE_CACHE), report)
    _write(store, Output(page_key(ROBOTS_PATH), render_robots(site), ROBOTS_CONTENT_TYPE, PAGE_CACHE), report)
    publish_sitemaps(changes, store, site, report, overlay, settled_before)


def _write_feeds(
    store: SiteStore, report: PublishReport, feed: FeedSpec, bodies: dict[FeedFormat, bytes]
) -> None:
    for fmt, body in bodies.items():
        output = Output(page_key(feed.path(fmt)), body, f"{FEED_TYPES[fmt]}; charset=utf-8", FEED_CACHE)
        _write(store, output, report)


# -- month pages: each listing's older articles --------------------------------------------------
#
# A listing's page shows its newest articles and links to the month of the next older one; each
# month page lists that month's articles and links to the nearest older and newer months that have
# any. Pages numbered from the newest would all shift on every publish; a month's page changes only
# when one of its own articles does, so a publish writes one per listing, whatever the archive.


def months_touched(
    changes: Iterable[ArticleChange], listings: Iterable[Listing], site: Site
) -> dict[str, set[tuple[int, int]]]:
    """Per listing id, the months an article of the changes is or was public in."""
    wanted = {listing.id for listing in listings}
    months: dict[str, set[tuple[int, int]]] = {}
    for change in changes:
        for record in (change.before, change.after):
            # A retracted record stands for the publication before it (see _was_public).
            if record is None or record.status not in ("published", "retracted"):
                continue
            for listing in listings_of(record):
                if listing.id in wanted:
                    months.setdefault(listing.id, set()).add(sitemap_month_of(record, site))
    return months


def publish_listing_months(
    listing: Listing,
    months: Iterable[tuple[int, int]],
    changes: Sequence[ArticleChange],
    store: PublishStore,
    site: Site,
    report: PublishReport,
    overlay: Mapping[str, ArticleRecord],
    settled_before: datetime | None = None,
) -> None:
    """Each given month page of the listing; a month that gained its first article or lost its
    last changes its neighbours' links, so their pages are written too (each page once)."""
    done: set[tuple[int, int]] = set()
    neighbours: set[tuple[int, int]] = set()
    for year, month in sorted(months):
        records, older, newer = _write_month_page(
            listing, year, month, store, site, report, overlay, settled_before
        )
        done.add((year, month))
        arrived = _arrivals(changes, listing, (year, month), site)
        if not records or {record.id for record in records} <= arrived:
            neighbours.update(found for found in (older, newer) if found is not None)
    for year, month in sorted(neighbours - done):
        _write_month_page(listing, year, month, store, site, report, overlay, settled_before)


def _arrivals(
    changes: Iterable[ArticleChange], listing: Listing, month: tuple[int, int], site: Site
) -> set[str]:
    """The articles the changes brought into the listing's month (not there before them)."""

    def inside(record: ArticleRecord | None) -> bool:
        return (
            record is not None
            and record.status == "published"
            and sitemap_month_of(record, site) == month
            and listing.id in {item.id for item in listings_of(record)}
        )

    return {change.after.id for change in changes if inside(change.after) and not inside(change.before)}


def _write_month_page(
    listing: Listing,
    year: int,
    month: int,
    store: PublishStore,
    site: Site,
    report: PublishReport,
    overlay: Mapping[str, ArticleRecord],
    settled_before: datetime | None,
) -> tuple[list[ArticleRecord], tuple[int, int] | None, tuple[int, int] | None]:
    start, end = month_bounds(year, month, site.zone)
    records = [
        record
        for record in merge_records(
            all_published_between(store, start, end, listing.id), overlay, listing, settled_before
        )
        if start <= record.published_at <= end
    ]
    older = _neighbour_month(store, listing, site, overlay, settled_before, before=start)
    newer = _neighbour_month(store, listing, site, overlay, settled_before, after=end)
    page = render_month_page(
        listing.kind, listing.name, listing.slug, (year, month), records, site, older=older, newer=newer
    )
    path = listing_month_path(listing.kind, listing.slug, year, month)
    _write(store, Output(page_key(path), page.encode(), HTML, PAGE_CACHE), report)
    return records, older, newer


def _neighbour_month(
    store: ArticleStore,
    listing: Listing,
    site: Site,
    overlay: Mapping[str, ArticleRecord],
    settled_before: datetime | None,
    *,
    before: datetime | None = None,
    after: datetime | None = None,
) -> tuple[int, int] | None:
    """The month of the listing's nearest published article before `before` or after `after`."""
    # Enough records that one survives even if the known records took all the others down.
    unpublished = sum(1 for record in overlay.values() if record.status != "published")
    if before is not None:
        found, _ = store.list_listing(
            listing.id, "published", unpublished + 1, published_before=before - _INSTANT
        )
        candidates = [
            record
            for record in merge_records(found, overlay, listing, settled_before)
            if record.published_at < before
        ]
        nearest = candidates[0] if candidates else None
    else:
        assert after is not None
        found, _ = store.list_listing(
            listing.id, "published", unpublished + 1, published_since=after + _INSTANT, oldest_first=True
        )
        candidates = [
            record
            for record in merge_records(found, overlay, listing, settled_before)
            if record.published_at > after
        ]
        nearest = candidates[-1] if candidates else None
    return sitemap_month_of(nearest, site) if nearest is not None else None


_INSTANT = timedelta(microseconds=1)


# -- the Atom feed's archive (RFC 5005) ------------------------------------------------------


def archive_progress(store: ArticleStore) -> tuple[int, int]:
    """(complete, written): the archive pages the sequence counter has filled, and how many have
    been written (the head feed links only to those)."""
    # Sequence numbers are given before their commits land: a page counts as complete once the
    # counter is past it; articles of it still in flight re-render it when their change arrives.
    return store.last_sequence() // ARCHIVE_PAGE_SIZE, store.archived_pages()


def archive_page_of(sequence: int) -> int:
    return (sequence - 1) // ARCHIVE_PAGE_SIZE + 1


def publish_archive(
    changes: Sequence[ArticleChange],
    store: PublishStore,
    site: Site,
    report: PublishReport,
    overlay: Mapping[str, ArticleRecord],
    *,
    progress: tuple[int, int] | None = None,
) -> bool:
    """Complete archive pages holding a changed article: a page fills once and then changes only
    if one of its articles is corrected or retracted (it then carries an at:deleted-entry).
    `progress` is archive_progress() when the caller has read it already. True when pages were
    completed (the head feed's link moves)."""
    complete, written = progress if progress is not None else archive_progress(store)
    pages = {
        archive_page_of(change.after.sequence)
        for change in changes
        if change.after.sequence and archive_page_of(change.after.sequence) <= complete
    } | set(range(written + 1, complete + 1))
    for number in sorted(pages):
        first, last = (number - 1) * ARCHIVE_PAGE_SIZE + 1, number * ARCHIVE_PAGE_SIZE
        records = archive_records(store.list_archive(first, last), overlay, first, last)
        entries = [store.get_canonical(record) for record in records if record.status == "published"]
        deleted = [
            tombstone(store.get_canonical(record), site) for record in records if record.status == "retracted"
        ]
        links = ArchiveLinks(
            current=ATOM_PATH,
            prev_archive=archive_path(number - 1) if number > 1 else None,
            is_archive=True,
        )
        body = render_atom(entries, site, SITE_FEED, links, deleted, self_path=archive_path(number))
        atom_type = f"{FEED_TYPES['atom']}; charset=utf-8"
        _write(store, Output(page_key(archive_path(number)), body, atom_type, ARCHIVE_CACHE), report)
    if complete > written:
        store.set_archived_pages(complete)
        return True
    return False


def archive_records(
    indexed: Sequence[ArticleRecord], overlay: Mapping[str, ArticleRecord], first: int, last: int
) -> list[ArticleRecord]:
    """The page's articles from the index, corrected by the newer records this regeneration knows."""
    by_id = {record.id: record for record in indexed}
    for record in overlay.values():
        if record.sequence and first <= record.sequence <= last:
            seen = by_id.get(record.id)
            if seen is None or record.revision >= seen.revision:
                by_id[record.id] = record
    return sorted(by_id.values(), key=lambda record: record.sequence or 0)


def tombstone(article: Article, site: Site) -> Tombstone:
    retraction = article.retraction
    return Tombstone(
        ref=entry_id(article, site),
        when=retraction.at if retraction else article.updated_at,
        comment=retraction.reason if retraction else "",
    )


# -- sitemaps ---------------------------------------------------------------------------------


def publish_sitemaps(
    changes: Sequence[ArticleChange],
    store: PublishStore,
    site: Site,
    report: PublishReport,
    overlay: Mapping[str, ArticleRecord],
    settled_before: datetime | None = None,
) -> None:
    """The month sitemaps of the changed articles, the index of months, the news sitemap:
    each bounded by one month's or two days' articles, never the whole archive."""
    months = {
        sitemap_month_of(record, site)
        for change in changes
        for record in (change.before, change.after)
        if record is not None and record.status in ("published", "retracted")
    }
    zone = site.zone
    for year, month in sorted(months):
        start, end = month_bounds(year, month, zone)
        records = [
            record
            for record in all_published_between(store, start, end)
            if not _unsettled(record, overlay, settled_before)
        ]
        body = render_sitemap_month(records, site)
        _write(
            store, Output(page_key(sitemap_month_path(year, month)), body, SITEMAP_TYPE, PAGE_CACHE), report
        )
        lastmod = max((record.updated_at for record in records), default=start)
        store.put_sitemap_month(year, month, lastmod, len(records))
    if months or not store.list_sitemap_months():
        listed = [
            SitemapMonth(year, month, lastmod)
            for year, month, lastmod, count in store.list_sitemap_months()
            if count
        ]
        _write(
            store,
            Output(page_key(SITEMAP_PATH), render_sitemap_index(listed, site), SITEMAP_TYPE, PAGE_CACHE),
            report,
        )
    news = render_news_sitemap(news_window(store, overlay, settled_before), site)
    _write(store, Output(page_key(NEWS_SITEMAP_PATH), news, SITEMAP_TYPE, PAGE_CACHE), report)


def news_window(
    store: ArticleStore, overlay: Mapping[str, ArticleRecord], settled_before: datetime | None = None
) -> list[ArticleRecord]:
    """The published articles of the news sitemap's two days, read as that window only: a site
    whose latest news is old reads a handful of records, not the newest thousand."""
    # Enough of the newest that one survives even if the known records took all the others down.
    unpublished = sum(1 for record in overlay.values() if record.status != "published")
    newest, _ = store.list_listing(HOME.id, "published", unpublished + 1)
    anchor = merge_records(newest, overlay, HOME)[:1]
    if not anchor:
        return []
    recent, _ = store.list_listing(
        HOME.id,
        "published",
        MAX_NEWS_URLS + unpublished,
        published_since=anchor[0].published_at - NEWS_WINDOW,
    )
    return merge_records(recent, overlay, HOME, settled_before)


def all_published_between(
    store: ArticleStore, start: datetime, end: datetime, listing_id: str = HOME.id
) -> list[ArticleRecord]:
    records: list[ArticleRecord] = []
    cursor: str | None = None
    while True:
        page, cursor = store.list_listing(
            listing_id, "published", 1000, cursor, published_since=start, published_before=end
        )
        records += page
        if cursor is None:
            return records


def record_report(report: PublishReport, changes: Sequence[ArticleChange]) -> None:
    feeds_written = sum(1 for key in report.written if key.startswith("feeds/"))
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
    changes: Sequence[ArticleChange],
    store: PublishStore,
    site: Site,
    *,
    always: Iterable[Listing] = (),
    settle: bool = True,
) -> PublishReport:
    """Idempotent: replaying the same changes rewrites nothing (unchanged outputs are skipped)."""
    report = PublishReport()
    merged = latest_revisions(changes)
    if any(change.after.status in ("published", "retracted") for change in merged):
        publish_assets(store, report)
    for change in merged:
        publish_article(change, store, site, report)
    publish_listings(merged, store, site, report, always=always, settle=settle)
    record_report(report, merged)
    return report


def rebuild_front(store: PublishStore, site: Site) -> PublishReport:
    """The home page, the feeds and the 404 page from the store alone (also with no articles yet),
    every published article listed: its callers (start, reconcile) write the pages themselves."""
    return publish_changes([], store, site, always=[HOME], settle=False)
