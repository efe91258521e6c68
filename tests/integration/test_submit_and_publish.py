"""Handler level, under moto: submit -> stream record -> publisher -> objects in the site bucket."""

from __future__ import annotations

import json
from typing import Any

import feedparser
import pytest

from tests.integration.conftest import SITE_URL, Harness

SEED_SLUG = "o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023"
SEED_PAGE_KEY = f"2023/05/10/{SEED_SLUG}/index.html"


def submit(harness: Harness, article: dict[str, Any]) -> dict[str, Any]:
    response = harness.call("POST", "/articles", article)
    assert response.status == 201, response.body
    return response.json()


def test_seed_article_submitted_over_the_api_is_published_as_page_home_and_feeds(
    harness: Harness, seed_article: dict[str, Any]
) -> None:
    response = harness.call("POST", "/articles", harness.upload_seed_images(seed_article))

    assert response.status == 201, response.body
    created = response.json()
    assert created["slug"] == SEED_SLUG
    assert created["url"] == f"{SITE_URL}/2023/05/10/{SEED_SLUG}/"
    assert created["status"] == "published"
    assert response.headers["ETag"].startswith('"')
    assert created["published_at"].startswith("2023-05-10T09:30:00")

    harness.publish()

    page = harness.site_object(SEED_PAGE_KEY).decode("utf-8")
    assert seed_article["title"] in page
    assert "Quang cảnh lớp tập huấn" in page
    assert '<html lang="vi"' in page
    home = harness.site_object("index.html").decode("utf-8")
    assert f"/2023/05/10/{SEED_SLUG}/" in home
    for key in ("feeds/rss.xml", "feeds/atom.xml"):
        feed = feedparser.parse(harness.site_object(key))
        assert feed.bozo == 0, feed.get("bozo_exception")
        (entry,) = feed.entries
        assert entry.title == seed_article["title"]
        assert entry.link == created["url"]
        content = entry.content[0].value
        assert "Qua 3 ngày tập huấn" in content
        assert f"{SITE_URL}/media/" in content


def test_canonical_json_is_versioned_in_s3_and_the_item_points_at_that_version(
    harness: Harness, seed_article: dict[str, Any]
) -> None:
    created = submit(harness, harness.upload_seed_images(seed_article))
    bucket = harness.name("ContentBucket")
    versions = harness.s3.list_object_versions(Bucket=bucket, Prefix=f"articles/{created['id']}.json")
    (version,) = versions["Versions"]
    canonical = json.loads(
        harness.s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])[
            "Body"
        ].read()
    )
    assert canonical["title"] == seed_article["title"]
    assert canonical["body_html"].count("<figure>") == 2

    import boto3

    item = boto3.client("dynamodb").get_item(
        TableName=harness.name("ArticlesTable"),
        Key={"pk": {"S": f"ARTICLE#{created['id']}"}, "sk": {"S": "ARTICLE"}},
    )["Item"]
    assert item["content_version"]["S"] == version["VersionId"]
    assert "body" not in item  # bodies live in S3, never in the 400 KB item


def test_get_article_returns_the_canonical_document_with_its_etag(
    harness: Harness, seed_article: dict[str, Any]
) -> None:
    created = submit(harness, harness.upload_seed_images(seed_article))

    response = harness.call("GET", f"/articles/{created['id']}")

    assert response.status == 200
    article = response.json()
    assert article["body_html"].startswith("<p>Nhằm trang bị")
    assert article["images"][0]["caption"] == "Quang cảnh lớp tập huấn"
    assert article["images"][0]["length"] == 40633
    assert response.headers["ETag"]


