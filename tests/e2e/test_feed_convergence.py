"""Many reporters at once against the real local stack: every feed ends up with every article."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from tests.conftest import SEED_DIR
from tests.e2e.conftest import ServedStack, fetch, start_stack
from tests.e2e.test_local_stack import submit_seed
from tests.e2e.test_partner_client import api, eventually

pytestmark = pytest.mark.e2e
ARTICLES = 50
REPORTERS = 10


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[ServedStack]:
    served = start_stack(tmp_path / "state")
    try:
        yield served
    finally:
        code = served.stop()
        errors = [line for line in served.output if "ERROR" in line or "Traceback" in line]
        assert code == 0 and not errors, "".join(errors[:20])


def feed_entry_ids(stack: ServedStack, path: str) -> set[str]:
    status, _, body = fetch(stack.url + path)
    if status != 200:
        return set()
    if path.endswith(".json"):
        return {item["id"] for item in json.loads(body)["items"]}
    return {entry.id for entry in feedparser.parse(body).entries}


def test_fifty_articles_from_ten_reporters_at_once_all_reach_every_feed_they_belong_to(
    stack: ServedStack,
) -> None:
    submit_seed(stack)  # uploads the seed's photos, which the articles below reuse
    seed = json.loads((SEED_DIR / "seed-article.json").read_text(encoding="utf-8"))
    newest = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)

    def submit(number: int) -> dict[str, Any]:
        body = {
            **seed,
            "title": f"Tin nhanh số {number}: Ô Môn họp báo",
            "body": f"<p>Nội dung tin nhanh số {number}.</p>",
            "tags": [*seed["tags"], f"Tin nhanh {number}"],
            "published_at": (newest - timedelta(minutes=number)).isoformat(),
        }
        status, created = api(stack, "POST", "/articles", stack.key, body)
        assert status == 201, created
        return dict(created)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=REPORTERS) as reporters:
        created = list(reporters.map(submit, range(ARTICLES)))
    ids = {article["id"] for article in created}
    assert len(ids) == ARTICLES

    def entry_ids_hold(path: str, wanted: set[str]) -> bool:
        seen = feed_entry_ids(stack, path)
        return all(any(article_id in entry for entry in seen) for article_id in wanted)

    site_feeds = ("/feeds/rss.xml", "/feeds/atom.xml", "/feeds/feed.json")
    for path in site_feeds:  # FEED_SIZE is 50: the site's feeds hold exactly these 50, newest first
        eventually(lambda path=path: entry_ids_hold(path, ids), timeout=60)
    section, author = created[0]["section"]["slug"], created[0]["author"]["slug"]
    for listing in (f"/section/{section}", f"/author/{author}"):
        for fmt in ("rss.xml", "atom.xml", "feed.json"):
            eventually(lambda path=f"/feeds{listing}/{fmt}": entry_ids_hold(path, ids), timeout=60)
    for article in created:  # each article's own tag has a feed of one
        tag = next(tag["slug"] for tag in article["tags"] if tag["name"].startswith("Tin nhanh"))
        for fmt in ("rss.xml", "atom.xml", "feed.json"):
            path = f"/feeds/tag/{tag}/{fmt}"
            eventually(lambda path=path, wanted={article["id"]}: entry_ids_hold(path, wanted), timeout=60)
    print(f"{ARTICLES} articles from {REPORTERS} reporters in every feed {time.monotonic() - started:.1f} s")

    # Nothing later takes any of them out again: a stale regeneration would.
    time.sleep(2)
    for path in site_feeds:
        assert entry_ids_hold(path, ids), path
    atom = feedparser.parse(fetch(stack.url + "/feeds/atom.xml")[2])
    published = [entry.published_parsed for entry in atom.entries]
    assert published == sorted(published, reverse=True)
