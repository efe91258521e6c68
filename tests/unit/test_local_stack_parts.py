"""Pure parts of the local stack: URL -> object key, API Gateway events, the journal."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from infra.local import stream_poller
from infra.local.gateway import http_api_event, object_key_for_path
from infra.local.persistence import Journal, remap_versions
from infra.local.stream_poller import StreamPoller


def test_directory_urls_map_to_index_html_like_the_cloudfront_function() -> None:
    assert object_key_for_path("/") == "index.html"
    assert object_key_for_path("/2023/05/10/slug/") == "2023/05/10/slug/index.html"
    assert object_key_for_path("/2023/05/10/slug") == "2023/05/10/slug/index.html"
    assert object_key_for_path("/feeds/atom.xml") == "feeds/atom.xml"
    assert object_key_for_path("/tag/%C3%B4-m%C3%B4n/") == "tag/ô-môn/index.html"


def test_json_bodies_travel_as_text_and_binary_bodies_as_base64_like_http_api() -> None:
    text = http_api_event(
        "POST",
        "/api/articles",
        "",
        {"content-type": "application/json"},
        '{"title": "Ô Môn"}'.encode(),
        "127.0.0.1",
    )
    image = http_api_event(
        "POST",
        "/api/media",
        "filename=a.jpg",
        {"content-type": "image/jpeg"},
        b"\xff\xd8\xff\x00",
        "127.0.0.1",
    )

    assert text["isBase64Encoded"] is False and json.loads(text["body"]) == {"title": "Ô Môn"}
    assert image["isBase64Encoded"] is True and base64.b64decode(image["body"]) == b"\xff\xd8\xff\x00"
    assert image["queryStringParameters"] == {"filename": "a.jpg"}
    assert image["requestContext"]["http"]["method"] == "POST"
    assert text["version"] == "2.0" and text["rawPath"] == "/api/articles"


def test_json_declared_bodies_that_are_not_utf8_are_passed_as_base64_not_garbled() -> None:
    event = http_api_event(
        "POST", "/api/articles", "", {"content-type": "application/json"}, b"\xff\xfe{", "127.0.0.1"
    )

    assert event["isBase64Encoded"] is True


def test_replayed_version_ids_are_substituted_wherever_an_item_carries_them() -> None:
    item = {
        "pk": {"S": "ARTICLE#1"},
        "content_version": {"S": "old-v1"},
        "history": {"L": [{"M": {"v": {"S": "old-v1"}}}]},
        "title": {"S": "old-v2 is not a whole value"},
    }

    remapped = remap_versions(item, {"old-v1": "new-v1"})

    assert remapped["content_version"] == {"S": "new-v1"}
    assert remapped["history"]["L"][0]["M"]["v"] == {"S": "new-v1"}
    assert remapped["title"] == item["title"]


def test_a_torn_last_journal_line_is_ignored_and_everything_before_it_is_kept(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.record_item("ArticlesTable", {"pk": {"S": "a"}}, {"pk": {"S": "a"}})
    journal.record_object(
        "ContentBucket", "articles/a.json", "v1", b"{}", {"ContentType": "application/json"}
    )
    with journal.path.open("a", encoding="utf-8") as handle:
        handle.write('{"kind": "item", "tab')

    entries = list(journal.entries())

    assert [entry["kind"] for entry in entries] == ["item", "object"]
    assert journal.blob(entries[1]["blob"]) == b"{}"


def test_a_batch_the_publisher_fails_as_a_whole_is_bisected_so_only_the_poison_record_is_parked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_poller.time, "sleep", lambda seconds: None)
    records = [{"dynamodb": {"SequenceNumber": f"{number:03d}"}} for number in range(8)]
    poison = "005"
    handled: list[str] = []

    def publisher(event: dict[str, Any], context: Any) -> dict[str, Any]:
        sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
        if poison in sequence_numbers:
            raise RuntimeError("the listings of this batch could not be written")
        handled.extend(sequence_numbers)
        return {"batchItemFailures": []}

    dead_letters = tmp_path / "dead-letters.jsonl"
    poller = StreamPoller(None, "arn:stream", publisher, "PublisherFunction", dead_letters)
    poller._deliver(records)

    assert handled == ["000", "001", "002", "003", "004", "006", "007"]
    lines = dead_letters.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["dynamodb"]["SequenceNumber"] for line in lines] == [poison]
    assert poller.delivered == 7


def test_a_function_serves_one_event_at_a_time_like_a_lambda_environment() -> None:
    import threading
    import time as real_time

    from infra.local.lambda_runtime import invoke

    current: dict[str, Any] = {}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        # Like Powertools' resolver: the event is kept where every thread sees it.
        current["event"] = event
        real_time.sleep(0.02)
        return {"answered": current["event"]["request"]}

    answers: dict[int, Any] = {}

    def call(number: int) -> None:
        answers[number] = invoke(handler, "ApiFunction", {"request": number})["answered"]

    threads = [threading.Thread(target=call, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == {number: number for number in range(8)}
