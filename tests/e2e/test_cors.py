"""CORS through the local gateway, as API Gateway answers it with template.yaml's CorsConfiguration:
`presswire serve --cors-origin` allows one origin; every other origin gets no CORS headers."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.gateway import Gateway
from tests.e2e.conftest import ServedStack, start_stack

pytestmark = pytest.mark.e2e

CMS = "https://cms.example.vn"
OTHER = "https://evil.example"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedStack]:
    served = start_stack(tmp_path_factory.mktemp("cors") / "state", None, "--cors-origin", CMS)
    yield served
    if served.process.poll() is None:
        served.stop()


def request(
    url: str, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, http.client.HTTPMessage, bytes]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def preflight(url: str, origin: str, method: str = "POST") -> tuple[int, http.client.HTTPMessage, bytes]:
    return request(
        url,
        "OPTIONS",
        "/api/articles",
        {
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        },
    )


def test_serve_names_the_allowed_origins_when_it_starts(stack: ServedStack) -> None:
    assert f"cors: {CMS}" in "".join(stack.output)


def test_a_preflight_from_the_allowed_origin_gets_exactly_that_origin_and_vary_origin(
    stack: ServedStack,
) -> None:
    status, headers, body = preflight(stack.url, CMS)

    assert status == 204 and body == b""
    assert headers.get_all("Access-Control-Allow-Origin") == [CMS]
    assert "Origin" in headers["Vary"]
    assert {"POST", "PATCH", "DELETE"} <= set(headers["Access-Control-Allow-Methods"].split(","))
    allowed = {name.lower() for name in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "if-match", "idempotency-key"} <= allowed
    assert int(headers["Access-Control-Max-Age"]) > 0
    assert headers["Access-Control-Allow-Credentials"] is None


def test_a_preflight_from_another_origin_gets_no_access_control_headers(stack: ServedStack) -> None:
    status, headers, _ = preflight(stack.url, OTHER)

    assert status == 204
    assert [name for name in headers if name.lower().startswith("access-control-")] == []


def test_a_request_from_the_allowed_origin_can_read_the_response_and_its_etag_and_location(
    stack: ServedStack,
) -> None:
    article = {
        "title": "CORS: bài từ trang quản trị",
        "body": "<p>Nội dung.</p>",
        "author": "Na Ra",
        "section": "Thời sự",
        "status": "draft",
    }
    status, headers, body = request(
        stack.url,
        "POST",
        "/api/articles",
        {"Origin": CMS, "Authorization": f"Bearer {stack.key}", "Content-Type": "application/json"},
        json.dumps(article).encode(),
    )

    assert status == 201, body
    assert headers.get_all("Access-Control-Allow-Origin") == [CMS]
    exposed = {name.lower() for name in headers["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "location", "retry-after"} <= exposed
    assert headers["ETag"] and headers["Location"]
    assert "Origin" in headers["Vary"]


def test_a_request_from_another_origin_is_answered_without_access_control_headers(stack: ServedStack) -> None:
    # The API still answers (a key decides that); the browser, seeing no CORS headers, hides it.
    status, headers, _ = request(
        stack.url, "GET", "/api/articles", {"Origin": OTHER, "Authorization": f"Bearer {stack.key}"}
    )

    assert status == 200
    assert [name for name in headers if name.lower().startswith("access-control-")] == []


def test_without_origins_the_gateway_adds_no_cors_and_leaves_options_to_the_routes() -> None:
    # `presswire serve` without --cors-origin, as an HttpApi without CorsConfiguration: no
    # preflight answers, so a browser on another origin is refused.
    events: list[dict[str, Any]] = []

    def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        return {"statusCode": 404, "headers": {"Content-Type": "application/problem+json"}, "body": "{}"}

    gateway = Gateway(
        host="127.0.0.1", port=0, api_handler=api, s3=None, site_bucket="-", media_bucket="-"
    ).start()
    try:
        status, headers, _ = preflight(f"http://127.0.0.1:{gateway.port}", CMS)
    finally:
        gateway.stop()

    assert status == 404
    assert [event["requestContext"]["http"]["method"] for event in events] == ["OPTIONS"]
    assert [name for name in headers if name.lower().startswith("access-control-")] == []