def test_replaying_the_same_stream_batch_rewrites_no_output(
    harness: Harness, seed_article: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    submit(harness, harness.upload_seed_images(seed_article))
    delivered: list[dict[str, Any]] = []
    original = harness.publisher.lambda_handler

    def recording(event: dict[str, Any], context: Any) -> Any:
        delivered.append(event)
        return original(event, context)

    monkeypatch.setattr(harness.poller, "_handler", recording)
    from functions.dal.factory import get_storage
    from infra.local.lambda_runtime import invoke

    site_puts: list[str] = []
    get_storage().s3.meta.events.register(
        "provide-client-params.s3.PutObject",
        lambda params, **_: (
            site_puts.append(params["Key"]) if params["Bucket"] == harness.name("SiteBucket") else None
        ),
    )
    harness.publish()
    assert SEED_PAGE_KEY in site_puts  # the hook sees the publisher's writes
    before = {key: harness.site_object(key) for key in harness.site_keys()}
    site_puts.clear()

    result = invoke(original, "PublisherFunction", delivered[0])

    assert result == {"batchItemFailures": []}
    assert {key: harness.site_object(key) for key in harness.site_keys()} == before
    assert site_puts == []


def test_a_second_article_with_the_same_title_gets_a_suffixed_slug(
    harness: Harness, seed_article: dict[str, Any]
) -> None:
    article = {**seed_article, "body": "<p>Một</p>"}
    first = submit(harness, article)
    second = submit(harness, article)

    assert first["slug"] == SEED_SLUG
    assert second["slug"] == f"{SEED_SLUG}-2"
    assert second["url"].endswith(f"/{SEED_SLUG}-2/")


def test_title_in_nfd_is_stored_nfc_and_slugs_the_same(
    harness: Harness, seed_article: dict[str, Any]
) -> None:
    import unicodedata

    article = {
        **seed_article,
        "title": unicodedata.normalize("NFD", seed_article["title"]),
        "body": "<p>x</p>",
    }
    created = submit(harness, article)

    assert created["title"] == seed_article["title"]
    assert created["slug"] == SEED_SLUG


def test_articles_are_listed_newest_first_with_a_cursor(
    harness: Harness, seed_article: dict[str, Any]
) -> None:
    for day in (10, 12, 11):
        submit(
            harness,
            {
                **seed_article,
                "title": f"Tin ngày {day}",
                "body": "<p>x</p>",
                "published_at": f"2023-05-{day}T08:00:00+07:00",
            },
        )

    first = harness.call("GET", "/articles", query="limit=2").json()
    second = harness.call("GET", "/articles", query=f"limit=2&cursor={first['next_cursor']}").json()

    assert [item["title"] for item in first["items"]] == ["Tin ngày 12", "Tin ngày 11"]
    assert [item["title"] for item in second["items"]] == ["Tin ngày 10"]
    assert second["next_cursor"] is None


def test_requests_without_a_valid_key_get_401_problem_json(
    harness: Harness, seed_article: dict[str, Any]
) -> None:
    missing = harness.call("POST", "/articles", seed_article, key=None)
    wrong = harness.call("GET", "/articles", key="pw_not-a-real-key")

    for response in (missing, wrong):
        assert response.status == 401
        assert response.headers["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 401 and problem["title"] and problem["detail"]


def test_invalid_fields_get_422_problem_json_naming_the_field(
    harness: Harness, seed_article: dict[str, Any]
) -> None:
    response = harness.call("POST", "/articles", {**seed_article, "body_format": "docx", "colour": "red"})

    assert response.status == 422
    problem = response.json()
    assert response.headers["Content-Type"] == "application/problem+json"
    fields = {error["field"] for error in problem["errors"]}
    assert {"body_format", "colour"} <= fields


def test_malformed_json_gets_400_problem_json(harness: Harness) -> None:
    response = harness.call("POST", "/articles", b'{"title": "unterminated')

    assert response.status == 400
    assert response.json()["title"] == "The body is not valid JSON"


def test_a_body_referencing_an_image_never_uploaded_is_refused(
    harness: Harness, seed_article: dict[str, Any]
) -> None:
    article = {**seed_article, "body": '<p>x</p><figure><img src="/media/nope/x.jpg" alt="x"></figure>'}

    response = harness.call("POST", "/articles", article)

    assert response.status == 422
    assert response.json()["field"] == "body"


def test_uploaded_media_must_really_be_an_allowed_image_type(harness: Harness) -> None:
    wrong_type = harness.call(
        "POST", "/media", b"<svg/>", headers={"content-type": "image/svg+xml"}, query="filename=x.svg"
    )
    lying = harness.call(
        "POST", "/media", b"not a jpeg", headers={"content-type": "image/jpeg"}, query="filename=x.jpg"
    )

    assert wrong_type.status == 415  # an unsupported media type, as RFC 9110 names it
    assert wrong_type.json()["field"] == "Content-Type"
    assert lying.status == 400


def test_unknown_routes_get_404_problem_json(harness: Harness) -> None:
    response = harness.call("GET", "/nothing-here")

    assert response.status == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_submit_emits_the_articles_submitted_metric_and_logs_the_article_id(
    harness: Harness, seed_article: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import logging

    from functions.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        created = submit(harness, {**seed_article, "body": "<p>x</p>"})
    finally:
        logger.removeHandler(handler)

    logged = [json.loads(line) for line in stream.getvalue().splitlines()]
    accepted = [line for line in logged if line.get("message") == "article accepted"]
    assert accepted and accepted[0]["article_id"] == created["id"]
    assert accepted[0]["correlation_id"]
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    metrics = [line for line in printed if "_aws" in line]
    assert any(
        line.get("ArticlesSubmitted") == [1.0] or line.get("ArticlesSubmitted") == 1.0 for line in metrics
    )


def test_openapi_document_lists_every_route(harness: Harness) -> None:
    document = harness.call("GET", "/openapi.json", key=None).json()

    assert {"/articles", "/articles/{article_id}", "/media", "/openapi.json"} <= set(document["paths"])


def test_a_body_with_images_relative_to_the_reporters_computer_is_refused_with_a_hint(
    harness: Harness, seed_article: dict[str, Any]
) -> None:
    response = harness.call("POST", "/articles", seed_article)  # still says media/quang-canh-...jpg

    assert response.status == 422
    assert "POST /media" in response.json()["detail"]


def test_partner_keys_cannot_list_unpublished_articles(harness: Harness) -> None:
    from functions.clock import utc_now
    from functions.dal.factory import get_storage
    from functions.logic.auth import issue_key

    partner, _ = issue_key(get_storage(), role="partner", name="Báo đối tác", now=utc_now())

    published = harness.call("GET", "/articles", key=partner)
    scheduled = harness.call("GET", "/articles", key=partner, query="status=scheduled")

    assert published.status == 200
    assert scheduled.status == 403
    assert scheduled.headers["Content-Type"] == "application/problem+json"
