"""Every editorial transition, handler level under moto: the API write, the stream, the publisher."""

from __future__ import annotations

import threading
from typing import Any

import feedparser
import pytest

from tests.integration.conftest import Clock, Harness

SLUG = "o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023"
PAGE = f"2023/05/10/{SLUG}/index.html"


@pytest.fixture
def article(seed_article: dict[str, Any]) -> dict[str, Any]:
    return {**seed_article, "body": "<p>Qua 3 ngày tập huấn, các học viên đã nghiên cứu.</p>"}


def create(harness: Harness, article: dict[str, Any], key: str = "default") -> tuple[dict[str, Any], str]:
    response = harness.call("POST", "/articles", article, key=key)
    assert response.status == 201, response.body
    harness.publish()
    return response.json(), response.headers["ETag"]


def feed_entries(harness: Harness, key: str) -> list[Any]:
    feed = feedparser.parse(harness.site_object(key))
    assert feed.bozo == 0
    return list(feed.entries)


def test_put_with_the_current_etag_replaces_the_article_and_moves_the_etag(
    harness: Harness, article: dict[str, Any]
) -> None:
    created, etag = create(harness, article)

    response = harness.call(
        "PUT",
        f"/articles/{created['id']}",
        {**article, "title": "Ô Môn: tập huấn năm 2023"},
        headers={"If-Match": etag},
    )
    harness.publish()

    assert response.status == 200, response.body
    assert response.headers["ETag"] != etag
    assert response.json()["revision"] == 2
    assert response.json()["slug"] == SLUG  # the URL is stable across edits
    assert "Ô Môn: tập huấn năm 2023" in harness.site_object(PAGE).decode()
    assert feed_entries(harness, "feeds/atom.xml")[0].title == "Ô Môn: tập huấn năm 2023"


def test_an_update_without_if_match_gets_428_and_a_stale_one_412_and_nothing_changes(
    harness: Harness, article: dict[str, Any]
) -> None:
    created, etag = create(harness, article)
    path = f"/articles/{created['id']}"
    assert harness.call("PATCH", path, {"title": "Mới"}, headers={"If-Match": etag}).status == 200

    missing = harness.call("PATCH", path, {"title": "Không có If-Match"})
    stale = harness.call("PATCH", path, {"title": "Cũ"}, headers={"If-Match": etag})

    assert missing.status == 428 and missing.headers["Content-Type"] == "application/problem+json"
    assert stale.status == 412 and stale.json()["field"] == "If-Match"
    current = harness.call("GET", path).json()
    assert current["title"] == "Mới" and current["revision"] == 2


