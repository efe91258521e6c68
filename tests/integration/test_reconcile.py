"""Reconcile, under moto: outputs deleted, corrupted or left stale in the site bucket are re-derived
from the canonical store, exactly those are reported, and a second run changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from functions.config import get_settings
from functions.dal.factory import get_storage
from functions.logic import publish_articles
from functions.logic import reconcile as reconcile_module
from functions.logic.reconcile import ReconcileReport, reconcile
from functions.models.site import Site
from infra.local.lambda_runtime import invoke
from tests.conftest import REPO_ROOT
from tests.integration.conftest import Harness

SECTION_PAGE = "section/hoat-dong-mat-tran/index.html"

Snapshot = dict[str, tuple[bytes, str, str, dict[str, str]]]


@pytest.fixture
def article(seed_article: dict[str, Any]) -> dict[str, Any]:
    article = {**seed_article, "body": "<p>Qua 3 ngày tập huấn, các học viên đã nghiên cứu.</p>"}
    article.pop("published_at")
    return article


@pytest.fixture
def small_archive(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two articles to an archive page, so that three articles complete one.
    monkeypatch.setattr(publish_articles, "ARCHIVE_PAGE_SIZE", 2)


def submit(harness: Harness, article: dict[str, Any], title: str) -> dict[str, Any]:
    response = harness.call("POST", "/articles", {**article, "title": title})
    assert response.status == 201, response.body
    return response.json()


def snapshot(harness: Harness) -> Snapshot:
    """Every object of the site bucket: bytes, Content-Type, Cache-Control and metadata."""
    taken: Snapshot = {}
    for key in harness.site_keys():
        stored = harness.s3.get_object(Bucket=harness.name("SiteBucket"), Key=key)
        taken[key] = (
            stored["Body"].read(),
            stored["ContentType"],
            stored.get("CacheControl", ""),
            stored.get("Metadata", {}),
        )
    return taken


def run_reconcile() -> ReconcileReport:
    return reconcile(get_storage(), Site.from_settings(get_settings()))


def site_puts(harness: Harness) -> list[str]:
    """Keys the storage layer uploads to the site bucket from now on."""
    written: list[str] = []
    get_storage().s3.meta.events.register(
        "provide-client-params.s3.PutObject",
        lambda params, **_: (
            written.append(params["Key"]) if params["Bucket"] == harness.name("SiteBucket") else None
        ),
    )
    return written


@pytest.fixture
def published_site(harness: Harness, article: dict[str, Any], small_archive: None) -> dict[str, Any]:
    """Three articles, the second retracted: article pages, a retraction notice, listings, feeds,
    a complete archive page and sitemaps."""
    first = submit(harness, article, "Ô Môn: khai giảng lớp tập huấn")
    second = submit(harness, article, "Ô Môn: lớp tập huấn bị hoãn")
    third = submit(harness, article, "Ô Môn: bế giảng lớp tập huấn")
    retracted = harness.call("POST", f"/articles/{second['id']}/retract", {"reason": "Tin chưa kiểm chứng."})
    assert retracted.status == 200, retracted.body
    harness.publish()
    return {"first": first, "second": second, "third": third}


def test_reconcile_restores_exactly_the_deleted_and_corrupted_outputs_and_reports_each_by_kind(
    harness: Harness, published_site: dict[str, Any]
) -> None:
    bucket = harness.name("SiteBucket")
    before = snapshot(harness)
    first_page = published_site["first"]["url"].removeprefix("https://news.example.vn/") + "index.html"
    notice = published_site["second"]["url"].removeprefix("https://news.example.vn/") + "index.html"
    assert before[notice][3]["http-status"] == "410"
    assert "feeds/archive/1.xml" in before
    deleted = [first_page, notice, SECTION_PAGE, "feeds/archive/1.xml", "sitemaps/2026-11.xml"]
    for key in deleted:
        harness.s3.delete_object(Bucket=bucket, Key=key)
    harness.s3.put_object(Bucket=bucket, Key="feeds/rss.xml", Body=b"<rss>truncated")
    # The right bytes served as the wrong type are stale too.
    harness.s3.put_object(
        Bucket=bucket, Key="index.html", Body=before["index.html"][0], ContentType="text/plain"
    )

    report = run_reconcile()

    assert sorted(report.fixed_keys) == sorted([*deleted, "feeds/rss.xml", "index.html"])
    assert report.as_dict()["fixed_by_kind"] == {
        "article page": 1,
        "retraction page": 1,
        "listing page": 2,
        "feed": 1,
        "archive page": 1,
        "sitemap": 1,
    }
    assert report.articles == 3
    assert snapshot(harness) == before  # bytes, types and the 410 of the notice, as published


def test_a_second_reconcile_writes_nothing_and_reports_nothing_fixed(
    harness: Harness, published_site: dict[str, Any]
) -> None:
    harness.s3.delete_object(Bucket=harness.name("SiteBucket"), Key="feeds/atom.xml")
    assert run_reconcile().fixed_keys == ["feeds/atom.xml"]
    written = site_puts(harness)

    report = run_reconcile()

    assert report.fixed_total == 0
    assert written == []
    assert report.summary() == f"reconciled 3 articles, {report.checked} outputs: nothing to fix"


def test_reconcile_rebuilds_an_emptied_site_bucket_byte_for_byte(
    harness: Harness, published_site: dict[str, Any]
) -> None:
    before = snapshot(harness)
    for key in before:
        harness.s3.delete_object(Bucket=harness.name("SiteBucket"), Key=key)

    report = run_reconcile()

    assert snapshot(harness) == before
    assert sorted(report.fixed_keys) == sorted(before)
    assert report.checked == len(before)


def test_reconcile_publishes_a_change_whose_stream_records_were_lost(
    harness: Harness, article: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    created = submit(harness, article, "Ô Môn: khai giảng lớp tập huấn")
    harness.publish()
    page = created["url"].removeprefix("https://news.example.vn/") + "index.html"
    etag = harness.call("GET", f"/articles/{created['id']}").headers["ETag"]
    changed = harness.call(
        "PATCH", f"/articles/{created['id']}", {"title": "Ô Môn: bế giảng"}, headers={"If-Match": etag}
    )
    assert changed.status == 200, changed.body
    # The batch is given up on and not redriven within the stream's 24 hours.
    monkeypatch.setattr(harness.poller, "_handler", lambda event, context: {"batchItemFailures": []})
    harness.publish()
    assert "Ô Môn: bế giảng" not in harness.site_object(page).decode()

    report = run_reconcile()

    assert "Ô Môn: bế giảng" in harness.site_object(page).decode()
    assert "Ô Môn: bế giảng" in harness.site_object("feeds/atom.xml").decode()
    assert page in report.fixed_keys
    assert {"index.html", "feeds/rss.xml", "feeds/atom.xml", "feeds/feed.json", SECTION_PAGE} <= set(
        report.fixed_keys
    )


def test_a_change_published_while_its_page_is_reconciled_is_not_overwritten_by_the_older_page(
    harness: Harness, article: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    created = submit(harness, article, "Ô Môn: khai giảng lớp tập huấn")
    harness.publish()
    page = created["url"].removeprefix("https://news.example.vn/") + "index.html"
    harness.s3.delete_object(Bucket=harness.name("SiteBucket"), Key=page)
    render_page = reconcile_module.publish_article
    raced: list[int] = []

    def racing(change: Any, *args: Any) -> None:
        # Reconcile has read revision 1; revision 2 commits and is published before it writes.
        if not raced:
            etag = harness.call("GET", f"/articles/{created['id']}").headers["ETag"]
            edit = {"title": "Ô Môn: bế giảng"}
            assert (
                harness.call("PATCH", f"/articles/{created['id']}", edit, headers={"If-Match": etag}).status
                == 200
            )
            harness.publish()
        raced.append(change.after.revision)
        render_page(change, *args)

    monkeypatch.setattr(reconcile_module, "publish_article", racing)

    run_reconcile()

    assert raced == [1, 2]
    assert "Ô Môn: bế giảng" in harness.site_object(page).decode()


def test_reconcile_of_a_site_without_articles_writes_the_front_page_and_feeds(harness: Harness) -> None:
    report = run_reconcile()

    assert {"index.html", "feeds/rss.xml", "feeds/atom.xml", "404.html", "robots.txt"} <= set(
        report.fixed_keys
    )
    assert report.articles == 0
    assert run_reconcile().fixed_total == 0


def test_the_reconciler_handler_answers_with_what_it_fixed(
    harness: Harness, published_site: dict[str, Any]
) -> None:
    from functions.handlers import reconciler

    harness.s3.delete_object(Bucket=harness.name("SiteBucket"), Key="feeds/feed.json")

    answer = invoke(reconciler.lambda_handler, "ReconcilerFunction", {"source": "aws.events"})

    assert answer["fixed"] == 1
    assert answer["fixed_by_kind"] == {"feed": 1}
    assert answer["fixed_keys"] == ["feeds/feed.json"]
    assert answer["articles"] == 3


def test_presswire_reconcile_without_a_running_stack_says_so_and_fails(tmp_path: Path) -> None:
    from infra.cli import main

    assert main(["reconcile", "--state-dir", str(tmp_path)]) == 1


@pytest.mark.e2e
def test_presswire_reconcile_fixes_the_running_local_site_and_prints_one_line(tmp_path: Path) -> None:
    from tests.e2e.conftest import start_stack

    stack = start_stack(tmp_path / "state")
    try:
        info = json.loads((tmp_path / "state" / "stack.json").read_text(encoding="utf-8"))
        s3 = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
        ).client("s3", endpoint_url=info["aws_endpoint"])
        s3.delete_object(Bucket=info["environment"]["SITE_BUCKET"], Key="feeds/atom.xml")
        command = [sys.executable, "-m", "infra.cli", "reconcile", "--state-dir", str(tmp_path / "state")]

        first = subprocess.run(
            command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
        )
        second = subprocess.run(
            command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
        )
    finally:
        stack.stop()

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [first.stdout.strip()]
    assert first.stdout.startswith("reconciled 0 articles, ")
    assert first.stdout.strip().endswith("fixed 1 (1 feed): feeds/atom.xml")
    assert second.stdout.strip().endswith("nothing to fix"), second.stdout
