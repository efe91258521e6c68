"""Partners' channels under moto: feeds per listing, archives, sitemaps, the ninjs change feed,
signed webhooks through the notifier queue, WebSub pings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import feedparser
import pytest
from lxml import etree

from functions.syndication.webhooks import verify
from tests.integration.conftest import Clock, Harness
from tests.webhook_receiver import Receiver, webhook_receiver

SLUG = "o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def article(seed_article: dict[str, Any]) -> dict[str, Any]:
    return {**seed_article, "body": "<p>Qua 3 ngày tập huấn, các học viên đã nghiên cứu.</p>"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def admin(harness: Harness) -> str:
    return harness.new_key("admin", "Quản trị")


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.logic import notify

    monkeypatch.setattr(notify, "backoff_seconds", lambda attempt: 0)


def create(harness: Harness, article: dict[str, Any]) -> dict[str, Any]:
    response = harness.call("POST", "/articles", article)
    assert response.status == 201, response.body
    harness.publish()
    return response.json()


def subscribe(harness: Harness, admin: str, url: str, **filters: Any) -> dict[str, Any]:
    response = harness.call("POST", "/partners", {"url": url, **filters}, key=admin)
    assert response.status == 201, response.body
    return response.json()


def test_every_listing_gets_rss_atom_and_json_feeds(harness: Harness, article: dict[str, Any]) -> None:
    create(harness, article)

    for base in ("feeds", "feeds/section/hoat-dong-mat-tran", "feeds/tag/o-mon", "feeds/author/na-ra"):
        for name in ("rss.xml", "atom.xml"):
            feed = feedparser.parse(harness.site_object(f"{base}/{name}"))
            assert feed.bozo == 0 and feed.entries[0].title == article["title"], f"{base}/{name}"
        document = json.loads(harness.site_object(f"{base}/feed.json"))
        assert document["version"] == "https://jsonfeed.org/version/1.1"
        assert document["items"][0]["title"] == article["title"]


def test_a_partner_receives_a_signed_webhook_when_an_article_is_published(
    harness: Harness, article: dict[str, Any], admin: str, receiver: Receiver
) -> None:
    partner = subscribe(harness, admin, receiver.url + "/hooks")
    created = create(harness, article)

    harness.notify()

    (request,) = receiver.wait_for(1)
    verify(partner["secret"], request.headers, request.body, now=int(request.headers["webhook-timestamp"]))
    event = json.loads(request.body)
    assert event["type"] == "article.published"
    assert event["data"]["id"] == created["id"]
    assert event["data"]["ninjs"]["headlines"][0]["value"] == article["title"]
    deliveries = harness.call("GET", f"/partners/{partner['id']}/deliveries", key=admin).json()["items"]
    assert [(item["status"], item["attempts"], item["response_status"]) for item in deliveries] == [
        ("delivered", 1, 200)
    ]


def test_a_5xx_is_retried_and_the_same_message_id_is_delivered_again(
    harness: Harness, article: dict[str, Any], admin: str, receiver: Receiver, no_backoff: None
) -> None:
    partner = subscribe(harness, admin, receiver.url)
    receiver.statuses = [503, 500]
    create(harness, article)

    harness.notify(rounds=6)

    requests = receiver.wait_for(3)
    assert len({request.headers["webhook-id"] for request in requests}) == 1
    deliveries = harness.call("GET", f"/partners/{partner['id']}/deliveries", key=admin).json()["items"]
    assert (deliveries[0]["status"], deliveries[0]["attempts"]) == ("delivered", 3)


def test_after_the_last_attempt_the_message_goes_to_the_dead_letter_queue_and_the_failure_shows(
    harness: Harness, article: dict[str, Any], admin: str, receiver: Receiver, no_backoff: None
) -> None:
    from functions.logic.notify import MAX_ATTEMPTS

    partner = subscribe(harness, admin, receiver.url)
    receiver.statuses = [500] * 20
    create(harness, article)

    harness.notify(rounds=MAX_ATTEMPTS + 4)

    assert len(receiver.requests) == MAX_ATTEMPTS
    deliveries = harness.call("GET", f"/partners/{partner['id']}/deliveries", key=admin).json()["items"]
    assert (deliveries[0]["status"], deliveries[0]["attempts"], deliveries[0]["response_status"]) == (
        "failed",
        MAX_ATTEMPTS,
        500,
    )
    dead = harness.sqs.receive_message(QueueUrl=harness.name("NotifyDeadLetterQueue"), MaxNumberOfMessages=10)
    assert json.loads(dead["Messages"][0]["Body"])["partner_id"] == partner["id"]


def test_a_4xx_is_not_retried(
    harness: Harness, article: dict[str, Any], admin: str, receiver: Receiver, no_backoff: None
) -> None:
    partner = subscribe(harness, admin, receiver.url)
    receiver.statuses = [410]
    create(harness, article)

    harness.notify()

    assert len(receiver.requests) == 1
    deliveries = harness.call("GET", f"/partners/{partner['id']}/deliveries", key=admin).json()["items"]
    assert deliveries[0]["status"] == "failed"


def test_subscriptions_filter_by_event_section_and_tag(
    harness: Harness, article: dict[str, Any], admin: str, receiver: Receiver
) -> None:
    subscribe(harness, admin, receiver.url + "/thoi-su", sections=["thoi-su"])
    subscribe(harness, admin, receiver.url + "/o-mon", tags=["o-mon"])
    subscribe(harness, admin, receiver.url + "/retractions", events=["article.retracted"])

    create(harness, article)
    harness.notify()

    assert [request.path for request in receiver.wait_for(1)] == ["/o-mon"]


def test_the_change_feed_serves_ninjs_oldest_first_with_updates_and_retractions(
    harness: Harness, article: dict[str, Any], clock: Clock
) -> None:
    partner = harness.new_key("partner", "Báo đối tác")
    first = create(harness, article)
    clock.advance(seconds=1)
    second = create(harness, {**article, "title": "Tin thứ hai"})
    clock.advance(seconds=1)
    etag = harness.call("GET", f"/articles/{first['id']}").headers["ETag"]
    harness.call(
        "PATCH", f"/articles/{first['id']}", {"correction": "Đính chính"}, headers={"If-Match": etag}
    )
    clock.advance(seconds=1)
    harness.call("POST", f"/articles/{second['id']}/retract", {"reason": "Gỡ bỏ"})
    clock.advance(seconds=10)  # past the settling window

    page = harness.call("GET", "/syndication/articles", key=partner, query="limit=3").json()
    rest = harness.call(
        "GET", "/syndication/articles", key=partner, query=f"since={page['next_cursor']}"
    ).json()

    items = page["items"] + rest["items"]
    assert [(item["headlines"][0]["value"], item["version"]) for item in items[:3]] == [
        (article["title"], "1"),
        ("Tin thứ hai", "1"),
        (article["title"], "2"),
    ]
    assert items[3]["pubstatus"] == "canceled" and "bodies" not in items[3]
    assert rest["next_cursor"]
    later = harness.call(
        "GET", "/syndication/articles", key=partner, query=f"since={rest['next_cursor']}"
    ).json()
    assert later["items"] == [] and later["next_cursor"] == rest["next_cursor"]
    by_time = harness.call(
        "GET", "/syndication/articles", key=partner, query="since=2026-11-27T00:00:00Z"
    ).json()
    assert len(by_time["items"]) == 4


def test_an_embargoed_article_reaches_partners_only_when_its_embargo_ends(
    harness: Harness, article: dict[str, Any], admin: str, receiver: Receiver, clock: Clock
) -> None:
    from functions.handlers import scheduler
    from infra.local.lambda_runtime import invoke

    partner_key = harness.new_key("partner", "Báo đối tác")
    subscribe(harness, admin, receiver.url)
    created = create(harness, {**article, "embargo_until": "2026-11-27T16:00:00+07:00"})  # 09:00 UTC
    harness.notify()
    clock.advance(minutes=30)

    assert receiver.requests == []
    assert harness.call("GET", "/syndication/articles", key=partner_key).json()["items"] == []
    assert harness.call("GET", f"/syndication/articles/{created['id']}", key=partner_key).status == 404

    clock.advance(minutes=31)
    assert invoke(scheduler.lambda_handler, "SchedulerFunction", {})["embargo_ended"] == [created["id"]]
    harness.notify()

    assert json.loads(receiver.wait_for(1)[0].body)["type"] == "article.published"
    feed = harness.call("GET", "/syndication/articles", key=partner_key).json()
    assert [item["altids"] for item in feed["items"]] and len(feed["items"]) == 1
    assert harness.call("GET", f"/syndication/articles/{created['id']}", key=partner_key).status == 200


def test_a_retraction_reaches_partners_through_the_webhook(
    harness: Harness, article: dict[str, Any], admin: str, receiver: Receiver
) -> None:
    partner = subscribe(harness, admin, receiver.url)
    created = create(harness, article)
    harness.notify()
    harness.call("POST", f"/articles/{created['id']}/retract", {"reason": "Sai sự thật"})
    harness.publish()

    harness.notify()

    retraction = json.loads(receiver.wait_for(2)[1].body)
    verify(
        partner["secret"],
        receiver.requests[1].headers,
        receiver.requests[1].body,
        now=int(receiver.requests[1].headers["webhook-timestamp"]),
    )
    assert retraction["type"] == "article.retracted"
    assert retraction["data"]["ninjs"]["pubstatus"] == "canceled"


def test_the_site_atom_feed_pages_its_archive_back_to_the_first_article(
    harness: Harness, article: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.logic import publish_articles

    monkeypatch.setattr(publish_articles, "ARCHIVE_PAGE_SIZE", 3)
    ids = [
        create(
            harness,
            {**article, "title": f"Tin số {number}", "published_at": f"2023-05-{number:02d}T08:00:00+07:00"},
        )["id"]
        for number in range(1, 8)
    ]

    seen: list[str] = []
    document = etree.fromstring(harness.site_object("feeds/atom.xml"))
    pages = 0
    while True:
        seen += [entry.findtext(f"{ATOM}id").rsplit(":", 1)[1] for entry in document.iter(f"{ATOM}entry")]
        previous = document.find(f"{ATOM}link[@rel='prev-archive']")
        if previous is None:
            break
        pages += 1
        key = previous.get("href").split("/", 3)[3]
        head = harness.s3.head_object(Bucket=harness.name("SiteBucket"), Key=key)
        assert head["CacheControl"] == "public, max-age=31536000, immutable"
        document = etree.fromstring(harness.site_object(key))
        assert document.find("{http://purl.org/syndication/history/1.0}archive") is not None

    assert pages == 2
    assert set(ids) <= set(seen)


def test_sitemaps_and_robots_list_the_published_articles(harness: Harness, article: dict[str, Any]) -> None:
    create(harness, article)
    sitemap = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

    index = etree.fromstring(harness.site_object("sitemap.xml"))
    month = etree.fromstring(harness.site_object("sitemaps/2023-05.xml"))
    news = harness.site_object("sitemap-news.xml").decode()
    robots = harness.site_object("robots.txt").decode()

    assert [loc.text for loc in index.iter(f"{sitemap}loc")] == [
        "https://news.example.vn/sitemaps/2023-05.xml"
    ]
    assert [loc.text for loc in month.iter(f"{sitemap}loc")] == [
        f"https://news.example.vn/2023/05/10/{SLUG}/"
    ]
    assert article["title"] in news
    assert "Sitemap: https://news.example.vn/sitemap.xml" in robots and "Disallow: /api/" in robots


def test_websub_hubs_are_pinged_after_the_feeds_change(
    harness: Harness, article: dict[str, Any], receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.config import get_settings

    monkeypatch.setenv("WEBSUB_HUBS", receiver.url + "/hub")
    get_settings.cache_clear()
    create(harness, article)

    harness.notify()

    pings = {request.body.decode() for request in receiver.wait_for(1)}
    assert "hub.mode=publish&hub.url=https%3A%2F%2Fnews.example.vn%2Ffeeds%2Fatom.xml" in pings
    assert b'rel="hub"' in harness.site_object("feeds/atom.xml")


def test_partner_administration_is_for_admins_only(harness: Harness, admin: str, receiver: Receiver) -> None:
    editor_attempt = harness.call("POST", "/partners", {"url": receiver.url})
    partner = subscribe(harness, admin, receiver.url)
    listed = harness.call("GET", "/partners", key=admin).json()["items"]

    assert editor_attempt.status == 403
    assert [item["id"] for item in listed] == [partner["id"]]
    assert "secret" not in listed[0]
    assert harness.call("DELETE", f"/partners/{partner['id']}", key=admin).status == 204
    assert harness.call("GET", f"/partners/{partner['id']}/deliveries", key=admin).status == 404
