"""Re-render the whole site from the canonical store (`presswire rebuild`; after a template change).

A rebuild is planned as shards: consecutive ranges of the publication sequence (the archive
listing's sort key), so a shard is one Query of the listings index, never a Scan, and its size is
a whole number of Atom archive pages. Each shard renders its articles' pages (and retraction
notices) and its archive pages with the publisher's own functions, and returns what the final
step needs: the listings and sitemap months its articles are in. When every shard is done, the
listing pages, feeds, sitemaps, robots.txt and 404 are regenerated once, as the publisher does,
from the union of those listings.

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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from functions.models.article import ArticleRecord
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "shard": self.shard,
            "articles": self.articles,
            "pages": self.pages,
            "written": self.written,
            "unchanged": self.unchanged,
            "listings": self.listings,
            "months": self.months,
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


class _RebuildView:
    """The store as the publisher's functions see it during a rebuild: reads go to the canonical
    store, outputs to the sink. With `pinned_archive` the archive counters are the plan's, so a
    shard renders the archive pages of its own range only (not every page a lagging counter
    would add), and a directory's head feed links to the pages the directory holds."""

    def __init__(
        self, store: RebuildSource, sink: OutputSink, plan: RebuildPlan, *, pinned_archive: bool
    ) -> None:
        self._store = store
        self._sink = sink
        self._plan = plan
        self._pinned = pinned_archive
        self._months: dict[tuple[int, int], tuple[int, int, datetime, int]] = {}

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


def _view(store: RebuildSource, sink: OutputSink, plan: RebuildPlan, *, pinned_archive: bool) -> PublishStore:
    return cast(PublishStore, _RebuildView(store, sink, plan, pinned_archive=pinned_archive))


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
    plan: RebuildPlan, shard: Shard, store: RebuildSource, site: Site, sink: OutputSink
) -> ShardResult:
    """The shard's article pages (retraction notices for retracted articles) and archive pages."""
    view = _view(store, sink, plan, pinned_archive=True)
    report = PublishReport()
    rendered: dict[str, ArticleRecord] = {}
    pending = store.list_archive(shard.first, shard.last)
    # The index lags the table: render, then read the records strongly consistently (one
    # BatchGetItem per 100) and render again those that changed meanwhile, as reconcile does.
    for _ in range(MAX_PAGE_ROUNDS):
        for record in pending:
            publish_article(ArticleChange(None, record), view, site, report)
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
    for record in settled:
        for listing in listings_of(record):
            result.listings[listing.id] = [listing.kind, listing.slug, listing.name]
        year, month = sitemap_month_of(record, site)
        result.months.setdefault(f"{year:04d}-{month:02d}", record.id)
    changes = [ArticleChange(None, record) for record in settled if record.sequence]
    if changes:
        with _shared_outputs(store, sink) as known:
            publish_archive(changes, view, site, report, overlay_of(changes, known))
    _count(report, result)
    logger.info("rebuild shard rendered", extra={"shard": shard.number, "articles": result.articles})
    return result


# -- the final step -----------------------------------------------------------------------


def finish_rebuild(
    plan: RebuildPlan, results: Sequence[ShardResult], store: RebuildSource, site: Site, sink: OutputSink
) -> ShardResult:
    """Every listing page and feed once, then sitemaps, robots.txt and 404, with the publisher's
    regenerate_listings; returned as the counts of a last, listing-only shard (number -1)."""
    listings: dict[str, Listing] = {HOME.id: HOME}
    months: dict[str, str] = {}
    for result in results:
        for listing_id, (kind, slug, name) in result.listings.items():
            listings[listing_id] = Listing(cast(ListingKind, kind), slug, name)
        for month, article_id in result.months.items():
            months.setdefault(month, article_id)
    # One record per month stands for its month in publish_sitemaps. Without its sequence it asks
    # for no archive page: the shards rendered those.
    standing = [
        ArticleChange(None, record.model_copy(update={"sequence": None}))
        for record in store.get_records(sorted(set(months.values())))
    ]
    view = _view(store, sink, plan, pinned_archive=not sink.shared_state)
    report = PublishReport()
    with _shared_outputs(store, sink) as known:
        regenerate_listings(standing, listings, view, site, report, overlay_of([], known))
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
