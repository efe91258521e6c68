"""One article's whole life on the real local stack: create, update, correct, retract, reinstate."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import feedparser
import pytest

from tests.e2e.conftest import ServedStack, fetch
from tests.e2e.test_local_stack import SEED_TITLE, submit_seed, wait_for

pytestmark = pytest.mark.e2e


def call(
    stack: ServedStack,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        stack.api + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={
            "Authorization": f"Bearer {stack.key}",
            "Content-Type": "application/json",
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def entries(stack: ServedStack, path: str) -> list[Any]:
    status, _, body = fetch(stack.url + path)
    assert status == 200
    feed = feedparser.parse(body)
    assert feed.bozo == 0
    return list(feed.entries)


def wait_until(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the site did not catch up within the timeout")
        time.sleep(0.05)


def test_create_update_correct_retract_reinstate_over_http(served: ServedStack) -> None:
    article_id, url = submit_seed(served)
    wait_for(served.url + "/feeds/atom.xml", article_id)
    status, headers, article = call(served, "GET", f"/articles/{article_id}")
    assert status == 200
    etag = headers["ETag"]
    rss_guid = entries(served, "/feeds/rss.xml")[0].id
    atom_updated = entries(served, "/feeds/atom.xml")[0].updated_parsed

    # Update: If-Match is required, a stale one is refused, the current one wins.
    new_title = "Ô Môn: khai giảng lớp tập huấn nghiệp vụ công tác Mặt trận năm 2023"
    replacement = {
        key: article[key] for key in ("summary", "body", "body_format", "language", "published_at")
    }
    replacement.update(
        title=new_title, author="Na Ra", section="Hoạt động Mặt trận", tags=["Ô Môn", "Tập huấn"]
    )
    assert call(served, "PUT", f"/articles/{article_id}", replacement)[0] == 428
    assert call(served, "PUT", f"/articles/{article_id}", replacement, {"If-Match": '"stale"'})[0] == 412
    status, headers, updated = call(served, "PUT", f"/articles/{article_id}", replacement, {"If-Match": etag})
    assert status == 200 and updated["revision"] == 2 and updated["url"] == url
    etag = headers["ETag"]
    wait_for(url, new_title)
    wait_until(lambda: entries(served, "/feeds/atom.xml")[0].title == new_title)
    assert entries(served, "/feeds/rss.xml")[0].title == new_title

    # Correct: a dated notice on the page; Atom's updated moves, the RSS guid stays.
    note = "Bài viết đã sửa tên lớp tập huấn."
    status, headers, _ = call(
        served, "PATCH", f"/articles/{article_id}", {"correction": note}, {"If-Match": etag}
    )
    assert status == 200
    wait_for(url, note)
    wait_until(lambda: entries(served, "/feeds/atom.xml")[0].updated_parsed > atom_updated)
    assert entries(served, "/feeds/rss.xml")[0].id == rss_guid
    assert len(entries(served, "/feeds/rss.xml")) == 1

    # Retract: the page answers 410 with the notice, and the article leaves both feeds and the home page.
    reason = "Thông tin trong bài cần được kiểm chứng lại."
    status, _, retracted = call(served, "POST", f"/articles/{article_id}/retract", {"reason": reason})
    assert status == 200 and retracted["status"] == "retracted"
    wait_until(lambda: fetch(url)[0] == 410)
    status, _, page = fetch(url)
    assert reason in page.decode() and "Qua 3 ngày tập huấn" not in page.decode()
    wait_until(lambda: entries(served, "/feeds/atom.xml") == [])
    assert entries(served, "/feeds/rss.xml") == []
    assert url.removeprefix(served.url) not in fetch(served.url + "/")[2].decode()
    assert call(served, "PATCH", f"/articles/{article_id}", {"title": "x"}, {"If-Match": "*"})[0] == 409

    # Reinstate: page, feeds and home page are back; the history kept every step.
    status, _, reinstated = call(served, "POST", f"/articles/{article_id}/reinstate")
    assert status == 200 and reinstated["status"] == "published"
    wait_until(lambda: fetch(url)[0] == 200)
    assert new_title in fetch(url)[2].decode() and note in fetch(url)[2].decode()
    wait_until(lambda: [entry.title for entry in entries(served, "/feeds/atom.xml")] == [new_title])
    assert [entry.id for entry in entries(served, "/feeds/rss.xml")] == [rss_guid]
    _, _, revisions = call(served, "GET", f"/articles/{article_id}/revisions")
    assert [item["action"] for item in revisions["items"]] == [
        "create",
        "update",
        "correct",
        "retract",
        "reinstate",
    ]
    status, _, first = call(served, "GET", f"/articles/{article_id}?version=1")
    assert status == 200 and first["title"] == SEED_TITLE
