"""Re-render the whole site from the canonical store (`presswire rebuild`; after a template change).

A rebuild is planned as shards: consecutive ranges of the publication sequence (the archive
listing's sort key), so a shard is one Query of the listings index, never a Scan, and its size is
a whole number of Atom archive pages. Each shard renders its articles' pages (and retraction
notices) and its archive pages with the publisher's own functions, and returns what the final
step needs: the listings, their months and the sitemap months its articles are in. When every
shard is done, the listing pages (and month pages), feeds, sitemaps, robots.txt and 404 are
regenerated once, as the publisher does, from the union of those listings. Inputs are read once:
a shard's archive range, each canonical document (fetched concurrently), and, for a directory, one
snapshot of the whole archive that answers every listing question the renderers ask.

Outputs go to a sink: the site bucket (through the storage layer, writing only bytes that
changed, with the site lease around shared outputs) or a directory (`--out DIR`, the same keys
as files, the table left untouched). Finished shards are checkpointed (an item REBUILD#site in the
table, or a file in the directory), so a rebuild that was interrupted continues where it stopped.
Shards are independent: the local command renders them in a process pool, AWS in Lambda workers
fed by an SQS queue (functions/handlers/rebuilder.py).
"""

from __future__ import annotations

import json
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, cast

from functions import clock
from functions.dal.protocol import ArticleStore, RebuildStore, SiteStore
from functions.logic.changes import ArticleChange
from functions.logic.listings import HOME, Listing, listings_of
from functions.logic.publish_articles import (
    ARCHIVE_PAGE_SIZE,
    PublishReport,
    PublishStore,
    overlay_of,
    publish_archive,
    publish_article,
    regenerate_listings,
)
from functions.logic.site_lease import site_lease
from functions.models.article import Article, ArticleRecord, ArticleStatus
from functions.models.paths import ListingKind
from functions.models.site import Output, Site
from functions.observability import logger
from functions.render.sitemaps import sitemap_month_of

# Sequence numbers per shard: ten archive pages. A shard then reads ~500 canonical documents and
# renders as many pages (seconds, far inside a Lambda's 15 minutes), and a million-article
# archive is 2,000 messages.
SHARD_SIZE = 500
# One rebuild of the site at a time: its checkpoint item is REBUILD#site.
REBUILD_ID = "site"
CHECKPOINT_FILE = ".presswire-rebuild.json"
# Finished shards' results are needed only until the rebuild ends; those of a run abandoned by
# --restart expire through the table's TTL.
SHARD_RESULT_TTL = timedelta(days=30)
# As reconcile: an article edited this often while its page was rendered is left to the publisher.
MAX_PAGE_ROUNDS = 5
PUBLIC_STATUSES = ("published", "retracted")
# Canonical documents read at once by a shard or the final step: each read is a round trip (an S3
# GET of ~10-20 ms on AWS) that costs the renderer nothing while it waits.
FETCH_THREADS = 8


class RebuildError(Exception):
    """The rebuild cannot go on (an unreadable checkpoint); one line for the operator."""


class RebuildSource(ArticleStore, SiteStore, Protocol):
    """What a rebuild reads (and, for the site bucket, writes)."""


class RebuildWorkerStore(RebuildSource, RebuildStore, Protocol):
    """On AWS the checkpoint and the shard queue come from the same storage layer."""


# -- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shard:
    number: int
    first: int  # sequence numbers first..last, inclusive
    last: int


