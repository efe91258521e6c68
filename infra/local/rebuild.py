"""`presswire rebuild` on one machine: the shards of functions/logic/rebuild.py in a process pool.

The local stack's queue poller runs handlers as threads of the serving process, where the GIL
would render one shard at a time, and a progress bar belongs to the command anyway. So the
command plans the rebuild, renders pending shards in worker processes (each with its own storage
layer on the running stack's moto), records each finished shard in the checkpoint as it comes
back, and runs the final step itself: the same functions the AWS workers run, fed by a pool
instead of RebuildQueue. Writing a directory, the final step's listings other than home are
shared out to the pool too (in the site bucket each part would wait for the site lease).
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from infra.local.reconcile import connect, running_environment

# functions.* is imported only after connect() has set the running stack's environment: the
# functions' logger reads its level (quiet, for a command) from it at import.
if TYPE_CHECKING:
    from functions.logic.listings import Listing
    from functions.logic.rebuild import (
        Checkpoint,
        OutputSink,
        RebuildPlan,
        RebuildSource,
        RebuildState,
        Shard,
        ShardResult,
    )
    from functions.models.article import ArticleRecord
    from functions.models.site import Site

NEEDS_STACK = (
    "rebuild reads the canonical store (the content bucket and the table) from it; start it with "
    "`presswire serve`"
)


@dataclass
class RebuildSummary:
    shards: int = 0
    resumed: int = 0  # shards already done by an interrupted run
    articles: int = 0
    pages: int = 0
    outputs: int = 0
    written: int = 0
    seconds: float = 0.0
    results: list[ShardResult] = field(default_factory=list)

    def add(self, result: ShardResult) -> None:
        self.articles += result.articles
        self.pages += result.pages
        self.outputs += result.written + result.unchanged
        self.written += result.written

    def line(self) -> str:
        rate = self.pages / self.seconds if self.seconds else 0.0
        resumed = f" ({self.resumed} done before)" if self.resumed else ""
        return (
            f"rebuilt {self.articles} articles in {self.shards} shards{resumed}: {self.pages} pages, "
            f"{self.outputs - self.pages} feeds and sitemaps; {self.written} written, "
            f"{self.outputs - self.written} unchanged; {self.seconds:.1f} s ({rate:.0f} pages/s)"
        )


class Progress:
    """One line on stderr: redrawn with \\r on a terminal, one line per tenth otherwise."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total = 0
        self.done = 0
        self.articles = 0
        self.started = time.monotonic()
        self._tenths = -1

    def start(self, total: int, done: int) -> None:
        self.total, self.done = total, done
        self.started = time.monotonic()
        self._show()

    def advance(self, result: ShardResult) -> None:
        self.done += 1
        self.articles += result.articles
        self._show()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _show(self) -> None:
        fraction = self.done / self.total if self.total else 1.0
        elapsed = time.monotonic() - self.started
        rate = self.articles / elapsed if elapsed > 0 else 0.0
        text = f"rebuild {self.done}/{self.total} shards, {self.articles} articles ({rate:.0f}/s)"
        if self.tty:
            bar = "#" * int(fraction * 30)
            self.stream.write(f"\r[{bar:<30}] {fraction:4.0%} {text}")
            self.stream.flush()
        elif int(fraction * 10) > self._tenths:
            self._tenths = int(fraction * 10)
            self.stream.write(f"{fraction:4.0%} {text}\n")
            self.stream.flush()


# -- worker processes ---------------------------------------------------------------------

_worker: tuple[RebuildSource, Site, OutputSink, list[ArticleRecord] | None] | None = None


def _start_worker(running: dict[str, Any], out: Path | None, snapshot: list[ArticleRecord] | None) -> None:
    global _worker
    # Ctrl-C is the command's to handle: a worker that died of it mid-call would hang the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    storage, site = connect(running)
    from functions.logic.rebuild import DirectorySink, SiteBucketSink

    _worker = (storage, site, DirectorySink(out) if out else SiteBucketSink(storage), snapshot)


def _render_in_worker(plan: RebuildPlan, shard: Shard) -> ShardResult:
    from functions.logic import rebuild

    assert _worker is not None, "_start_worker runs first"
    storage, site, sink, snapshot = _worker
    return rebuild.render_shard(plan, shard, storage, site, sink, snapshot)


def _listings_in_worker(
    plan: RebuildPlan, listings: list[Listing], months: dict[str, set[tuple[int, int]]]
) -> ShardResult:
    from functions.logic import rebuild

    assert _worker is not None, "_start_worker runs first"
    storage, site, sink, snapshot = _worker
    return rebuild.render_listings(plan, listings, months, storage, site, sink, snapshot)


# -- the driver ---------------------------------------------------------------------------


