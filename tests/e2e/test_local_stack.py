"""The real local stack over HTTP: serve, submit the seed with its photos, read it back, restart."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import feedparser
import pytest

from tests.conftest import REPO_ROOT, SEED_DIR
from tests.e2e.conftest import ServedStack, fetch, start_stack

pytestmark = pytest.mark.e2e

SEED_TITLE = "Ô Môn: tập huấn nghiệp vụ công tác Mặt trận năm 2023"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.cli", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def submit_seed(stack: ServedStack) -> tuple[str, str]:
    result = cli("submit", str(SEED_DIR / "seed-article.json"), "--api", stack.api, "--key", stack.key)
    assert result.returncode == 0, result.stderr
    fields = dict(line.split(":", 1) for line in result.stdout.strip().splitlines())
    return fields["id"].strip(), fields["url"].strip()


def wait_for(url: str, needle: str, timeout: float = 10.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        status, _, body = fetch(url)
        if status == 200 and needle in body.decode("utf-8"):
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"{needle!r} did not appear at {url} within {timeout} s")


def test_first_start_prints_both_urls_and_writes_a_private_bootstrap_key(served: ServedStack) -> None:
    printed = "".join(served.output)
    assert f"site: {served.url}/" in printed
    assert f"api:  {served.url}/api" in printed
    key_file = served.state_dir / "bootstrap-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert served.key in printed  # shown once, on the first start


def test_seed_article_submitted_with_the_cli_appears_as_page_home_and_feeds(served: ServedStack) -> None:
    article_id, url = submit_seed(served)

    assert url == f"{served.url}/2023/05/10/o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023/"
    wait_for(served.url + "/feeds/atom.xml", article_id)
    status, headers, page = fetch(url)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["ETag"]
    html = page.decode("utf-8")
    assert SEED_TITLE in html
    assert "Bà Nguyễn Thúy Hằng, Phó Chủ tịch Ủy ban MTTQ Việt Nam thành phố" in html
    assert "THI ĐUA LẬP THÀNH TÍCH CHÀO MỪNG" in html  # the site banner
    _, _, home = fetch(served.url + "/")
    assert url.removeprefix(served.url) in home.decode("utf-8")

    for path in ("/feeds/rss.xml", "/feeds/atom.xml"):
        status, headers, body = fetch(served.url + path)
        assert status == 200 and "charset=utf-8" in headers["Content-Type"]
        feed = feedparser.parse(body)
        assert feed.bozo == 0
        (entry,) = feed.entries
        assert entry.title == SEED_TITLE
        assert entry.link == url
        assert "Qua 3 ngày tập huấn" in entry.content[0].value

    image_url = next(
        link
        for link in feedparser.parse(fetch(served.url + "/feeds/atom.xml")[2]).entries[0].links
        if link.rel == "enclosure"
    ).href
    status, headers, image = fetch(image_url)
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert image == (SEED_DIR / "media" / "quang-canh-lop-tap-huan.jpg").read_bytes()


def test_unchanged_site_objects_answer_conditional_requests_with_304(served: ServedStack) -> None:
    _, headers, _ = fetch(served.url + "/feeds/atom.xml")

    status, _, body = fetch(served.url + "/feeds/atom.xml", {"If-None-Match": headers["ETag"]})

    assert status == 304 and body == b""


def test_api_without_a_key_answers_401_problem_json_and_cli_errors_are_one_line(served: ServedStack) -> None:
    status, headers, body = fetch(served.api + "/articles")
    assert status == 401
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["status"] == 401

    result = cli("submit", str(SEED_DIR / "seed-article.json"), "--api", served.api, "--key", "pw_wrong")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "401" in result.stderr


def test_keys_created_while_serving_work_at_once(served: ServedStack) -> None:
    result = cli(
        "keys", "create", "--role", "reporter", "--name", "Na Ra", "--state-dir", str(served.state_dir)
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()

    status, _, _ = fetch(served.api + "/articles", {"Authorization": f"Bearer {key}"})

    assert status == 200


def test_articles_and_keys_survive_a_restart_with_the_same_state_dir(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    first = start_stack(state_dir)
    try:
        article_id, url = submit_seed(first)
        wait_for(first.url + "/feeds/atom.xml", article_id)
    finally:
        assert first.stop() == 0  # SIGTERM stops it cleanly
    reporter = cli("keys", "create", "--role", "reporter", "--name", "offline", "--state-dir", str(state_dir))
    assert reporter.returncode == 0, reporter.stderr

    second = start_stack(state_dir)
    try:
        assert second.key not in "".join(second.output)  # the key is printed only on the first start
        path = url.split("/", 3)[3]
        wait_for(f"{second.url}/{path}", SEED_TITLE)
        wait_for(second.url + "/feeds/atom.xml", article_id)
        status, _, body = fetch(
            f"{second.api}/articles/{article_id}", {"Authorization": f"Bearer {second.key}"}
        )
        assert status == 200 and json.loads(body)["title"] == SEED_TITLE
        status, _, _ = fetch(second.api + "/articles", {"Authorization": f"Bearer {reporter.stdout.strip()}"})
        assert status == 200
        status, _, _ = fetch(
            f"{second.url}/media/" + json.loads(body)["images"][0]["src"].split("/media/")[1]
        )
        assert status == 200
    finally:
        assert second.stop() == 0


def test_serve_runs_the_scheduler_so_a_scheduled_article_goes_live_on_its_own(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    stack = start_stack(tmp_path / "state", None, "--schedule-every", "0.5")
    try:
        article = json.loads((SEED_DIR / "seed-article.json").read_text(encoding="utf-8"))
        article.update(
            body="<p>Tin hẹn giờ.</p>", published_at=(datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        )
        request = urllib.request.Request(
            stack.api + "/articles",
            data=json.dumps(article).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {stack.key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            created = json.loads(response.read())
        assert created["status"] == "scheduled"
        assert fetch(created["url"])[0] == 404

        wait_for(created["url"], "Tin hẹn giờ.", timeout=20)
        wait_for(stack.url + "/feeds/atom.xml", created["id"])
    finally:
        assert stack.stop() == 0


def test_keys_can_be_listed_and_revoked_from_the_cli(served: ServedStack) -> None:
    created = cli(
        "keys", "create", "--role", "partner", "--name", "Báo bạn", "--state-dir", str(served.state_dir)
    )
    key = created.stdout.strip()
    listed = cli("keys", "list", "--state-dir", str(served.state_dir))
    key_id = next(line.split("\t")[0] for line in listed.stdout.splitlines() if line.endswith("Báo bạn"))
    assert fetch(served.api + "/articles", {"Authorization": f"Bearer {key}"})[0] == 200

    revoked = cli("keys", "revoke", key_id, "--state-dir", str(served.state_dir))

    assert revoked.returncode == 0, revoked.stderr
    assert fetch(served.api + "/articles", {"Authorization": f"Bearer {key}"})[0] == 401
    assert "revoked" in cli("keys", "list", "--state-dir", str(served.state_dir)).stdout
    missing = cli("keys", "revoke", "nope", "--state-dir", str(served.state_dir))
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1


def test_api_docs_serves_swagger_ui_over_the_openapi_document_to_anyone(served: ServedStack) -> None:
    status, headers, body = fetch(served.api + "/docs")

    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert "SwaggerUIBundle" in page and "presswire API" in page


def test_pages_are_short_cached_and_name_a_hashed_stylesheet_cached_for_a_year(served: ServedStack) -> None:
    _, headers, body = fetch(served.url + "/")
    found = re.search(r'<link rel="stylesheet" href="(/assets/site\.[0-9a-f]{12}\.css)">', body.decode())
    assert found is not None
    assert headers["Cache-Control"] == "public, max-age=60, s-maxage=60"

    status, css_headers, css = fetch(served.url + found.group(1))

    assert status == 200 and css_headers["Content-Type"] == "text/css; charset=utf-8"
    assert css_headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b".skip-link" in css