def plan_shards(last_sequence: int, shard_size: int = SHARD_SIZE) -> list[Shard]:
    """Sequence ranges 1..last_sequence; each but the last holds shard_size numbers. Aligned to
    archive pages, so no two shards render the same archive page."""
    if shard_size <= 0 or shard_size % ARCHIVE_PAGE_SIZE:
        raise ValueError(f"a shard must be a positive multiple of {ARCHIVE_PAGE_SIZE} sequence numbers")
    count = -(-max(last_sequence, 0) // shard_size)
    return [
        Shard(number, number * shard_size + 1, min((number + 1) * shard_size, last_sequence))
        for number in range(count)
    ]


@dataclass(frozen=True, slots=True)
class RebuildPlan:
    run: str  # new for every start: results of an abandoned run never count for this one
    last_sequence: int  # articles first published later are the publisher's
    shard_size: int = SHARD_SIZE

    @property
    def shards(self) -> list[Shard]:
        return plan_shards(self.last_sequence, self.shard_size)

    @property
    def complete_archive_pages(self) -> int:
        return self.last_sequence // ARCHIVE_PAGE_SIZE

    def as_dict(self) -> dict[str, Any]:
        return {"run": self.run, "last_sequence": self.last_sequence, "shard_size": self.shard_size}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RebuildPlan:
        return cls(str(data["run"]), int(data["last_sequence"]), int(data["shard_size"]))


@dataclass
class ShardResult:
    """What one shard rendered, and what the final step needs from it."""

    shard: int
    articles: int = 0
    pages: int = 0  # HTML pages written or found unchanged
    written: int = 0
    unchanged: int = 0
    # listing id -> [kind, slug, name]: every listing the shard's articles are in.
    listings: dict[str, list[str]] = field(default_factory=dict)
    # "YYYY-MM" -> the id of one article of that month, which stands for it in the sitemaps.
    months: dict[str, str] = field(default_factory=dict)
    # listing id -> the "YYYY-MM" months it has published articles in (its month pages).
    listing_months: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "shard": self.shard,
            "articles": self.articles,
            "pages": self.pages,
            "written": self.written,
            "unchanged": self.unchanged,
            "listings": self.listings,
            "months": self.months,
            "listing_months": self.listing_months,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShardResult:
        return cls(
            shard=int(data["shard"]),
            articles=int(data["articles"]),
            pages=int(data["pages"]),
            written=int(data["written"]),
            unchanged=int(data["unchanged"]),
            listings={key: list(value) for key, value in data["listings"].items()},
            months=dict(data["months"]),
            # Absent from the checkpoints of a rebuild interrupted before month pages existed.
            listing_months={key: list(value) for key, value in data.get("listing_months", {}).items()},
        )


@dataclass
class RebuildState:
    plan: RebuildPlan
    done: dict[int, ShardResult]

    @property
    def pending(self) -> list[Shard]:
        return [shard for shard in self.plan.shards if shard.number not in self.done]


# -- where outputs go ---------------------------------------------------------------------


class OutputSink(Protocol):
    # True for the site bucket: shared outputs are written under the site lease and the table's
    # bookkeeping (archive pages written, sitemap months) is kept; a directory needs neither.
    shared_state: bool

    def write_if_changed(self, output: Output) -> bool: ...


class SiteBucketSink:
    """The site bucket, through the storage layer: only bytes that changed are uploaded."""

    shared_state = True

    def __init__(self, store: SiteStore) -> None:
        self._store = store

    def write_if_changed(self, output: Output) -> bool:
        return self._store.write_if_changed(output)


class DirectorySink:
    """A directory holding each output at its object key (`--out DIR`). Content types, cache
    headers and the 410 of retraction notices are object metadata, which files do not carry."""

    shared_state = False

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_of(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"output key {key!r} is outside {self.root}")
        return path

    def write_if_changed(self, output: Output) -> bool:
        path = self.path_of(output.key)
        try:
            if path.read_bytes() == output.body:
                return False
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(output.body)
        return True


_SNAPSHOT_CURSOR = "snapshot:"


def _to_second(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _listing_order(record: ArticleRecord) -> tuple[datetime, str]:
    """The listing index's sort key: the UTC second of publication, then the id."""
    return _to_second(record.published_at), record.id


def archive_snapshot(plan: RebuildPlan, store: ArticleStore) -> list[ArticleRecord]:
    """Every article of the plan, published or retracted: one paginated pass over the archive
    listing. A directory rebuild renders from it alone; its pages and feeds ask the listing index
    thousands of questions (related articles, month pages, their neighbours) that it answers."""
    # An empty range would be a Query whose BETWEEN bounds are reversed, which DynamoDB refuses.
    return store.list_archive(1, plan.last_sequence) if plan.last_sequence else []


class _RebuildView:
    """The store as the publisher's functions see it during a rebuild: reads go to the canonical
    store, outputs to the sink. With `pinned_archive` the archive counters are the plan's, so a
    shard renders the archive pages of its own range only (not every page a lagging counter
    would add), and a directory's head feed links to the pages the directory holds.

    A rebuild reads everything once: the archive range a shard read is answered from memory for
    its archive pages, a listing's newest articles are read once (`read_listings`), and canonical
    documents are fetched together, concurrently (`fetch`), before the renderers ask for them."""

    def __init__(
        self, store: RebuildSource, sink: OutputSink, plan: RebuildPlan, *, pinned_archive: bool
    ) -> None:
        self._store = store
        self._sink = sink
        self._plan = plan
        self._pinned = pinned_archive
        self._months: dict[tuple[int, int], tuple[int, int, datetime, int]] = {}
        self._archive: tuple[int, int, list[ArticleRecord]] | None = None
        self._listings: dict[tuple[str, str, int], tuple[list[ArticleRecord], str | None]] = {}
        self._documents: dict[tuple[str, str], Article] = {}
        # With a snapshot held: per listing, its published records oldest first and their times.
        self._held: dict[str, tuple[list[ArticleRecord], list[datetime]]] | None = None
        self._snapshot: list[ArticleRecord] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def write_if_changed(self, output: Output) -> bool:
        return self._sink.write_if_changed(output)

    def last_sequence(self) -> int:
        return self._plan.last_sequence if self._pinned else self._store.last_sequence()

    def archived_pages(self) -> int:
        return self._plan.complete_archive_pages if self._pinned else self._store.archived_pages()

    def set_archived_pages(self, pages: int) -> None:
        if self._sink.shared_state:
            self._store.set_archived_pages(pages)

    def put_sitemap_month(self, year: int, month: int, lastmod: datetime, count: int) -> None:
        if self._sink.shared_state:
            self._store.put_sitemap_month(year, month, lastmod, count)
        else:
            self._months[(year, month)] = (year, month, lastmod, count)

    def list_sitemap_months(self) -> list[tuple[int, int, datetime, int]]:
        months = {(entry[0], entry[1]): entry for entry in self._store.list_sitemap_months()}
        months.update(self._months)
        return [months[key] for key in sorted(months)]

    # -- reading once ---------------------------------------------------------------------

    def read_archive(self, first: int, last: int) -> list[ArticleRecord]:
        """The archive range first..last, read from the index (or the snapshot held) and kept for
        list_archive."""
        if self._held is not None:
            records = [record for record in self._snapshot if first <= (record.sequence or 0) <= last]
        else:
            records = self._store.list_archive(first, last)
        self._archive = (first, last, records)
        return records

    def hold(self, snapshot: Sequence[ArticleRecord]) -> None:
        """Answer the published listings from this snapshot of the archive, not the index: a
        directory is rendered as of the plan, with no other writer to keep up with."""
        held: dict[str, list[ArticleRecord]] = {}
        for record in snapshot:
            if record.status == "published":
                for listing in listings_of(record):
                    held.setdefault(listing.id, []).append(record)
        self._snapshot = list(snapshot)
        self._held = {}
        for listing_id, records in held.items():
            records.sort(key=_listing_order)
            self._held[listing_id] = (records, [_listing_order(record)[0] for record in records])

    def _from_snapshot(
        self, listing_id: str, limit: int, cursor: str | None, filters: Mapping[str, Any]
    ) -> tuple[list[ArticleRecord], str | None]:
        """list_listing over the snapshot, as the listing index orders and bounds it (by the
        second of publication, then id); the cursor is the offset of the next page."""
        assert self._held is not None, "hold() first"
        records, times = self._held.get(listing_id, ([], []))
        since, before = filters.get("published_since"), filters.get("published_before")
        low = bisect_left(times, _to_second(since)) if since is not None else 0
        high = bisect_right(times, _to_second(before)) if before is not None else len(records)
        offset = int(cursor.removeprefix(_SNAPSHOT_CURSOR)) if cursor else 0
        if filters.get("oldest_first"):
            page = records[low + offset : min(high, low + offset + limit)]
        else:
            page = records[max(low, high - offset - limit) : max(low, high - offset)][::-1]
        more = offset + limit < high - low
        return page, f"{_SNAPSHOT_CURSOR}{offset + limit}" if more else None

    def list_archive(self, first: int, last: int) -> list[ArticleRecord]:
        if self._archive is not None and self._archive[0] <= first and last <= self._archive[1]:
            return [record for record in self._archive[2] if first <= (record.sequence or 0) <= last]
        return self._store.list_archive(first, last)

    def read_listings(self, listings: Iterable[Listing], limit: int) -> list[ArticleRecord]:
        """Each listing's first `limit` published articles (newest first), read once and kept
        for a list_listing asking exactly that; returns them all."""
        records: list[ArticleRecord] = []
        for listing in listings:
            key = (listing.id, "published", limit)
            if key not in self._listings:
                self._listings[key] = self._store.list_listing(listing.id, "published", limit)
            records += self._listings[key][0]
        return records

    def list_listing(
        self,
        listing_id: str,
        status: ArticleStatus,
        limit: int,
        cursor: str | None = None,
        **filters: Any,
    ) -> tuple[list[ArticleRecord], str | None]:
        if (
            self._held is not None
            and status == "published"
            and filters.get("section") is None
            and filters.get("author") is None
            and (cursor is None or cursor.startswith(_SNAPSHOT_CURSOR))
        ):
            return self._from_snapshot(listing_id, limit, cursor, filters)
        kept = self._listings.get((listing_id, status, limit))
        if kept is not None and cursor is None and all(value is None for value in filters.values()):
            return list(kept[0]), kept[1]
        return self._store.list_listing(listing_id, status, limit, cursor, **filters)

    def fetch(self, records: Iterable[ArticleRecord]) -> None:
        """The canonical documents of these records, read concurrently and kept for get_canonical."""
        wanted = {
            (record.id, record.content_version): record
            for record in records
            if (record.id, record.content_version) not in self._documents
        }
        if not wanted:
            return
        with ThreadPoolExecutor(min(FETCH_THREADS, len(wanted))) as pool:
            self._documents.update(
                zip(wanted, pool.map(self._store.get_canonical, wanted.values()), strict=True)
            )

    def get_canonical(self, record: ArticleRecord) -> Article:
        document = self._documents.get((record.id, record.content_version))
        return document if document is not None else self._store.get_canonical(record)


def _view(store: RebuildSource, sink: OutputSink, plan: RebuildPlan, *, pinned_archive: bool) -> _RebuildView:
    return _RebuildView(store, sink, plan, pinned_archive=pinned_archive)


def _as_store(view: _RebuildView) -> PublishStore:
    """The view is a PublishStore by delegation (__getattr__), which the type checker cannot see."""
    return cast(PublishStore, view)


@contextmanager
def _shared_outputs(store: RebuildSource, sink: OutputSink) -> Iterator[list[ArticleRecord]]:
    """The site lease around shared outputs of the site bucket (ordered with the publisher's
    regenerations, as reconcile's are); a directory has no other writer."""
    if not sink.shared_state:
        yield []
        return
    with site_lease(store, []) as known:
        yield known


# -- one shard ----------------------------------------------------------------------------


def _count(report: PublishReport, result: ShardResult) -> None:
    result.written += len(report.written)
    result.unchanged += len(report.unchanged)
    result.pages += sum(1 for key in [*report.written, *report.unchanged] if key.endswith(".html"))


def render_shard(
    plan: RebuildPlan,
    shard: Shard,
    store: RebuildSource,
    site: Site,
    sink: OutputSink,
    snapshot: Sequence[ArticleRecord] | None = None,
) -> ShardResult:
    """The shard's article pages (retraction notices for retracted articles) and archive pages;
    with a snapshot (archive_snapshot, for a directory) every listing is read from it."""
    view = _view(store, sink, plan, pinned_archive=True)
    if snapshot is not None:
        view.hold(snapshot)
    publishing = _as_store(view)
    report = PublishReport()
    rendered: dict[str, ArticleRecord] = {}
    # One Query for the whole range: the archive pages below are rendered from it too.
    pending = view.read_archive(shard.first, shard.last)
    # The index lags the table: render, then read the records strongly consistently (one
    # BatchGetItem per 100) and render again those that changed meanwhile, as reconcile does.
    for _ in range(MAX_PAGE_ROUNDS):
        view.fetch(pending)
        for record in pending:
            publish_article(ArticleChange(None, record), publishing, site, report)
            rendered[record.id] = record
        current = store.get_records([record.id for record in pending])
        pending = [record for record in current if record.revision != rendered[record.id].revision]
        if not pending:
            break
    else:
        logger.warning(
            "articles kept changing while rebuilt; left to the publisher", extra={"shard": shard.number}
        )
    settled = sorted(
        (record for record in rendered.values() if record.status in PUBLIC_STATUSES),
        key=lambda record: record.sequence or 0,
    )
    result = ShardResult(shard=shard.number, articles=len(settled))
    listing_months: dict[str, set[str]] = {}
    for record in settled:
        year, month = sitemap_month_of(record, site)
        month_id = f"{year:04d}-{month:02d}"
        for listing in listings_of(record):
            result.listings[listing.id] = [listing.kind, listing.slug, listing.name]
            if record.status == "published":
                listing_months.setdefault(listing.id, set()).add(month_id)
        result.months.setdefault(month_id, record.id)
    result.listing_months = {key: sorted(value) for key, value in listing_months.items()}
    changes = [ArticleChange(None, record) for record in settled if record.sequence]
    if changes:
        with _shared_outputs(store, sink) as known:
            publish_archive(changes, publishing, site, report, overlay_of(changes, known))
    _count(report, result)
    logger.info("rebuild shard rendered", extra={"shard": shard.number, "articles": result.articles})
    return result


# -- the final step -----------------------------------------------------------------------


def rebuilt_listings(results: Iterable[ShardResult]) -> dict[str, Listing]:
    """Every listing the shards' articles are in, and the home listing."""
    listings: dict[str, Listing] = {HOME.id: HOME}
    for result in results:
        for listing_id, (kind, slug, name) in result.listings.items():
            listings[listing_id] = Listing(cast(ListingKind, kind), slug, name)
    return listings


def listing_months(results: Iterable[ShardResult]) -> dict[str, set[tuple[int, int]]]:
    """Per listing id, every month it has published articles in: each gets its month page."""
    months: dict[str, set[tuple[int, int]]] = {}
    for result in results:
        for listing_id, found in result.listing_months.items():
            months.setdefault(listing_id, set()).update((int(month[:4]), int(month[5:])) for month in found)
    return months


def _regenerate(
    plan: RebuildPlan,
    listings: Mapping[str, Listing],
    months: Mapping[str, set[tuple[int, int]]],
    standing: Sequence[ArticleChange],
    store: RebuildSource,
    site: Site,
    sink: OutputSink,
    report: PublishReport,
    snapshot: Sequence[ArticleRecord] | None,
) -> None:
    view = _view(store, sink, plan, pinned_archive=not sink.shared_state)
    # Many listings share their newest articles: each document is read once, all at once. As
    # regenerate_listings asks: a page's worth and one more (is there an older month?).
    newest = site.feed_size + 1
    if snapshot is not None:
        view.hold(snapshot)
        view.fetch(
            record
            for listing in listings.values()
            for record in view.list_listing(listing.id, "published", newest)[0]
        )
    else:
        view.fetch(view.read_listings(listings.values(), newest))
    wanted = {listing_id: months.get(listing_id, set()) for listing_id in listings}
    with _shared_outputs(store, sink) as known:
        regenerate_listings(
            standing, listings, _as_store(view), site, report, overlay_of([], known), months=wanted
        )


def render_listings(
    plan: RebuildPlan,
    listings: Sequence[Listing],
    months: Mapping[str, set[tuple[int, int]]],
    store: RebuildSource,
    site: Site,
    sink: OutputSink,
    snapshot: Sequence[ArticleRecord] | None = None,
) -> ShardResult:
    """A part of the final step that another process can take: these listings' pages and feeds
    (not the home listing, whose regeneration also writes the sitemaps and the head feed)."""
    if any(listing.id == HOME.id for listing in listings):
        raise ValueError("the home listing is the final step's own")
    report = PublishReport()
    chosen = {listing.id: listing for listing in listings}
    _regenerate(plan, chosen, months, [], store, site, sink, report, snapshot)
    result = ShardResult(shard=-1)
    _count(report, result)
    return result


def finish_rebuild(
    plan: RebuildPlan,
    results: Sequence[ShardResult],
    store: RebuildSource,
    site: Site,
    sink: OutputSink,
    *,
    rendered: Collection[str] = (),
    snapshot: Sequence[ArticleRecord] | None = None,
) -> ShardResult:
    """Every listing page and feed once (but those `rendered` by render_listings already), then
    sitemaps, robots.txt and 404, with the publisher's regenerate_listings; returned as the
    counts of a last, listing-only shard (number -1)."""
    listings = {key: listing for key, listing in rebuilt_listings(results).items() if key not in rendered}
    months: dict[str, str] = {}
    for result in results:
        for month, article_id in result.months.items():
            months.setdefault(month, article_id)
    # One record per month stands for its month in publish_sitemaps. Without its sequence it asks
    # for no archive page: the shards rendered those.
    standing = [
        ArticleChange(None, record.model_copy(update={"sequence": None}))
        for record in store.get_records(sorted(set(months.values())))
    ]
    report = PublishReport()
    _regenerate(plan, listings, listing_months(results), standing, store, site, sink, report, snapshot)
    result = ShardResult(shard=-1)
    _count(report, result)
    logger.info("rebuild finished", extra={"listings": len(listings), "written": result.written})
    return result


# -- checkpoints --------------------------------------------------------------------------


class Checkpoint(Protocol):
    def load(self) -> RebuildState | None:
        """The unfinished rebuild, if any."""
        ...

    def begin(self, plan: RebuildPlan) -> None: ...

    def record(self, plan: RebuildPlan, result: ShardResult) -> int:
        """Keep a finished shard; returns how many of the plan's shards are still to render."""
        ...

    def results(self, plan: RebuildPlan) -> list[ShardResult]: ...

    def finish(self) -> None: ...


class TableCheckpoint:
    """REBUILD#<id> in the table: the plan and a count of the shards to go (decremented once per
    shard, so SQS's repeated deliveries are harmless), plus one item per finished shard."""

    def __init__(self, store: RebuildStore, rebuild_id: str = REBUILD_ID) -> None:
        self._store = store
        self._id = rebuild_id

    def load(self) -> RebuildState | None:
        found = self._store.get_rebuild(self._id)
        if found is None or found[2]:
            return None
        plan = RebuildPlan.from_dict(found[0])
        return RebuildState(plan, {result.shard: result for result in self.results(plan)})

    def begin(self, plan: RebuildPlan) -> None:
        self._store.put_rebuild(self._id, plan.as_dict(), len(plan.shards))

    def record(self, plan: RebuildPlan, result: ShardResult) -> int:
        expires = clock.utc_now() + SHARD_RESULT_TTL
        remaining = self._store.record_rebuild_shard(
            self._id, plan.run, result.shard, result.as_dict(), expires
        )
        if remaining is not None:
            return remaining
        # Counted before (a redelivery, or a run that died before finishing): report the truth,
        # so that a last shard retried after a failed final step runs it again.
        found = self._store.get_rebuild(self._id)
        if found is None or found[0].get("run") != plan.run or found[2]:
            return -1
        return found[1]

    def results(self, plan: RebuildPlan) -> list[ShardResult]:
        return [ShardResult.from_dict(data) for data in self._store.list_rebuild_shards(self._id, plan.run)]

    def finish(self) -> None:
        self._store.finish_rebuild(self._id)


class FileCheckpoint:
    """A JSON file in the output directory; one process (the command) writes it, atomically."""

    def __init__(self, root: Path) -> None:
        self.path = root / CHECKPOINT_FILE

    def _read(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            RebuildPlan.from_dict(data["plan"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise RebuildError(
                f"the checkpoint {self.path} is unreadable ({error}); start over with --restart"
            ) from error
        return dict(data)

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        temporary.replace(self.path)

    def load(self) -> RebuildState | None:
        data = self._read()
        if data is None:
            return None
        plan = RebuildPlan.from_dict(data["plan"])
        return RebuildState(plan, {result.shard: result for result in self.results(plan)})

    def begin(self, plan: RebuildPlan) -> None:
        self._write({"plan": plan.as_dict(), "done": {}})

    def record(self, plan: RebuildPlan, result: ShardResult) -> int:
        data = self._read() or {"plan": plan.as_dict(), "done": {}}
        data["done"][str(result.shard)] = result.as_dict()
        self._write(data)
        return len(plan.shards) - len(data["done"])

    def results(self, plan: RebuildPlan) -> list[ShardResult]:
        data = self._read()
        if data is None or data["plan"].get("run") != plan.run:
            return []
        return [ShardResult.from_dict(result) for result in data["done"].values()]

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)


def begin_rebuild(
    store: ArticleStore, checkpoint: Checkpoint, *, restart: bool = False, shard_size: int | None = None
) -> RebuildState:
    """The unfinished rebuild to continue, or (none, or --restart) a new plan up to the newest
    publication sequence."""
    state = None if restart else checkpoint.load()
    if state is None:
        plan = RebuildPlan(
            run=uuid.uuid4().hex, last_sequence=store.last_sequence(), shard_size=shard_size or SHARD_SIZE
        )
        plan_shards(plan.last_sequence, plan.shard_size)  # refuse a bad size before anything is kept
        checkpoint.begin(plan)
        state = RebuildState(plan, {})
    return state


# -- on AWS: one SQS message per shard ----------------------------------------------------


def shard_message(plan: RebuildPlan, shard: Shard) -> dict[str, Any]:
    return {"rebuild": REBUILD_ID, "run": plan.run, "shard": shard.number}


def enqueue_rebuild(
    store: RebuildWorkerStore, site: Site, queue_url: str, *, restart: bool = False
) -> dict[str, Any]:
    """Plan (or continue) the rebuild and enqueue its pending shards; with none, finish now."""
    checkpoint = TableCheckpoint(store)
    state = begin_rebuild(store, checkpoint, restart=restart)
    pending = state.pending
    store.send_rebuild_shards(queue_url, [shard_message(state.plan, shard) for shard in pending])
    if not pending:
        finish_rebuild(state.plan, list(state.done.values()), store, site, SiteBucketSink(store))
        checkpoint.finish()
    logger.info("rebuild enqueued", extra={"run": state.plan.run, "shards": len(pending)})
    return {"run": state.plan.run, "shards": len(state.plan.shards), "enqueued": len(pending)}


def rebuild_from_message(
    message: Mapping[str, Any], store: RebuildWorkerStore, site: Site
) -> ShardResult | None:
    """Render the message's shard into the site bucket; the worker that counts the last shard
    runs the final step (under the site lease). None for a message of a finished or older run."""
    checkpoint = TableCheckpoint(store, str(message["rebuild"]))
    state = checkpoint.load()
    if state is None or state.plan.run != message["run"]:
        logger.info("rebuild message of a finished or abandoned run dropped", extra=dict(message))
        return None
    shards = {shard.number: shard for shard in state.plan.shards}
    shard = shards.get(int(message["shard"]))
    if shard is None:
        raise ValueError(f"the rebuild plan has no shard {message['shard']}")
    sink = SiteBucketSink(store)
    result = render_shard(state.plan, shard, store, site, sink)
    if checkpoint.record(state.plan, result) == 0:
        finish_rebuild(state.plan, checkpoint.results(state.plan), store, site, sink)
        checkpoint.finish()
    return result
