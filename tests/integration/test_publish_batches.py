"""A stream batch of 100 changes regenerates each listing's page and feeds once, not 100 times.

100 articles are submitted through the API (over 4 sections, 5 authors and 6 tags), and the
stream records of their commits are handed to the publisher in one invocation, as Lambda's event
source mapping delivers a full batch: template.yaml gives it BatchSize 100 and a batching window,
with which Lambda applies the event filter to each record before adding it to the batch. The
local stack's StreamPoller reads 100 records at a time *before* filtering (an article's commit
also writes its revision and listing items), so there the same commits arrive as a dozen smaller
batches: the test reads them all first and delivers them as one.

Every PutObject the publisher makes is counted per key (a botocore hook on its S3 client).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from functions.dal.factory import get_storage
from functions.logic.content import taxon
from functions.models.paths import FEED_TYPES, feed_path, listing_path, page_key
from infra.cfn import load_template, stream_filter_patterns
from infra.local.lambda_runtime import invoke
from infra.local.stream_poller import StreamPoller
from tests.integration.conftest import SITE_URL, Harness, running_harness

ARTICLES = 100
SECTIONS = ("Thời sự", "Kinh tế", "Văn hóa", "Thể thao")
AUTHORS = ("Na Ra", "Trần Bình", "Lê Chi", "Phạm Dũng", "Hoàng Giang")
TAGS = ("Ô Môn", "Cần Thơ", "Tập huấn", "Đại hội", "Giao thông", "Nông nghiệp")


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    # The local stack's moto patches: stock moto copies the whole table for every transaction.
    with running_harness(monkeypatch, patched_moto=True) as running:
        yield running


def article(number: int, seed: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": f"{seed['title']} – bài {number}",
        "summary": seed["summary"],
        "body": f"<p>{seed['summary']}</p><p>Bài số {number}.</p>",
        "section": SECTIONS[number % len(SECTIONS)],
        "author": AUTHORS[number % len(AUTHORS)],
        "tags": [TAGS[number % len(TAGS)], TAGS[(number + 1) % len(TAGS)]],
    }


def one_batch(harness: Harness) -> list[dict[str, Any]]:
    """Every record the publisher's event filter lets through, read to the end of the stream."""
    records: list[dict[str, Any]] = []

    def keep(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        records.extend(event["Records"])
        return {"batchItemFailures": []}

    table = boto3.client("dynamodb").describe_table(TableName=harness.name("ArticlesTable"))
    reader = StreamPoller(
        harness.streams,
        table["Table"]["LatestStreamArn"],
        keep,
        "Batch",
        filters=stream_filter_patterns(load_template(), "PublisherFunction"),
    )
    while reader.poll_once():
        pass
    return records


def listing_outputs() -> set[str]:
    """The page and the three feeds of the site and of every section, author and tag used."""
    listings = [("home", "")] + [
        (kind, taxon(name).slug)
        for kind, names in (("section", SECTIONS), ("author", AUTHORS), ("tag", TAGS))
        for name in names
    ]
    return {page_key(listing_path(kind, slug)) for kind, slug in listings} | {
        page_key(feed_path(kind, slug, fmt)) for kind, slug in listings for fmt in FEED_TYPES
    }


def test_a_batch_of_100_articles_writes_each_feed_listing_page_and_article_page_once(
    harness: Harness, seed_article: dict[str, Any]
) -> None:
    created = []
    for number in range(ARTICLES):
        response = harness.call("POST", "/articles", article(number, seed_article))
        assert response.status == 201, response.body
        created.append(response.json())
    records = one_batch(harness)
    assert len(records) == ARTICLES  # one commit of each article: one batch, as Lambda's

    puts: Counter[str] = Counter()

    def count(params: dict[str, Any], **_: Any) -> None:
        if params["Bucket"] == harness.name("SiteBucket"):
            puts[params["Key"]] += 1

    site_writes = get_storage().s3.meta.events
    site_writes.register("before-parameter-build.s3.PutObject", count, unique_id="count-site-writes")
    try:
        response = invoke(harness.publisher.lambda_handler, "PublisherFunction", {"Records": records})
    finally:
        site_writes.unregister("before-parameter-build.s3.PutObject", unique_id="count-site-writes")

    assert response.get("batchItemFailures") == []
    written_twice = {key: times for key, times in puts.items() if times > 1}
    assert written_twice == {}
    listings = listing_outputs()
    assert len(listings) == 4 * (1 + len(SECTIONS) + len(AUTHORS) + len(TAGS))
    assert {key: puts[key] for key in listings} == dict.fromkeys(listings, 1)
    article_pages = {page_key(item["url"].removeprefix(SITE_URL)) for item in created}
    assert len(article_pages) == ARTICLES
    assert {key: puts[key] for key in article_pages} == dict.fromkeys(article_pages, 1)
    # The batch completed the feed archive's first two pages; each was written once too.
    assert puts["feeds/archive/1.xml"] == puts["feeds/archive/2.xml"] == 1
