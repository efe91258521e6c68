"""Bad input of every kind gets a 4xx RFC 9457 problem naming the field at fault, never a 5xx."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from functions.models.api import MAX_JSON_BODY_BYTES
from functions.models.article import MAX_BODY_CHARS, MAX_TAGS, MAX_TITLE_CHARS
from infra.local.gateway import MAX_API_BODY, Gateway
from tests.integration.conftest import ApiResponse, Harness

ARTICLE: dict[str, Any] = {
    "title": "Ô Môn: tập huấn nghiệp vụ",
    "body": "<p>Nội dung.</p>",
    "author": "Na Ra",
    "section": "Hoạt động Mặt trận",
    "published_at": "2023-05-10T16:30:00+07:00",
}


def problem(response: ApiResponse, status: int) -> dict[str, Any]:
    """The response is the RFC 9457 problem the API promises, with that status."""
    assert response.status == status, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:presswire:problem:")
    assert body["title"] and body["detail"]
    return body


def fields_at_fault(body: dict[str, Any]) -> set[str]:
    assert body["field"] == body["errors"][0]["field"]
    assert all(error["message"] for error in body["errors"])
    return {error["field"] for error in body["errors"]}


@pytest.fixture
def harness(module_harness: Harness) -> Harness:
    # Each test refuses a request or adds an article of its own: one stack serves the module.
    return module_harness


@pytest.fixture
def article(harness: Harness) -> dict[str, Any]:
    response = harness.call("POST", "/articles", ARTICLE)
    assert response.status == 201, response.body
    return {**response.json(), "etag": response.headers["ETag"]}


# -- sizes ---------------------------------------------------------------------------------


def test_a_json_body_over_the_limit_gets_413_naming_the_body(harness: Harness) -> None:
    response = harness.call("POST", "/articles", {**ARTICLE, "summary": "x" * MAX_JSON_BODY_BYTES})

    body = problem(response, 413)
    assert body["field"] == "body"
    assert str(MAX_JSON_BODY_BYTES) in body["detail"]


def test_an_article_body_longer_than_the_model_allows_gets_422_naming_body(harness: Harness) -> None:
    response = harness.call("POST", "/articles", {**ARTICLE, "body": "a" * (MAX_BODY_CHARS + 1)})

    assert fields_at_fault(problem(response, 422)) == {"body"}


def test_an_over_long_title_gets_422_naming_title(harness: Harness) -> None:
    response = harness.call("POST", "/articles", {**ARTICLE, "title": "T" * (MAX_TITLE_CHARS + 1)})

    body = problem(response, 422)
    assert fields_at_fault(body) == {"title"}
    assert body["errors"][0]["location"] == "body"
    assert str(MAX_TITLE_CHARS) in body["detail"]


def test_too_many_tags_and_an_over_long_tag_get_422_naming_tags(harness: Harness) -> None:
    too_many = harness.call("POST", "/articles", {**ARTICLE, "tags": [f"t{n}" for n in range(MAX_TAGS + 1)]})
    too_long = harness.call("POST", "/articles", {**ARTICLE, "tags": ["ok", "x" * 61]})

    assert fields_at_fault(problem(too_many, 422)) == {"tags"}
    assert fields_at_fault(problem(too_long, 422)) == {"tags"}


def test_html_nested_deeper_than_the_limit_gets_422_before_the_sanitizer_sees_it(harness: Harness) -> None:
    from functions.logic.content import MAX_HTML_DEPTH

    deep = harness.call("POST", "/articles", {**ARTICLE, "body": "<div>" * 30_000 + "x"})
    fine = harness.call("POST", "/articles", {**ARTICLE, "body": "<blockquote>" * MAX_HTML_DEPTH + "x"})

    body = problem(deep, 422)
    assert body["field"] == "body" and str(MAX_HTML_DEPTH) in body["detail"]
    assert fine.status == 201, fine.body


def test_unclosed_paragraphs_and_list_items_do_not_count_as_nesting(harness: Harness) -> None:
    body = "<ul>" + "<li>item" * 1_000 + "</ul>" + "<p>paragraph" * 1_000

    response = harness.call("POST", "/articles", {**ARTICLE, "body": body})

    assert response.status == 201, response.body


# -- content types and encodings -------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",  # no boundary: Powertools alone raises ValueError (a 500)
        "multipart/form-data; boundary=xyz",
        "application/xml",
        "application/json; charset=iso-8859-1",
        "application/json-patch+json",
    ],
)
def test_a_json_route_answers_415_to_any_other_content_type(harness: Harness, content_type: str) -> None:
    response = harness.call("POST", "/articles", json.dumps(ARTICLE), headers={"content-type": content_type})

    assert problem(response, 415)["field"] == "Content-Type"


def test_a_json_body_without_content_type_gets_415(harness: Harness) -> None:
    response = harness.call("POST", "/articles", json.dumps(ARTICLE), headers={"content-type": ""})

    problem(response, 415)


def test_the_media_type_is_matched_without_regard_to_case_or_parameters(harness: Harness) -> None:
    response = harness.call(
        "POST", "/articles", ARTICLE, headers={"content-type": "Application/JSON; charset=UTF-8"}
    )

    assert response.status == 201, response.body


@pytest.mark.parametrize(
    ("method", "path", "needs_article"),
    [
        ("PUT", "/articles/{id}", True),
        ("PATCH", "/articles/{id}", True),
        ("POST", "/articles/{id}/retract", True),
        ("POST", "/articles/{id}/publish", True),
        ("POST", "/keys", False),
        ("POST", "/partners", False),
    ],
)
def test_every_json_route_refuses_multipart_without_a_boundary_with_415(
    harness: Harness, article: dict[str, Any], method: str, path: str, needs_article: bool
) -> None:
    admin = harness.new_key("admin", "admin")
    response = harness.call(
        method,
        path.format(id=article["id"]),
        b"--x\r\n",
        headers={"content-type": "multipart/form-data", "if-match": article["etag"]},
        key=admin,
    )

    problem(response, 415)


def test_media_uploads_of_other_types_get_415(harness: Harness) -> None:
    multipart = harness.call(
        "POST", "/media", b"--x\r\n", headers={"content-type": "multipart/form-data"}, query="filename=a.jpg"
    )
    text = harness.call(
        "POST", "/media", b"hello", headers={"content-type": "text/plain"}, query="filename=a"
    )

    assert problem(multipart, 415)["field"] == "Content-Type"
    problem(text, 415)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"title": "unterminated',
        b"",  # whitespace-only below; empty is "no body"
        b"   ",
        b"\xef\xbb\xbf{}",  # a byte order mark
        b'{"title": NaN}',
        b'{"length": ' + b"9" * 5000 + b"}",  # past Python's integer-digits limit
        b"[" * 100_000 + b"]" * 100_000,  # past the recursion limit
    ],
    ids=["unterminated", "empty", "blank", "bom", "nan", "huge-integer", "deep-nesting"],
)
def test_malformed_json_gets_400_problem_json(harness: Harness, raw: bytes) -> None:
    response = harness.call("POST", "/articles", raw)

    if raw == b"":
        body = problem(response, 422)
        assert body["detail"] == "body: a JSON body is required"
        return
    body = problem(response, 400)
    assert body["title"] == "The body is not valid JSON"
    assert body["field"] == "body"


@pytest.mark.parametrize(("method", "path"), [("POST", "/articles"), ("POST", "/media"), ("POST", "/keys")])
def test_non_utf8_bytes_in_a_json_body_get_400_not_500(harness: Harness, method: str, path: str) -> None:
    raw = b'{"title": "\xff\xfe caf\xe9"}'  # latin-1, as a misconfigured client sends it

    body = problem(harness.call(method, path, raw), 400)

    assert "UTF-8" in body["detail"]


def test_a_json_body_that_is_not_an_object_gets_422_naming_the_body(harness: Harness) -> None:
    body = problem(harness.call("POST", "/articles", b'["a", "list"]'), 422)

    assert fields_at_fault(body) == {"body"}
    assert "object" in body["detail"]


def test_lone_surrogates_and_control_characters_are_cleaned_not_a_500(harness: Harness) -> None:
    raw = json.dumps({**ARTICLE, "title": "Tin \ud800m\u0000ới\x0b"}).encode()
    admin = harness.new_key("admin", "admin")

    response = harness.call("POST", "/articles", raw)
    key = harness.call("POST", "/keys", json.dumps({"role": "partner", "name": "Báo \udc00A"}), key=admin)

    assert response.status == 201, response.body
    assert response.json()["title"] == "Tin mới"
    assert key.status == 201, key.body
    assert key.json()["name"] == "Báo A"  # UTF-8 cannot carry a lone surrogate, so it is dropped


# -- unknown fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/articles", {**ARTICLE, "colour": "red"}),
        ("PATCH", "/articles/{id}", {"colour": "red"}),
        ("PUT", "/articles/{id}", {**ARTICLE, "colour": "red"}),
        ("POST", "/articles/{id}/publish", {"colour": "red"}),
        ("POST", "/articles/{id}/retract", {"reason": "x", "colour": "red"}),
        ("POST", "/media", {"filename": "a.jpg", "content_type": "image/jpeg", "length": 3, "colour": "red"}),
        ("POST", "/keys", {"role": "editor", "name": "x", "colour": "red"}),
        ("POST", "/partners", {"url": "https://partner.example/hook", "colour": "red"}),
    ],
)
def test_unknown_fields_get_422_naming_each_one(
    harness: Harness, article: dict[str, Any], method: str, path: str, body: dict[str, Any]
) -> None:
    admin = harness.new_key("admin", "admin")
    response = harness.call(
        method, path.format(id=article["id"]), body, headers={"if-match": article["etag"]}, key=admin
    )

    problem_body = problem(response, 422)
    assert fields_at_fault(problem_body) == {"colour"}
    assert "unknown field" in problem_body["detail"]


def test_a_patch_with_null_fields_leaves_them_as_they_are(harness: Harness, article: dict[str, Any]) -> None:
    nulls = {name: None for name in ("title", "body", "body_format", "author", "section", "tags", "summary")}

    response = harness.call(
        "PATCH", f"/articles/{article['id']}", nulls, headers={"if-match": article["etag"]}
    )

    assert response.status == 200, response.body
    assert response.json()["title"] == ARTICLE["title"]


# -- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["published_at", "embargo_until"])
@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2023-02-30T10:00:00+07:00",
        "2023-05-10T25:00:00Z",
        "0001-01-01T00:00:00+07:00",  # overflows on the way to UTC
        "9999-12-31T23:59:59-12:00",
        "2203-05-10T16:30:00+07:00",  # a typo for 2023
        "1066-10-14T09:00:00Z",
        -1e20,
    ],
)
def test_unparsable_and_implausible_dates_get_422_naming_the_field(
    harness: Harness, field: str, value: Any
) -> None:
    response = harness.call("POST", "/articles", {**ARTICLE, field: value})

    assert fields_at_fault(problem(response, 422)) == {field}


def test_implausible_dates_in_patch_and_publish_get_422(harness: Harness, article: dict[str, Any]) -> None:
    patched = harness.call(
        "PATCH",
        f"/articles/{article['id']}",
        {"embargo_until": "0001-01-01T00:00:00+07:00"},
        headers={"if-match": article["etag"]},
    )
    published = harness.call(
        "POST", f"/articles/{article['id']}/publish", {"published_at": "9999-12-31T23:59:59-12:00"}
    )

    assert fields_at_fault(problem(patched, 422)) == {"embargo_until"}
    assert fields_at_fault(problem(published, 422)) == {"published_at"}


def test_a_naive_date_is_taken_in_the_sites_time_zone(harness: Harness) -> None:
    response = harness.call(
        "POST", "/articles", {**ARTICLE, "published_at": "2023-05-10T16:30:00", "embargo_until": None}
    )

    assert response.status == 201, response.body
    assert response.json()["published_at"].startswith("2023-05-10T09:30:00")  # Asia/Ho_Chi_Minh, +07:00


def test_the_api_documents_that_naive_dates_are_taken_in_asia_ho_chi_minh(harness: Harness) -> None:
    document = harness.call("GET", "/openapi.json", key=None).json()

    schemas = document["components"]["schemas"]
    for schema, field in (
        ("ArticleSubmission", "published_at"),
        ("ArticleSubmission", "embargo_until"),
        ("ArticlePatch", "published_at"),
        ("PublishRequest", "published_at"),
    ):
        assert "Asia/Ho_Chi_Minh" in schemas[schema]["properties"][field]["description"]
    assert "Asia/Ho_Chi_Minh" in document["info"]["description"]


# -- URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://partner.example/hook",
        "javascript:alert(1)",
        "https://user:secret@partner.example/hook",
        "https://token@partner.example/hook",
        "https://partner.example/" + "a" * 2_000,
        "https:///no-host",
        "https://partner.example:99999/hook",
        "https://partner.example/a b",
        "https://[::1/hook",
        "partner.example/hook",
    ],
)
def test_webhook_urls_must_be_http_without_credentials_and_of_reasonable_length(
    harness: Harness, url: str
) -> None:
    admin = harness.new_key("admin", "admin")

    response = harness.call("POST", "/partners", {"url": url}, key=admin)

    body = problem(response, 422)
    assert fields_at_fault(body) == {"url"}
    assert "secret" not in response.body.decode()  # a refused credential is not echoed back


def test_a_plain_https_webhook_url_is_accepted(harness: Harness) -> None:
    admin = harness.new_key("admin", "admin")

    response = harness.call(
        "POST", "/partners", {"url": "https://partner.example/hooks?source=presswire"}, key=admin
    )

    assert response.status == 201, response.body


@pytest.mark.parametrize(
    "src",
    [
        "https://reporter:hunter2@cdn.example/a.jpg",
        "/static/a.jpg",
        "/media/../articles/x.json",
        "https://cdn.example/" + "a" * 2_100 + ".jpg",
        "mailto:someone@example.com",
    ],
)
def test_image_urls_must_be_uploaded_media_or_plain_http_urls(harness: Harness, src: str) -> None:
    body = f'<p>x</p><figure><img src="{src}" alt="x"></figure>'

    response = harness.call("POST", "/articles", {**ARTICLE, "body": body})

    assert problem(response, 422)["field"] == "body"
    assert "hunter2" not in response.body.decode()  # named by its place: the problem is logged


def test_an_absolute_https_image_url_is_accepted(harness: Harness) -> None:
    body = '<p>x</p><figure><img src="https://cdn.example/a.jpg" alt="x"></figure>'

    response = harness.call("POST", "/articles", {**ARTICLE, "body": body})

    assert response.status == 201, response.body
    assert response.json()["image"]["src"] == "https://cdn.example/a.jpg"


# -- slugs ---------------------------------------------------------------------------------


def test_a_clashing_slug_gets_the_next_suffix_and_no_free_slug_gets_409(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.logic import submit_article

    monkeypatch.setattr(submit_article, "MAX_SLUG_ATTEMPTS", 2)
    clashing = {**ARTICLE, "title": "Ô Môn: một tiêu đề chỉ bài này dùng"}

    first = harness.call("POST", "/articles", clashing)
    second = harness.call("POST", "/articles", clashing)
    third = harness.call("POST", "/articles", clashing)

    assert (first.status, second.status) == (201, 201)
    assert second.json()["slug"] == first.json()["slug"] + "-2"
    body = problem(third, 409)
    assert body["field"] == "title"


# -- query and path parameters -----------------------------------------------------------------


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=101", "limit=1e3", "limit=", "status=gone"])
def test_garbage_list_parameters_get_422_naming_the_parameter(harness: Harness, query: str) -> None:
    body = problem(harness.call("GET", "/articles", query=query), 422)

    assert fields_at_fault(body) == {query.split("=")[0]}
    assert body["errors"][0]["location"] == "query"


@pytest.mark.parametrize(
    "cursor", ["garbage", "%%%", "eyJhIjogMX0", "W10", "bnVsbA", "\u0111\u00e2y", "a" * 2048]
)
def test_a_cursor_this_api_did_not_issue_gets_400_naming_cursor(harness: Harness, cursor: str) -> None:
    from urllib.parse import quote

    body = problem(harness.call("GET", "/articles", query=f"cursor={quote(cursor)}"), 400)

    assert body["field"] == "cursor"


@pytest.mark.parametrize(
    "since", ["garbage", "eyJhIjogMX0", "0001-01-01T00:00:00+07:00", "9999-12-31T23:59:59-12:00"]
)
def test_a_since_that_is_neither_a_cursor_nor_a_plausible_time_gets_400(harness: Harness, since: str) -> None:
    from urllib.parse import quote

    partner = harness.new_key("partner", "partner")

    body = problem(
        harness.call("GET", "/syndication/articles", query=f"since={quote(since)}", key=partner), 400
    )

    assert body["field"] == "since"


def test_a_naive_since_is_taken_in_the_sites_time_zone(harness: Harness) -> None:
    partner = harness.new_key("partner", "partner")

    response = harness.call("GET", "/syndication/articles", query="since=2023-05-10T16:30:00", key=partner)

    assert response.status == 200, response.body


@pytest.mark.parametrize("query", ["version=abc", "version=0", "version=-1"])
def test_a_garbage_revision_number_gets_422(harness: Harness, article: dict[str, Any], query: str) -> None:
    body = problem(harness.call("GET", f"/articles/{article['id']}", query=query), 422)

    assert fields_at_fault(body) == {"version"}


def test_a_malformed_article_id_gets_422_naming_it(harness: Harness) -> None:
    body = problem(harness.call("GET", "/articles/NOT-HEX"), 422)

    assert fields_at_fault(body) == {"article_id"}
    assert body["errors"][0]["location"] == "path"


def test_a_malformed_authorization_header_gets_401_naming_it(harness: Harness) -> None:
    response = harness.call("GET", "/articles", headers={"authorization": "Basic dXNlcjpwYXNz"}, key=None)

    assert problem(response, 401)["field"] == "Authorization"


# -- the OpenAPI document ------------------------------------------------------------------------


def test_every_documented_error_response_is_problem_json_with_the_problem_schema(harness: Harness) -> None:
    document = harness.call("GET", "/openapi.json", key=None).json()

    problem_schema = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem_schema["required"])
    assert {"field", "errors"} <= set(problem_schema["properties"])
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (method, path)
            for code, response in responses.items():
                if code.startswith("4"):
                    assert set(response["content"]) == {"application/problem+json"}, (method, path, code)
                    schema = response["content"]["application/problem+json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Problem"}


def test_body_routes_document_400_413_415_and_put_patch_document_428(harness: Harness) -> None:
    paths = harness.call("GET", "/openapi.json", key=None).json()["paths"]

    for path, method in (("/articles", "post"), ("/articles/{article_id}", "put"), ("/partners", "post")):
        assert {"400", "413", "415", "422"} <= set(paths[path][method]["responses"])
    for method in ("put", "patch"):
        assert {"412", "428"} <= set(paths["/articles/{article_id}"][method]["responses"])
    assert set(paths["/media"]["post"]["requestBody"]["content"]) >= {"application/json", "image/jpeg"}


# -- the local gateway (API Gateway's part) ------------------------------------------------------


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, list[dict[str, Any]]]]:
    """The local gateway in front of a stand-in API function that records the events it gets."""
    events: list[dict[str, Any]] = []

    def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        return {"statusCode": 204, "headers": {}, "body": ""}

    running = Gateway(
        host="127.0.0.1", port=0, api_handler=api, s3=None, site_bucket="-", media_bucket="-"
    ).start()
    yield running, events
    running.stop()


def _raw_request(port: int, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head + body)
        response = http.client.HTTPResponse(connection)
        response.begin()
        return response.status, dict(response.getheaders()), response.read()


def test_the_gateway_refuses_a_body_over_10_mb_with_413_before_reading_it(
    gateway: tuple[Gateway, list[dict[str, Any]]],
) -> None:
    running, events = gateway
    head = (
        f"POST /api/articles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {MAX_API_BODY + 1}\r\n\r\n"
    ).encode()

    status, headers, body = _raw_request(running.port, head)

    assert MAX_API_BODY == 10 * 1024 * 1024
    assert status == 413 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["field"] == "body"
    assert events == []


@pytest.mark.parametrize("length", ["abc", "-1", "1e3"])
def test_the_gateway_answers_a_garbage_content_length_with_400(
    gateway: tuple[Gateway, list[dict[str, Any]]], length: str
) -> None:
    running, events = gateway
    head = f"POST /api/articles HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()

    status, _, body = _raw_request(running.port, head)

    assert status == 400 and json.loads(body)["field"] == "Content-Length"
    assert events == []


def test_the_gateway_passes_a_chunked_body_on_whole(gateway: tuple[Gateway, list[dict[str, Any]]]) -> None:
    running, events = gateway
    head = (
        b"POST /api/articles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )

    status, _, _ = _raw_request(running.port, head, b'5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n')

    assert status == 204
    assert events[0]["body"] == '{"a": 1}'


# -- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def answering() -> Iterator[tuple[str, list[tuple[int, str, bytes]]]]:
    """An API stand-in on 127.0.0.1 that answers each request with the next canned answer
    (status, content type, body); status 0 drops the connection without answering."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    answers: list[tuple[int, str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, content_type, body = answers.pop(0)
            if status == 0:
                self.close_connection = True
                return
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api", answers
    server.shutdown()
    server.server_close()


