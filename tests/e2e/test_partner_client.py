"""A partner syndicating from the real local stack: webhooks, ninjs, Atom archives, retraction."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

from functions.syndication.webhooks import verify
from tests.conftest import SEED_DIR
from tests.e2e.conftest import ServedStack, fetch, start_stack
from tests.e2e.test_local_stack import SEED_TITLE, cli, submit_seed
from tests.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.e2e
ATOM = "{http://www.w3.org/2005/Atom}"


def api(
    stack: ServedStack, method: str, path: str, key: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(
        stack.api + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def eventually(check: Any, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the stack")
        time.sleep(0.1)


@pytest.fixture
def hub() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def endpoint() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def partner_site(tmp_path: Path, hub: Receiver, endpoint: Receiver) -> Iterator[tuple[ServedStack, Receiver]]:
    """The stack stops before the hub and the partner's endpoint do: no delivery meets a closed port."""
    settings = json.loads((SEED_DIR / "seed-site.json").read_text(encoding="utf-8"))
    settings["websub_hubs"] = hub.url + "/hub"
    site_file = tmp_path / "site.json"
    site_file.write_text(json.dumps(settings, ensure_ascii=False), encoding="utf-8")
    stack = start_stack(tmp_path / "state", None, "--site", str(site_file))
    try:
        yield stack, hub
    finally:
        code = stack.stop()
        errors = [line for line in stack.output if "ERROR" in line or "Traceback" in line]
        assert code == 0 and not errors, "".join(errors[:20])


def test_a_partner_subscribes_receives_verifies_reads_ninjs_walks_archives_and_sees_a_retraction(
    partner_site: tuple[ServedStack, Receiver], endpoint: Receiver
) -> None:
    stack, hub = partner_site
    admin = cli(
        "keys", "create", "--role", "admin", "--name", "Quản trị", "--state-dir", str(stack.state_dir)
    )
    partner_key = cli(
        "keys", "create", "--role", "partner", "--name", "Báo bạn", "--state-dir", str(stack.state_dir)
    )
    admin_key, partner_key_secret = admin.stdout.strip(), partner_key.stdout.strip()

    # Subscribe.
    status, subscription = api(stack, "POST", "/partners", admin_key, {"url": endpoint.url + "/presswire"})
    assert status == 201
    secret = subscription["secret"]

    # The seed article arrives as a signed webhook.
    article_id, url = submit_seed(stack)
    (delivery,) = eventually(
        lambda: [r for r in endpoint.requests if json.loads(r.body)["data"]["id"] == article_id]
    )
    verify(secret, delivery.headers, delivery.body, now=int(time.time()))
    event = json.loads(delivery.body)
    assert event["type"] == "article.published"
    assert event["data"]["ninjs"]["headlines"][0]["value"] == SEED_TITLE

    # The same item, from the syndication API, as ninjs.
    status, item = api(stack, "GET", f"/syndication/articles/{article_id}", partner_key_secret)
    assert status == 200
    assert item == event["data"]["ninjs"]
    assert item["language"] == "vi" and item["pubstatus"] == "usable"
    assert any(association.get("renditions") for association in item["associations"])

    # WebSub: the hub was told the site feed changed.
    pings = eventually(lambda: [r.body.decode() for r in hub.requests if b"feeds%2Fatom.xml" in r.body])
    assert pings[0].startswith("hub.mode=publish&hub.url=")

    # A 200-article site: the Atom feed's archive leads back to the first article.
    seed = json.loads((SEED_DIR / "seed-article.json").read_text(encoding="utf-8"))

    def publish(number: int) -> str:
        body = {
            **seed,
            "title": f"Tin số {number}",
            "body": f"<p>Nội dung tin số {number}.</p>",
            "published_at": f"2024-{1 + number // 28:02d}-{1 + number % 28:02d}T08:00:00+07:00",
        }
        code, created = api(stack, "POST", "/articles", stack.key, body)
        assert code == 201, created
        return str(created["id"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = [article_id, *pool.map(publish, range(1, 200))]
    last_id = ids[-1]
    eventually(lambda: last_id in fetch(stack.url + "/feeds/atom.xml")[2].decode(), timeout=120)

    def archive_walk() -> tuple[list[str], int]:
        """Every entry id met following prev-archive from the head feed, and the pages walked."""
        seen: list[str] = []
        _, _, body = fetch(stack.url + "/feeds/atom.xml")
        document = etree.fromstring(body)
        pages = 0
        while True:
            entries = document.iter(f"{ATOM}entry")
            seen += [entry.findtext(f"{ATOM}id").rsplit(":", 1)[1] for entry in entries]
            previous = document.find(f"{ATOM}link[@rel='prev-archive']")
            if previous is None:
                return seen, pages
            status, headers, body = fetch(previous.get("href"))
            assert status == 200, previous.get("href")  # the head never links a page not yet written
            assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
            document = etree.fromstring(body)
            pages += 1

    def archives_settled() -> bool:
        # The head feed is written before the archive page a batch completes, then relinked to it.
        seen, pages = archive_walk()
        return set(ids) <= set(seen) and pages == 4  # 200 articles: four full archive pages of 50

    eventually(archives_settled, timeout=120)
    seen, _ = archive_walk()
    assert article_id in seen  # the first (and oldest) article: never in the head, only in the archives

    # A retraction arrives through the webhook, the change feed and the feeds.
    status, _ = api(
        stack, "POST", f"/articles/{article_id}/retract", stack.key, {"reason": "Gỡ bỏ theo yêu cầu"}
    )
    assert status == 200
    try:
        retraction = eventually(
            lambda: [
                json.loads(r.body)
                for r in endpoint.requests
                if json.loads(r.body)["type"] == "article.retracted"
            ]
        )[0]
    except AssertionError:
        _, deliveries = api(stack, "GET", f"/partners/{subscription['id']}/deliveries?limit=5", admin_key)
        raise AssertionError(f"no retraction webhook; latest deliveries: {deliveries}") from None
    assert retraction["data"]["id"] == article_id
    assert retraction["data"]["ninjs"]["pubstatus"] == "canceled"

    def retraction_in_change_feed() -> bool:
        cursor: str | None = None
        while True:
            query = f"?limit=100&since={cursor}" if cursor else "?limit=100"
            _, page = api(stack, "GET", "/syndication/articles" + query, partner_key_secret)
            for entry in page["items"]:
                ours = any(alt["value"] == article_id for alt in entry.get("altids", []))
                if ours and entry["pubstatus"] == "canceled":
                    return True
            if not page["items"]:
                return False
            cursor = page["next_cursor"]

    eventually(retraction_in_change_feed, timeout=30)
    for path in ("/feeds/atom.xml", "/feeds/rss.xml"):
        ids_in_feed = {entry.id for entry in feedparser.parse(fetch(stack.url + path)[2]).entries}
        assert not any(article_id in entry_id for entry_id in ids_in_feed)
    status, _, _ = fetch(url)
    assert status == 410