def drive_rebuild(
    store: RebuildSource,
    site: Site,
    sink: OutputSink,
    checkpoint: Checkpoint,
    *,
    restart: bool = False,
    shard_size: int | None = None,
    workers: int = 1,
    worker_setup: tuple[Callable[..., None], tuple[Any, ...]] | None = None,
    progress: Progress | None = None,
    on_shard: Callable[[ShardResult], None] = lambda _: None,
) -> RebuildSummary:
    """Render every pending shard (in `workers` processes set up by worker_setup, or here), record
    each in the checkpoint as it finishes, then run the final step and close the checkpoint."""
    from functions.logic import rebuild

    started = time.monotonic()
    state = rebuild.begin_rebuild(store, checkpoint, restart=restart, shard_size=shard_size)
    summary = RebuildSummary(shards=len(state.plan.shards), resumed=len(state.done))
    for result in state.done.values():
        summary.add(result)
    pending = state.pending
    if progress:
        progress.start(summary.shards, summary.resumed)

    def finished(result: ShardResult) -> None:
        checkpoint.record(state.plan, result)
        summary.add(result)
        state.done[result.shard] = result
        if progress:
            progress.advance(result)
        on_shard(result)

    # A directory is rendered as of the plan: every listing question is answered from one read of
    # the archive, which the worker processes are handed as they start.
    snapshot = None if sink.shared_state else rebuild.archive_snapshot(state.plan, store)
    pool = None
    if workers > 1 and worker_setup is not None:
        initializer, initargs = worker_setup
        pool = ProcessPoolExecutor(
            max_workers=workers, initializer=initializer, initargs=(*initargs, snapshot)
        )
    try:
        if pool is not None and len(pending) > 1:
            _in_pool(pool, state, pending, workers, finished)
        else:
            for shard in pending:
                finished(rebuild.render_shard(state.plan, shard, store, site, sink, snapshot))
        results = list(state.done.values())
        for result in _finish(pool, workers, state.plan, results, store, site, sink, snapshot):
            summary.add(result)
    except BaseException:
        # Shards in flight are not recorded and will be rendered again by the next run.
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    if pool is not None:
        pool.shutdown()
    checkpoint.finish()
    if progress:
        progress.close()
    summary.results = results
    summary.seconds = time.monotonic() - started
    return summary


def _in_pool(
    pool: Executor,
    state: RebuildState,
    pending: list[Shard],
    workers: int,
    finished: Callable[[ShardResult], None],
) -> None:
    # At most two shards a worker in flight: an interrupted run has little to throw away.
    queue = list(reversed(pending))
    running: set[Future[ShardResult]] = set()
    while queue or running:
        while queue and len(running) < 2 * workers:
            running.add(pool.submit(_render_in_worker, state.plan, queue.pop()))
        done, running = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            finished(future.result())


def _finish(
    pool: Executor | None,
    workers: int,
    plan: RebuildPlan,
    results: list[ShardResult],
    store: RebuildSource,
    site: Site,
    sink: OutputSink,
    snapshot: list[ArticleRecord] | None,
) -> list[ShardResult]:
    """The final step; writing a directory with a pool, its listings but home are rendered by the
    workers (one part each) while this process renders home, the head feeds and the sitemaps."""
    from functions.logic import rebuild
    from functions.logic.listings import HOME

    if pool is None or sink.shared_state:
        return [rebuild.finish_rebuild(plan, results, store, site, sink, snapshot=snapshot)]
    others = sorted(
        (listing for listing in rebuild.rebuilt_listings(results).values() if listing != HOME),
        key=lambda listing: listing.id,
    )
    months = rebuild.listing_months(results)
    parts = [
        pool.submit(_listings_in_worker, plan, others[index::workers], months) for index in range(workers)
    ]
    rendered = {listing.id for listing in others}
    return [
        rebuild.finish_rebuild(plan, results, store, site, sink, rendered=rendered, snapshot=snapshot),
        *(part.result() for part in parts),
    ]


def rebuild_running_stack(
    state_dir: Path,
    *,
    out: Path | None = None,
    workers: int = 1,
    restart: bool = False,
    progress: Progress | None = None,
) -> RebuildSummary:
    running = running_environment(state_dir, NEEDS_STACK)
    storage, site = connect(running)
    from functions.logic.rebuild import DirectorySink, FileCheckpoint, SiteBucketSink, TableCheckpoint

    if out is None:
        # Compare with the bucket itself, not with what this process believes it holds.
        storage.forget_site_outputs()
    sink: OutputSink = DirectorySink(out) if out else SiteBucketSink(storage)
    checkpoint: Checkpoint = FileCheckpoint(out) if out else TableCheckpoint(storage)
    return drive_rebuild(
        storage,
        site,
        sink,
        checkpoint,
        restart=restart,
        workers=workers,
        worker_setup=(_start_worker, (running, out)),
        progress=progress,
    )
