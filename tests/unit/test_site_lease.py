"""The site lease: one regeneration of shared outputs at a time, handing on what it published."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from functions import clock
from functions.logic import site_lease
from functions.logic.site_lease import RECENT_WINDOW, SiteBusy, still_recent
from functions.models.article import Article, ArticleRecord
from functions.models.feeds import RecentPublication
from tests.unit.test_publish_logic import record_of

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


class LeaseStore:
    def __init__(self, records: Sequence[ArticleRecord] = ()) -> None:
        self.holder: str | None = None
        self.recent: list[RecentPublication] = []
        self.records = {record.id: record for record in records}
        self.refusals = 0

    def acquire_site_lease(
        self, owner: str, now: datetime, until: datetime
    ) -> list[RecentPublication] | None:
        if self.holder not in (None, owner):
            self.refusals += 1
            return None
        self.holder = owner
        return list(self.recent)

    def release_site_lease(self, owner: str, recent: Sequence[RecentPublication]) -> bool:
        if self.holder != owner:
            return False
        self.holder, self.recent = None, list(recent)
        return True

    def get_records(self, article_ids: Sequence[str]) -> list[ArticleRecord]:
        return [self.records[article_id] for article_id in article_ids if article_id in self.records]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: NOW)


def test_a_regeneration_hands_the_records_it_published_to_the_next(seed_article: Article) -> None:
    record = record_of(seed_article)
    store = LeaseStore([record])
    with site_lease.site_lease(store, [record]) as known:
        assert known == []
    with site_lease.site_lease(store, []) as known:
        assert known == [record]
    assert store.holder is None


def test_a_failed_regeneration_hands_on_only_what_was_there_before(seed_article: Article) -> None:
    record = record_of(seed_article)
    store = LeaseStore([record])
    with pytest.raises(RuntimeError), site_lease.site_lease(store, [record]):
        raise RuntimeError("S3 is down")
    assert store.recent == [] and store.holder is None  # released, and the batch will be retried


def test_a_regeneration_waits_while_another_holds_the_lease_then_runs() -> None:
    store = LeaseStore()
    store.holder = "another publisher"
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:
            store.holder = None  # the other one finishes

    with site_lease.site_lease(store, [], sleep=nap):
        assert store.holder not in (None, "another publisher")
    assert naps == [0.05, 0.1, 0.2] and store.refusals == 3


def test_a_lease_held_past_the_wait_fails_the_batch_for_lambda_to_retry() -> None:
    store = LeaseStore()
    store.holder = "a crashed publisher"
    with pytest.raises(SiteBusy), site_lease.site_lease(store, [], wait_seconds=0, sleep=lambda _: None):
        pytest.fail("must not regenerate without the lease")


def test_published_articles_stay_known_for_the_window_newest_revision_only() -> None:
    old = RecentPublication(NOW - RECENT_WINDOW - timedelta(seconds=1), "a", 1)
    kept = RecentPublication(NOW - RECENT_WINDOW, "b", 1)
    replaced = RecentPublication(NOW - timedelta(seconds=5), "c", 1)

    result = still_recent([old, kept, replaced], [ArticleRecord.model_construct(id="c", revision=2)], NOW)

    assert sorted((entry.article_id, entry.revision) for entry in result) == [("b", 1), ("c", 2)]