def _submit(tmp_path: Any, api: str, article: object) -> tuple[int, list[str]]:
    import contextlib
    import io

    from infra.cli import main

    path = tmp_path / "article.json"
    path.write_text(article if isinstance(article, str) else json.dumps(article), encoding="utf-8")
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = main(["submit", str(path), "--api", api, "--key", "pw_test"])
    return code, stderr.getvalue().splitlines()


PROBLEM_422 = json.dumps(
    {
        "type": "urn:presswire:problem:validation-failed",
        "title": "The request failed validation",
        "status": 422,
        "detail": "title: too long (and 1 more: see errors)",
        "field": "title",
        "errors": [
            {"field": "title", "location": "body", "message": "too long"},
            {"field": "tags", "location": "body", "message": "too many"},
        ],
    }
).encode()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((422, "application/problem+json", PROBLEM_422), "failed with 422: title: too long; tags: too many"),
        ((502, "text/html", b"<html>\n<h1>Bad gateway</h1>\n</html>"), "failed with 502: <html> <h1>Bad"),
        ((201, "text/html", b"<html>\n</html>"), "answered with something other than JSON"),
        ((201, "application/json", b"[1, 2]"), "JSON that is not an object"),
        ((201, "application/json", b"{}"), "without the article's id and url"),
        ((0, "", b""), "failed:"),
    ],
    ids=["problem", "html-error", "html-ok", "json-list", "no-id", "dropped"],
)
def test_the_cli_says_what_went_wrong_in_one_line_and_exits_1(
    tmp_path: Any, answering: tuple[str, list[tuple[int, str, bytes]]], answer: Any, expected: str
) -> None:
    api, answers = answering
    answers.append(answer)

    code, lines = _submit(tmp_path, api, ARTICLE)

    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("presswire: error: ")
    assert expected in lines[0]


def test_the_cli_reports_an_unreachable_api_and_a_broken_file_in_one_line(tmp_path: Any) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()

    unreachable = _submit(tmp_path, f"http://127.0.0.1:{port}/api", ARTICLE)
    not_json = _submit(tmp_path, f"http://127.0.0.1:{port}/api", '{"title": ')

    assert unreachable[0] == 1 and len(unreachable[1]) == 1 and "cannot reach" in unreachable[1][0]
    assert not_json[0] == 1 and len(not_json[1]) == 1 and "not valid UTF-8 JSON" in not_json[1][0]


def test_cli_usage_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from infra.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["keys", "create", "--role", "overlord", "--name", "x"])

    assert exited.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "invalid choice" in lines[0]
