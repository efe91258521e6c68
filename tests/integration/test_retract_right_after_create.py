"""An article retracted right after it is created, before its first publish finishes, leaves no
listing, month page or feed showing it (a browser test watched /tag/o-mon/ keep it for good).

The create and the retraction then reach the publisher in one batch, merged into one change
(none -> retracted). A regeneration between the two commits (another article's batch, reconcile)
may have listed the article from the index; the merged change must still regenerate its listings.
The tests hand the publisher exactly the batches they mean to, to pin the interleaving down.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from functions.config import get_settings
from functions.dal.factory import get_storage
from functions.logic.publish_articles import rebuild_front
from functions.models.site import Site
from infra.cfn import load_template, stream_filter_patterns
from infra.local.lambda_runtime import invoke
from infra.local.stream_poller import StreamPoller
from tests.integration.conftest import Clock, Harness

SLUG = "o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023"
# Every output that lists the seed article (published 2023-05-10): listing pages, their month
# pages and the site's feeds.
LISTING_KEYS = (
    "index.html",
    "section/hoat-dong-mat-tran/index.html",
    "author/na-ra/index.html",
    "tag/o-mon/index.html",
    "2023/05/index.html",
    "section/hoat-dong-mat-tran/2023/05/index.html",
    "author/na-ra/2023/05/index.html",
    "tag/o-mon/2023/05/index.html",
    "feeds/rss.xml",
    "feeds/atom.xml",
    "feeds/tag/o-mon/rss.xml",
)


@pytest.fixture
def article(seed_article: dict[str, Any]) -> dict[str, Any]:
    # The seed is backdated (published_at 2023-05-10), as an import or a late filing is.
    return {**seed_article, "body": "<p>Qua 3 ngày tập huấn.</p>", "status": "published"}


class StreamReader:
    """Reads what the publisher's event filter lets through without delivering it."""

    def __init__(self, harness: Harness) -> None:
        self._records: list[dict[str, Any]] = []
        table = boto3.client("dynamodb").describe_table(TableName=harness.name("ArticlesTable"))
        self._poller = StreamPoller(
            harness.streams,
            table["Table"]["LatestStreamArn"],
            self._keep,
            "Reader",
            filters=stream_filter_patterns(load_template(), "PublisherFunction"),
        )

    def _keep(self, event: dict[str, Any], _context: Any) -> dict[str, Any]:
        self._records.extend(event["Records"])
        return {"batchItemFailures": []}

    def new_records(self) -> list[dict[str, Any]]:
        self._records = []
        while self._poller.poll_once():
            pass
        return self._records


def deliver(harness: Harness, records: list[dict[str, Any]]) -> None:
    """One publisher invocation with exactly these records, as one batch."""
    result = invoke(harness.publisher.lambda_handler, "PublisherFunction", {"Records": records}) or {}
    assert not result.get("batchItemFailures"), result


def of_article(records: list[dict[str, Any]], article_id: str) -> list[dict[str, Any]]:
    return [record for record in records if article_id in str(record["dynamodb"].get("NewImage"))]


def listing_it(harness: Harness) -> list[str]:
    keys = harness.site_keys()
    return [key for key in LISTING_KEYS if key in keys and SLUG in harness.site_object(key).decode()]


def submit(harness: Harness, article: dict[str, Any]) -> str:
    response = harness.call("POST", "/articles", article)
    assert response.status == 201, response.body
    return str(response.json()["id"])


def retract(harness: Harness, article_id: str) -> None:
    response = harness.call("POST", f"/articles/{article_id}/retract", {"reason": "Nhầm bài"})
    assert response.status == 200, response.body


def test_create_and_retract_in_one_batch_lists_the_article_nowhere(
    harness: Harness, article: dict[str, Any]
) -> None:
    retract(harness, submit(harness, article))
    while harness.publish():
        pass

    assert listing_it(harness) == []


def test_another_articles_batch_between_create_and_retract_leaves_a_backdated_article_out(
    harness: Harness, article: dict[str, Any]
) -> None:
    reader = StreamReader(harness)
    reader.new_records()
    other_id = submit(harness, {**article, "title": "Bài khác ở Ô Môn"})
    article_id = submit(harness, article)
    pending = reader.new_records()

    # The other article's batch regenerates the shared listings while the index already holds
    # the new one, whose page does not exist yet: its created_at, not its backdated updated_at,
    # says it is too new for that.
    deliver(harness, of_article(pending, other_id))
    assert listing_it(harness) == []

    retract(harness, article_id)
    deliver(harness, of_article(pending, article_id) + reader.new_records())
    assert listing_it(harness) == []


def test_a_merged_create_and_retract_clears_listings_a_regeneration_in_between_showed_it_in(
    harness: Harness, article: dict[str, Any]
) -> None:
    reader = StreamReader(harness)
    reader.new_records()
    article_id = submit(harness, article)
    # Reconcile (or the local stack's start) lists every published article the index holds.
    rebuild_front(get_storage(), Site.from_settings(get_settings()))
    assert "index.html" in listing_it(harness)

    retract(harness, article_id)
    deliver(harness, reader.new_records())

    assert listing_it(harness) == []
    assert harness.site_status(f"2023/05/10/{SLUG}/index.html") == 410


def test_a_merged_publish_and_retract_clears_the_month_pages_another_batch_listed_it_on(
    harness: Harness, article: dict[str, Any], clock: Clock
) -> None:
    reader = StreamReader(harness)
    reader.new_records()
    article_id = submit(harness, {**article, "status": "draft"})
    clock.advance(minutes=3)
    # Published backdated: neither its updated_at (its publication date) nor its created_at (a
    # draft's, older than the lease's memory) tells a regeneration it is new.
    published = harness.call(
        "POST", f"/articles/{article_id}/publish", {"published_at": article["published_at"]}
    )
    assert published.status == 200, published.body
    other_id = submit(harness, {**article, "title": "Bài khác ở Ô Môn"})
    pending = reader.new_records()
    deliver(harness, of_article(pending, other_id))
    assert "tag/o-mon/2023/05/index.html" in listing_it(harness)

    retract(harness, article_id)
    deliver(harness, of_article(pending, article_id) + reader.new_records())

    assert listing_it(harness) == []
