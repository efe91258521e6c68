"""The site lease on DynamoDB: one holder at a time, taken over only once it runs out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from functions.logic.site_lease import LEASE_TIME
from functions.models.feeds import RecentPublication
from tests.integration.conftest import Harness

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_a_second_holder_waits_until_the_first_releases_or_its_lease_runs_out(harness: Harness) -> None:
    from functions.dal.factory import get_storage

    store = get_storage()
    assert store.acquire_site_lease("publisher-a", NOW, NOW + LEASE_TIME) == []
    assert store.acquire_site_lease("publisher-b", NOW, NOW + LEASE_TIME) is None
    assert store.acquire_site_lease("publisher-a", NOW, NOW + LEASE_TIME) == []  # its own, again

    published = [RecentPublication(NOW, "0b7c2a4e-1", 3)]
    assert store.release_site_lease("publisher-a", published)
    assert store.acquire_site_lease("publisher-b", NOW, NOW + LEASE_TIME) == published

    # publisher-b crashes holding it: after LEASE_TIME anyone may take it, and b's release fails.
    later = NOW + LEASE_TIME + timedelta(seconds=1)
    assert store.acquire_site_lease("publisher-c", later, later + LEASE_TIME) == published
    assert not store.release_site_lease("publisher-b", [])
    assert store.release_site_lease("publisher-c", published)


def test_records_are_read_strongly_consistently_by_id_skipping_unknown_ones(
    harness: Harness, seed_article: dict[str, Any]
) -> None:
    from functions.dal.factory import get_storage

    article = {**seed_article, "body": "<p>Qua 3 ngày tập huấn.</p>"}
    created = harness.call("POST", "/articles", article).json()

    records = get_storage().get_records([created["id"], "f" * 36, created["id"]])

    assert [(record.id, record.revision) for record in records] == [(created["id"], 1)]
