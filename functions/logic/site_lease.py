"""One regeneration of the site's shared outputs at a time, each seeing what the last published.

Listing pages, feeds, archive pages and sitemaps are shared by many articles. Two regenerations
in flight at once (Lambda runs one publisher per stream shard, and reconcile runs besides) could
finish in the wrong order and leave an older rendering on top; and the listings index they read
is eventually consistent, so a regeneration could miss an article the previous one published.
The lease (a conditional write on one item) lets one regeneration run at a time, and hands it the
articles the regenerations of the last minutes published; their records, read strongly
consistently and merged over the index, make every regeneration's view at least as new as the
one before it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Protocol

from functions import clock
from functions.models.article import ArticleRecord
from functions.models.feeds import RecentPublication
from functions.observability import logger

# Longer than the publisher's 300 s timeout: a holder that is still running never loses it, and
# one that crashed holds it up at most this long.
LEASE_TIME = timedelta(minutes=6)
# Far longer than the index takes to catch up (usually well under a second), and short enough
# that the list stays small on the busiest night.
RECENT_WINDOW = timedelta(minutes=2)
# A waiting regeneration gives up after this and fails its batch, which Lambda retries.
WAIT_SECONDS = 120.0


class SiteBusy(RuntimeError):
    """Another regeneration held the lease for longer than this one could wait."""


class SiteLeaseStore(Protocol):
    def acquire_site_lease(
        self, owner: str, now: datetime, until: datetime
    ) -> list[RecentPublication] | None: ...

    def release_site_lease(self, owner: str, recent: Sequence[RecentPublication]) -> bool: ...

    def get_records(self, article_ids: Sequence[str]) -> list[ArticleRecord]: ...


def newest_revisions(records: Iterable[ArticleRecord]) -> dict[str, ArticleRecord]:
    newest: dict[str, ArticleRecord] = {}
    for record in records:
        seen = newest.get(record.id)
        if seen is None or record.revision >= seen.revision:
            newest[record.id] = record
    return newest


def still_recent(
    recent: Iterable[RecentPublication], published: Iterable[ArticleRecord], now: datetime
) -> list[RecentPublication]:
    """What stays within RECENT_WINDOW, with `published` added at `now`; one entry per article,
    its newest revision."""
    cutoff = now - RECENT_WINDOW
    kept: dict[str, RecentPublication] = {}
    entries = [
        *recent,
        *(RecentPublication(now, record.id, record.revision) for record in published),
    ]
    for entry in entries:
        seen = kept.get(entry.article_id)
        if entry.at >= cutoff and (seen is None or entry.revision >= seen.revision):
            kept[entry.article_id] = entry
    return list(kept.values())


def published_records(store: SiteLeaseStore, recent: Sequence[RecentPublication]) -> list[ArticleRecord]:
    """The records of what was lately published, as it was published: an article changed since
    (its newer revision not yet regenerated) is left to the index and to its own batch, so no
    feed shows a revision before its page does."""
    published = {entry.article_id: entry.revision for entry in recent}
    return [
        record for record in store.get_records(list(published)) if record.revision == published[record.id]
    ]


@contextmanager
def site_lease(
    store: SiteLeaseStore,
    published: Sequence[ArticleRecord],
    *,
    wait_seconds: float = WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[list[ArticleRecord]]:
    """Hold the lease while the body regenerates; yields the records lately published. On
    success `published` joins them; on failure they stay as they were (the batch is retried)."""
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        now = clock.utc_now()
        recent = store.acquire_site_lease(owner, now, now + LEASE_TIME)
        if recent is not None:
            break
        if time.monotonic() > deadline:
            raise SiteBusy(f"the site lease stayed taken for {wait_seconds:.0f} s")
        sleep(delay)
        delay = min(delay * 2, 1.0)
    succeeded = False
    try:
        yield published_records(store, recent) if recent else []
        succeeded = True
    finally:
        kept = still_recent(recent, published if succeeded else (), clock.utc_now())
        if not store.release_site_lease(owner, kept):
            logger.error("the site lease ran out while regenerating", extra={"articles": len(published)})