def test_two_editors_racing_on_one_article_exactly_one_wins(
    harness: Harness, article: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.dal.factory import get_storage

    created, etag = create(harness, article)
    results: list[int] = []
    start = threading.Barrier(2)
    # moto's in-process DynamoDB is not thread-safe inside one transaction; DynamoDB itself
    # serializes conflicting transactions, so serializing them here keeps the race faithful.
    dynamodb = get_storage().dynamodb
    serial = threading.Lock()
    transact = dynamodb.transact_write_items

    def one_at_a_time(**request: Any) -> Any:
        with serial:
            return transact(**request)

    monkeypatch.setattr(dynamodb, "transact_write_items", one_at_a_time)

    def edit(title: str) -> None:
        start.wait()
        response = harness.call(
            "PATCH", f"/articles/{created['id']}", {"title": title}, headers={"If-Match": etag}
        )
        results.append(response.status)

    threads = [threading.Thread(target=edit, args=(title,)) for title in ("Biên tập A", "Biên tập B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [200, 412]
    assert harness.call("GET", f"/articles/{created['id']}").json()["revision"] == 2


def test_a_correction_shows_a_dated_notice_moves_updated_but_keeps_the_rss_guid_and_pubdate(
    harness: Harness, article: dict[str, Any], clock: Clock
) -> None:
    created, etag = create(harness, article)
    rss_before = feed_entries(harness, "feeds/rss.xml")[0]
    atom_before = feed_entries(harness, "feeds/atom.xml")[0]

    response = harness.call(
        "PATCH",
        f"/articles/{created['id']}",
        {"summary": "Lớp tập huấn kéo dài 3 ngày.", "correction": "Sửa thời gian tập huấn thành 3 ngày."},
        headers={"If-Match": etag},
    )
    harness.publish()

    assert response.status == 200, response.body
    assert response.json()["updated_at"].startswith("2026-11-27T08:00:00")
    page = harness.site_object(PAGE).decode()
    assert "Sửa thời gian tập huấn thành 3 ngày." in page
    assert "27/11/2026" in page  # the notice is dated, in Asia/Ho_Chi_Minh
    assert '"dateModified":"2026-11-27T15:00:00+07:00"' in page
    rss_after = feed_entries(harness, "feeds/rss.xml")[0]
    atom_after = feed_entries(harness, "feeds/atom.xml")[0]
    assert (rss_after.id, rss_after.published) == (rss_before.id, rss_before.published)
    assert atom_after.id == atom_before.id
    assert atom_after.updated_parsed > atom_before.updated_parsed


def test_retraction_replaces_the_page_with_a_410_notice_and_removes_it_from_feeds_and_listings(
    harness: Harness, article: dict[str, Any]
) -> None:
    created, _ = create(harness, article)

    response = harness.call(
        "POST", f"/articles/{created['id']}/retract", {"reason": "Thông tin chưa được kiểm chứng"}
    )
    harness.publish()

    assert response.status == 200 and response.json()["status"] == "retracted"
    assert harness.site_status(PAGE) == 410
    page = harness.site_object(PAGE).decode()
    assert "Thông tin chưa được kiểm chứng" in page and "Qua 3 ngày tập huấn" not in page
    assert feed_entries(harness, "feeds/rss.xml") == [] and feed_entries(harness, "feeds/atom.xml") == []
    for key in (
        "index.html",
        "section/hoat-dong-mat-tran/index.html",
        "tag/o-mon/index.html",
        "author/na-ra/index.html",
    ):
        assert SLUG not in harness.site_object(key).decode(), key
    assert harness.call("GET", "/articles").json()["items"] == []
    assert [
        item["id"] for item in harness.call("GET", "/articles", query="status=retracted").json()["items"]
    ] == [created["id"]]
    # The canonical record and its history stay.
    assert harness.call("GET", f"/articles/{created['id']}").json()["body_html"].startswith("<p>Qua 3 ngày")


def test_reinstating_a_retracted_article_brings_back_page_feeds_and_listings(
    harness: Harness, article: dict[str, Any]
) -> None:
    created, _ = create(harness, article)
    harness.call("POST", f"/articles/{created['id']}/retract", {"reason": "Nhầm lẫn"})
    harness.publish()

    response = harness.call("POST", f"/articles/{created['id']}/reinstate")
    harness.publish()

    assert response.status == 200 and response.json()["status"] == "published"
    assert harness.site_status(PAGE) == 200
    assert "Qua 3 ngày tập huấn" in harness.site_object(PAGE).decode()
    assert [entry.title for entry in feed_entries(harness, "feeds/atom.xml")] == [article["title"]]
    assert SLUG in harness.site_object("tag/o-mon/index.html").decode()


def test_wrong_transitions_get_409(harness: Harness, article: dict[str, Any]) -> None:
    created, _ = create(harness, article)

    assert harness.call("POST", f"/articles/{created['id']}/reinstate").status == 409
    assert harness.call("POST", f"/articles/{created['id']}/publish").status == 409


def test_reporters_file_drafts_that_are_never_public_until_an_editor_publishes(
    harness: Harness, article: dict[str, Any], clock: Clock
) -> None:
    reporter = harness.new_key("reporter", "Na Ra")
    created, etag = create(harness, {**article, "published_at": None}, key=reporter)

    assert created["status"] == "draft"
    assert not any(key.startswith("2026/") for key in harness.site_keys())
    assert "feeds/atom.xml" not in harness.site_keys()  # a draft touches no public output
    # The reporter may keep editing their own draft.
    edited = harness.call(
        "PATCH",
        f"/articles/{created['id']}",
        {"summary": "Bản nháp"},
        headers={"If-Match": etag},
        key=reporter,
    )
    assert edited.status == 200

    published = harness.call("POST", f"/articles/{created['id']}/publish")
    harness.publish()

    assert published.status == 200 and published.json()["status"] == "published"
    assert published.json()["published_at"].startswith("2026-11-27T08:00:00")
    assert f"2026/11/27/{SLUG}/index.html" in harness.site_keys()
    assert [entry.title for entry in feed_entries(harness, "feeds/atom.xml")] == [article["title"]]


def test_roles_reporters_cannot_publish_retract_or_touch_others_work_and_partners_only_read(
    harness: Harness, article: dict[str, Any]
) -> None:
    reporter = harness.new_key("reporter", "Na Ra")
    other_reporter = harness.new_key("reporter", "Thu Hà")
    partner = harness.new_key("partner", "Báo đối tác")
    draft, draft_etag = create(harness, {**article, "status": "draft"}, key=reporter)
    live, live_etag = create(harness, {**article, "title": "Đã xuất bản"})

    checks = {
        "reporter publishes on submit": harness.call(
            "POST", "/articles", {**article, "status": "published"}, key=reporter
        ),
        "reporter publishes a draft": harness.call("POST", f"/articles/{draft['id']}/publish", key=reporter),
        "reporter edits a published article": harness.call(
            "PATCH", f"/articles/{live['id']}", {"title": "x"}, headers={"If-Match": live_etag}, key=reporter
        ),
        "reporter retracts": harness.call(
            "POST", f"/articles/{live['id']}/retract", {"reason": "x"}, key=reporter
        ),
        "reporter edits someone else's draft": harness.call(
            "PATCH",
            f"/articles/{draft['id']}",
            {"title": "x"},
            headers={"If-Match": draft_etag},
            key=other_reporter,
        ),
        "partner submits": harness.call("POST", "/articles", article, key=partner),
        "partner lists drafts": harness.call("GET", "/articles", query="status=draft", key=partner),
        "reporter manages keys": harness.call("GET", "/keys", key=reporter),
    }

    assert {name: response.status for name, response in checks.items()} == dict.fromkeys(checks, 403)
    assert all(response.headers["Content-Type"] == "application/problem+json" for response in checks.values())
    assert harness.call("GET", f"/articles/{draft['id']}", key=partner).status == 404
    assert harness.call("GET", f"/articles/{live['id']}", key=partner).status == 200


def test_a_future_published_at_schedules_the_article_and_the_scheduler_publishes_it_on_time(
    harness: Harness, article: dict[str, Any], clock: Clock
) -> None:
    from functions.handlers import scheduler
    from infra.local.lambda_runtime import invoke

    created, _ = create(harness, {**article, "published_at": "2026-11-27T16:00:00+07:00"})  # 09:00 UTC
    assert created["status"] == "scheduled"
    assert f"2026/11/27/{SLUG}/index.html" not in harness.site_keys()

    clock.advance(minutes=59)  # 15:59 in Ho Chi Minh City: not yet
    assert invoke(scheduler.lambda_handler, "SchedulerFunction", {})["published"] == []
    clock.advance(minutes=1, seconds=30)
    ran = invoke(scheduler.lambda_handler, "SchedulerFunction", {})
    harness.publish()

    assert ran["published"] == [created["id"]]
    assert harness.call("GET", f"/articles/{created['id']}").json()["status"] == "published"
    assert f"2026/11/27/{SLUG}/index.html" in harness.site_keys()
    assert [entry.title for entry in feed_entries(harness, "feeds/rss.xml")] == [article["title"]]
    assert invoke(scheduler.lambda_handler, "SchedulerFunction", {})["published"] == []


def test_an_embargoed_article_is_on_the_site_but_withheld_from_partners_until_its_time(
    harness: Harness, article: dict[str, Any], clock: Clock
) -> None:
    partner = harness.new_key("partner", "Báo đối tác")
    created, _ = create(harness, {**article, "embargo_until": "2026-11-27T16:00:00+07:00"})

    assert SLUG in harness.site_object("index.html").decode()
    assert harness.call("GET", "/articles", key=partner).json()["items"] == []
    assert harness.call("GET", f"/articles/{created['id']}", key=partner).status == 404

    clock.advance(hours=1)

    assert [item["id"] for item in harness.call("GET", "/articles", key=partner).json()["items"]] == [
        created["id"]
    ]
    assert harness.call("GET", f"/articles/{created['id']}", key=partner).status == 200


def test_every_change_is_a_revision_with_its_s3_version_and_any_revision_can_be_read_back(
    harness: Harness, article: dict[str, Any]
) -> None:
    created, etag = create(harness, article)
    path = f"/articles/{created['id']}"
    etag = harness.call("PATCH", path, {"title": "Tiêu đề thứ hai"}, headers={"If-Match": etag}).headers[
        "ETag"
    ]
    harness.call("PATCH", path, {"correction": "Đính chính tên người"}, headers={"If-Match": etag})
    harness.call("POST", f"{path}/retract", {"reason": "Gỡ bỏ"})
    harness.call("POST", f"{path}/reinstate")

    revisions = harness.call("GET", f"{path}/revisions").json()["items"]

    assert [item["action"] for item in revisions] == ["create", "update", "correct", "retract", "reinstate"]
    assert revisions[1]["changed"] == ["title"]
    assert revisions[2]["note"] == "Đính chính tên người"
    assert {item["by"] for item in revisions} == {"tests"}
    assert len({item["version_id"] for item in revisions}) == 5
    versions = harness.s3.list_object_versions(
        Bucket=harness.name("ContentBucket"), Prefix=f"articles/{created['id']}"
    )
    assert {version["VersionId"] for version in versions["Versions"]} == {
        item["version_id"] for item in revisions
    }
    first = harness.call("GET", path, query="version=1")
    assert first.status == 200 and first.json()["title"] == article["title"]


def test_a_preview_link_shows_the_draft_until_it_expires(
    harness: Harness, article: dict[str, Any], clock: Clock
) -> None:
    created, _ = create(harness, {**article, "status": "draft"})
    response = harness.call("POST", f"/articles/{created['id']}/preview")
    assert response.status == 201
    url = response.json()["url"]
    token_path = url.split("/api", 1)[1]

    page = harness.call("GET", token_path, key=None)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Qua 3 ngày tập huấn" in page.body.decode() and "noindex" in page.body.decode()
    assert harness.call("GET", "/preview/" + "x" * 43, key=None).status == 404

    clock.advance(hours=2)

    assert harness.call("GET", token_path, key=None).status == 404


def test_sections_tags_and_authors_have_pages_and_filter_the_listing(
    harness: Harness, article: dict[str, Any]
) -> None:
    first, _ = create(harness, article)
    second, _ = create(
        harness,
        {
            **article,
            "title": "Tin thời sự",
            "section": "Thời sự",
            "tags": ["Cần Thơ"],
            "author": "Thu Hà",
            "published_at": "2023-05-11T08:00:00+07:00",
        },
    )

    def ids(query: str) -> list[str]:
        return [item["id"] for item in harness.call("GET", "/articles", query=query).json()["items"]]

    assert ids("") == [second["id"], first["id"]]
    assert ids("section=thoi-su") == [second["id"]]
    assert ids("tag=o-mon") == [first["id"]]
    assert ids("author=thu-ha") == [second["id"]]
    assert ids("tag=o-mon&section=thoi-su") == []
    assert "Tin thời sự" in harness.site_object("section/thoi-su/index.html").decode()
    assert "Tin thời sự" in harness.site_object("tag/can-tho/index.html").decode()
    assert "Tin thời sự" in harness.site_object("author/thu-ha/index.html").decode()


def test_presigned_media_uploads_are_bound_to_type_and_size_and_carry_caption_and_credit(
    harness: Harness, article: dict[str, Any]
) -> None:
    photo = b"\xff\xd8\xff" + b"0" * 1000
    ticket = harness.call(
        "POST",
        "/media",
        {
            "filename": "Ảnh lớp học.jpg",
            "content_type": "image/jpeg",
            "length": len(photo),
            "caption": "Lớp tập huấn",
            "credit": "Ảnh: Na Ra",
            "alt": "Học viên",
        },
    )
    too_big = harness.call(
        "POST", "/media", {"filename": "x.jpg", "content_type": "image/jpeg", "length": 11 << 20}
    )
    wrong_type = harness.call(
        "POST", "/media", {"filename": "x.svg", "content_type": "image/svg+xml", "length": 5}
    )

    assert ticket.status == 201, ticket.body
    assert too_big.status == 422 and wrong_type.status == 422
    issued = ticket.json()
    assert issued["upload_headers"]["Content-Type"] == "image/jpeg"
    assert issued["upload_headers"]["Content-Length"] == str(len(photo))
    assert "Signature=" in issued["upload_url"] or "X-Amz-Signature=" in issued["upload_url"]
    assert issued["url"].startswith("/media/") and issued["url"].endswith("/anh-lop-hoc.jpg")
    # The client PUTs the bytes to upload_url (exercised over HTTP in tests/e2e); here, directly:
    harness.s3.put_object(
        Bucket=harness.name("ContentBucket"),
        Key="media/" + issued["url"].removeprefix("/media/"),
        Body=photo,
        ContentType="image/jpeg",
    )

    body = f'<p>x</p><figure><img src="{issued["url"]}" alt=""></figure>'
    created, _ = create(harness, {**article, "body": body})

    image = harness.call("GET", f"/articles/{created['id']}").json()["images"][0]
    assert (image["caption"], image["credit"], image["alt"], image["length"]) == (
        "Lớp tập huấn",
        "Ảnh: Na Ra",
        "Học viên",
        len(photo),
    )


def test_admins_create_list_and_revoke_keys_and_a_revoked_key_stops_working_at_once(harness: Harness) -> None:
    admin = harness.new_key("admin", "Quản trị")

    created = harness.call("POST", "/keys", {"role": "reporter", "name": "Phóng viên mới"}, key=admin)
    assert created.status == 201
    secret = created.json()["key"]
    assert harness.call("GET", "/articles", key=secret).status == 200
    listed = harness.call("GET", "/keys", key=admin).json()["items"]
    assert "Phóng viên mới" in {item["name"] for item in listed}
    assert all("key" not in item and "key_hash" not in item for item in listed)

    revoked = harness.call("DELETE", f"/keys/{created.json()['key_id']}", key=admin)

    assert revoked.status == 200 and revoked.json()["revoked"] is True
    assert harness.call("GET", "/articles", key=secret).status == 401


def test_replaying_a_retraction_batch_leaves_identical_outputs(
    harness: Harness, article: dict[str, Any]
) -> None:
    from functions.handlers import publisher
    from infra.local.lambda_runtime import invoke

    created, _ = create(harness, article)
    harness.call("POST", f"/articles/{created['id']}/retract", {"reason": "Gỡ bỏ"})
    delivered: list[dict[str, Any]] = []
    original = harness.poller._handler
    harness.poller._handler = lambda event, context: delivered.append(event) or original(event, context)
    harness.publish()
    before = {key: harness.site_object(key) for key in harness.site_keys()}

    for event in delivered:
        invoke(publisher.lambda_handler, "PublisherFunction", event)

    assert {key: harness.site_object(key) for key in harness.site_keys()} == before
    assert harness.site_status(PAGE) == 410


def test_the_openapi_document_describes_every_route_its_errors_and_bearer_auth(harness: Harness) -> None:
    document = harness.call("GET", "/openapi.json", key=None).json()

    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    patch = document["paths"]["/articles/{article_id}"]["patch"]
    assert {"412", "428", "403", "401"} <= set(patch["responses"])
    assert any(parameter["name"] == "if-match" for parameter in patch["parameters"])
    assert patch["security"] == [{"bearerAuth": []}]
    assert "security" not in document["paths"]["/preview/{token}"]["get"]


def test_publishing_a_draft_with_a_future_time_schedules_it_and_a_reporter_may_edit_their_scheduled_article(
    harness: Harness, article: dict[str, Any], clock: Clock
) -> None:
    from functions.handlers import scheduler
    from infra.local.lambda_runtime import invoke

    reporter = harness.new_key("reporter", "Na Ra")
    created, _ = create(harness, {**article, "published_at": None}, key=reporter)

    scheduled = harness.call(
        "POST", f"/articles/{created['id']}/publish", {"published_at": "2026-11-28T07:00:00+07:00"}
    )
    assert scheduled.status == 200 and scheduled.json()["status"] == "scheduled"
    assert scheduled.json()["url"].endswith(f"/2026/11/28/{SLUG}/")
    edited = harness.call(
        "PATCH",
        f"/articles/{created['id']}",
        {"summary": "Tóm tắt mới"},
        headers={"If-Match": scheduled.headers["ETag"]},
        key=reporter,
    )
    assert edited.status == 200 and edited.json()["status"] == "scheduled"
    revisions = harness.call("GET", f"/articles/{created['id']}/revisions").json()["items"]
    assert [item["action"] for item in revisions] == ["create", "schedule", "update"]

    clock.advance(hours=16)  # 2026-11-28 07:00 in Ho Chi Minh City
    assert invoke(scheduler.lambda_handler, "SchedulerFunction", {})["published"] == [created["id"]]
    harness.publish()

    assert f"2026/11/28/{SLUG}/index.html" in harness.site_keys()
    assert "Tóm tắt mới" in harness.site_object(f"2026/11/28/{SLUG}/index.html").decode()
