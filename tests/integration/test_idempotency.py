"""POST /articles with an Idempotency-Key: a retry gets the first answer and creates nothing more.

One moto harness serves the whole module (each test uses its own keys and titles), so the
table holds what earlier tests left; every count is of this test's own title or records.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.config import get_settings
from functions.dal.factory import get_storage
from functions.dal.idempotency import IDEMPOTENCY_WINDOW_SECONDS, SUBMIT, idempotency_partition
from functions.models.api import IDEMPOTENCY_KEY_MAX_CHARS, IDEMPOTENCY_KEY_PATTERN
from functions.models.errors import StorageUnavailable
from tests.integration.conftest import ApiResponse, Harness
from tests.integration.test_api_bad_input import problem

HEADER = "Idempotency-Key"
PARTITION = idempotency_partition(SUBMIT)


@pytest.fixture
def harness(module_harness: Harness) -> Harness:
    # Each test uses keys and titles of its own: one stack serves the module.
    return module_harness


def article(title: str, **fields: Any) -> dict[str, Any]:
    return {
        "title": title,
        "body": "<p>Nội dung.</p>",
        "author": "Na Ra",
        "section": "Thời sự",
        "published_at": "2023-05-10T16:30:00+07:00",
        **fields,
    }


def new_key() -> str:
    return str(uuid.uuid4())


def submit(harness: Harness, body: Any, idempotency_key: str | None, **call: Any) -> ApiResponse:
    """POST /articles, with the Idempotency-Key header unless it is None; `key=` names the caller."""
    headers = {HEADER: idempotency_key} if idempotency_key is not None else {}
    return harness.call("POST", "/articles", body, headers=headers, **call)


def articles_titled(harness: Harness, title: str) -> list[dict[str, Any]]:
    found = []
    for status in ("published", "draft"):
        page = harness.call("GET", "/articles", query=f"status={status}&limit=100").json()
        found += [item for item in page["items"] if item["title"] == title]
    return found


def idempotency_records() -> dict[str, dict[str, Any]]:
    """The idempotency records in the table, by sort key."""
    response = get_storage().dynamodb.query(
        TableName=get_settings().table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": PARTITION}},
        ConsistentRead=True,
    )
    return {item["sk"]["S"]: item for item in response["Items"]}


def the_new_record(before: dict[str, dict[str, Any]]) -> dict[str, Any]:
    added = [item for sk, item in idempotency_records().items() if sk not in before]
    assert len(added) == 1, added
    return added[0]


# -- a retry gets the first answer ----------------------------------------------------------------


def test_a_retry_with_the_same_key_and_body_gets_the_first_response_and_creates_one_article(
    harness: Harness,
) -> None:
    key, body = new_key(), article("Ô Môn: lặp lại")

    first = submit(harness, body, key)
    retry = submit(harness, body, key)
    # The same article sent by another JSON library: other key order, whitespace and escapes.
    reserialized = json.dumps(dict(reversed(list(body.items()))), indent=2, ensure_ascii=True)
    retry_reformatted = submit(harness, reserialized, key)

    assert first.status == 201, first.body
    for again in (retry, retry_reformatted):
        assert again.status == first.status
        assert again.body == first.body
        assert again.headers["ETag"] == first.headers["ETag"]
        assert again.headers["Location"] == first.headers["Location"] == f"/api/articles/{first.json()['id']}"
        assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert [item["id"] for item in articles_titled(harness, body["title"])] == [first.json()["id"]]


def test_the_record_lives_24_hours_under_its_own_partition_and_holds_no_key_in_clear(
    harness: Harness,
) -> None:
    before = idempotency_records()
    key = "report-" + new_key()

    created = submit(harness, article("Ô Môn: bản ghi"), key)

    assert created.status == 201, created.body
    record = the_new_record(before)
    assert record["status"]["S"] == "COMPLETED"
    expires_at = int(record["expires_at"]["N"])
    assert abs(expires_at - (time.time() + IDEMPOTENCY_WINDOW_SECONDS)) < 60
    assert record["sk"]["S"].startswith(f"{SUBMIT}#")
    assert key not in json.dumps(record) and harness.key not in json.dumps(record)
    assert "entity" not in record  # so the publisher's stream filter never delivers it


def test_the_same_key_with_a_different_body_gets_422_naming_the_key_and_creates_nothing(
    harness: Harness,
) -> None:
    key = new_key()
    first = submit(harness, article("Ô Môn: bản đầu"), key)

    other = submit(harness, article("Ô Môn: bản khác"), key)

    assert first.status == 201, first.body
    body = problem(other, 422)
    assert body["type"] == "urn:presswire:problem:idempotency-key-reused"
    assert body["field"] == HEADER
    assert "different request" in body["detail"]
    assert articles_titled(harness, "Ô Môn: bản khác") == []
    # The first answer is still what a true retry gets.
    assert submit(harness, article("Ô Môn: bản đầu"), key).body == first.body


def test_a_repeat_while_the_first_is_still_in_progress_gets_409_with_retry_after(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, body = new_key(), article("Ô Môn: đang xử lý")
    real_submit = harness.api.submit_article
    during: list[ApiResponse] = []

    def submit_with_a_concurrent_repeat(*args: Any, **kwargs: Any) -> Any:
        during.append(submit(harness, body, key))  # arrives while the first is being processed
        return real_submit(*args, **kwargs)

    monkeypatch.setattr(harness.api, "submit_article", submit_with_a_concurrent_repeat)
    first = submit(harness, body, key)
    monkeypatch.undo()

    assert first.status == 201, first.body
    conflict = problem(during[0], 409)
    assert conflict["type"] == "urn:presswire:problem:request-in-progress"
    assert conflict["field"] == HEADER
    assert during[0].headers["Retry-After"] == "1"
    assert submit(harness, body, key).body == first.body
    assert len(articles_titled(harness, body["title"])) == 1


def test_keys_are_per_caller_and_per_value_and_no_key_means_no_idempotency(harness: Harness) -> None:
    reporter = harness.new_key("reporter", "Na Ra")
    body = article("Ô Môn: hai người", status="draft")
    shared = "1"

    by_editor = submit(harness, body, shared)
    by_reporter = submit(harness, body, shared, key=reporter)
    with_another_key = submit(harness, body, new_key())
    without_a_key = [submit(harness, body, None) for _ in range(2)]

    responses = [by_editor, by_reporter, with_another_key, *without_a_key]
    assert [response.status for response in responses] == [201] * 5, [r.body for r in responses]
    assert len({response.json()["id"] for response in responses}) == 5
    assert len(articles_titled(harness, body["title"])) == 5


# -- failures are not remembered --------------------------------------------------------------------


def test_a_request_refused_by_validation_is_not_remembered(harness: Harness) -> None:
    key, body = new_key(), article("Ô Môn: sửa lỗi")

    invalid = submit(harness, {**body, "author": ""}, key)
    corrected = submit(harness, body, key)

    assert problem(invalid, 422)["field"] == "author"
    assert corrected.status == 201, corrected.body


def test_a_request_refused_inside_the_submit_is_not_remembered(harness: Harness) -> None:
    reporter = harness.new_key("reporter", "Hà My")
    key, body = new_key(), article("Ô Môn: phóng viên")

    refused = submit(harness, {**body, "status": "published"}, key, key=reporter)
    as_a_draft = submit(harness, {**body, "status": "draft"}, key, key=reporter)

    assert problem(refused, 403)
    assert as_a_draft.status == 201, as_a_draft.body


def test_a_retry_after_a_failed_attempt_runs_again_and_creates_one_article(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, body = new_key(), article("Ô Môn: thử lại")
    before = idempotency_records()
    real_submit = harness.api.submit_article
    attempts: list[int] = []

    def failing_once(*args: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise StorageUnavailable("the storage service is busy")
        return real_submit(*args, **kwargs)

    monkeypatch.setattr(harness.api, "submit_article", failing_once)
    failed = submit(harness, body, key)
    assert idempotency_records().keys() == before.keys()  # nothing kept of the failure
    retried = submit(harness, body, key)
    replayed = submit(harness, body, key)

    assert problem(failed, 503)
    assert retried.status == 201, retried.body
    assert replayed.body == retried.body
    assert len(attempts) == 2
    assert len(articles_titled(harness, body["title"])) == 1


# -- the idempotency store failing ------------------------------------------------------------------


def _fail_idempotency_writes(monkeypatch: pytest.MonkeyPatch, operation: str) -> None:
    """DynamoDB refuses the idempotency store's `operation` (after botocore's retries gave up)."""
    client = get_storage().dynamodb
    real = getattr(client, operation)

    def refused(**request: Any) -> Any:
        key = request.get("Item") or request.get("Key") or {}
        if key.get("pk", {}).get("S", "").startswith("IDEMPOTENCY#"):
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, operation)
        return real(**request)

    monkeypatch.setattr(client, operation, refused)


def test_an_unavailable_idempotency_store_gets_503_problem_and_creates_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = article("Ô Môn: kho hỏng")
    _fail_idempotency_writes(monkeypatch, "put_item")

    response = submit(harness, body, new_key())

    body_of_problem = problem(response, 503)
    assert body_of_problem["type"] == "urn:presswire:problem:storage-unavailable"
    monkeypatch.undo()
    assert articles_titled(harness, body["title"]) == []


def test_an_article_created_whose_record_cannot_be_completed_is_still_answered_201(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = article("Ô Môn: ghi nửa chừng")
    _fail_idempotency_writes(monkeypatch, "update_item")

    response = submit(harness, body, new_key())

    assert response.status == 201, response.body
    monkeypatch.undo()
    assert [item["id"] for item in articles_titled(harness, body["title"])] == [response.json()["id"]]


# -- the window ---------------------------------------------------------------------------------------


def test_a_retry_after_the_24_hour_window_runs_again(harness: Harness) -> None:
    key, body = new_key(), article("Ô Môn: hết hạn")
    before = idempotency_records()
    first = submit(harness, body, key)
    record = the_new_record(before)
    # 24 hours later: the record has expired (DynamoDB's TTL may not have removed it yet).
    get_storage().dynamodb.update_item(
        TableName=get_settings().table_name,
        Key={"pk": record["pk"], "sk": record["sk"]},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )

    again = submit(harness, body, key)

    assert first.status == again.status == 201, again.body
    assert again.json()["id"] != first.json()["id"]
    assert len(articles_titled(harness, body["title"])) == 2


# -- the header -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x" * (IDEMPOTENCY_KEY_MAX_CHARS + 1),
        "khóa-một",
        "tab\there",
        " leading-space",
    ],
    ids=["empty", "too long", "not ascii", "control character", "leading space"],
)
def test_an_invalid_idempotency_key_gets_422_naming_the_header_and_creates_nothing(
    harness: Harness, value: str
) -> None:
    title = f"Ô Môn: khóa sai {len(value)}"

    response = submit(harness, article(title), value)

    body = problem(response, 422)
    assert body["field"] == HEADER
    assert body["errors"][0]["location"] == "header"
    assert "printable ASCII" in body["detail"]
    assert articles_titled(harness, title) == []


def test_the_openapi_document_describes_the_header_and_its_answers(harness: Harness) -> None:
    operation = harness.call("GET", "/openapi.json", key=None).json()["paths"]["/articles"]["post"]

    # Powertools lower-cases header parameter names (headers are case-insensitive).
    (parameter,) = [p for p in operation["parameters"] if p["name"] == HEADER.lower()]
    assert parameter["in"] == "header" and not parameter.get("required", False)
    assert parameter["schema"]["maxLength"] == IDEMPOTENCY_KEY_MAX_CHARS
    assert parameter["schema"]["pattern"] == IDEMPOTENCY_KEY_PATTERN
    assert "24 hours" in parameter["description"]
    assert "Idempotency-Key" in operation["responses"]["409"]["description"]
    assert "Idempotency-Key" in operation["responses"]["422"]["description"]
    assert "503" in operation["responses"]


# -- the CLI and the local gateway ------------------------------------------------------------------


def test_presswire_submit_sends_a_fresh_uuid_key_per_run_and_the_gateway_forwards_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra.cli import build_parser
    from infra.local.gateway import Gateway

    events: list[dict[str, Any]] = []

    def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        answer = {"id": "a1", "url": "http://127.0.0.1/a1/"}
        return {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(answer),
        }

    source = tmp_path / "article.json"
    source.write_text(json.dumps(article("Ô Môn: dòng lệnh")), encoding="utf-8")
    running = Gateway(
        host="127.0.0.1", port=0, api_handler=api, s3=None, site_bucket="-", media_bucket="-"
    ).start()
    try:
        for _ in range(2):
            args = build_parser().parse_args(
                ["submit", str(source), "--api", f"http://127.0.0.1:{running.port}/api", "--key", "pw_k"]
            )
            assert args.run(args) == 0
    finally:
        running.stop()

    keys = [event["headers"]["idempotency-key"] for event in events]
    assert [event["rawPath"] for event in events] == ["/api/articles"] * 2
    assert all(uuid.UUID(key).version == 4 for key in keys)
    assert keys[0] != keys[1]
    assert "id:  a1" in capsys.readouterr().out
