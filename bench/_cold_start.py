"""One cold start in this fresh process: import a handler, then answer its first event, with AWS
answered in-process (no network, no moto), for bench/import_time.py.

    python bench/_cold_start.py api-401 | api-openapi | publisher-batch

The canned transport answers at botocore's `before-send`, so everything else a real first call
does still happens here: the client is created (service model, endpoints, credentials), the
request serialized and signed, the response parsed. Only this file's own imports precede the
handler's, and they are ones the handler makes anyway (json, boto3, botocore).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._data


def _answer(request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse:
    """Every call succeeds with an empty JSON answer: GetItem finds nothing."""
    return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, _Body(b"{}"))


class _Context:
    function_name = "ColdStartProbe"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ColdStartProbe"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _http_event(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "probe",
            "domainName": "probe.example.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1"},
            "requestId": "probe",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "isBase64Encoded": False,
    }


def api_401() -> None:
    """A read with a well-formed but unknown key: routing, request validation, the key's GetItem
    (the first DynamoDB client), a 401 problem."""
    from functions.handlers.api import lambda_handler

    event = _http_event(
        "GET", "/api/articles/0123abcd-0000-4000-8000-000000000000", {"authorization": "Bearer pw_unknown"}
    )
    response = lambda_handler(event, _Context())
    assert response["statusCode"] == 401, response


def api_openapi() -> None:
    """GET /api/openapi.json: the one route that needs Powertools' OpenAPI models."""
    from functions.handlers.api import lambda_handler

    response = lambda_handler(_http_event("GET", "/api/openapi.json", {}), _Context())
    assert response["statusCode"] == 200, response["statusCode"]


def publisher_batch() -> None:
    """One stream record that is not an article (a new API key): the batch machinery, settings,
    the storage object; no rendering and no AWS call (both are the same before and after the
    import changes measured here)."""
    from functions.handlers.publisher import lambda_handler

    image = {"pk": {"S": "APIKEY#probe"}, "sk": {"S": "APIKEY"}, "entity": {"S": "apikey"}}
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"pk": image["pk"], "sk": image["sk"]},
            "NewImage": image,
            "SequenceNumber": "1",
        },
    }
    response = lambda_handler({"Records": [record]}, _Context())
    assert response == {"batchItemFailures": []}, response


PROBES = {"api-401": api_401, "api-openapi": api_openapi, "publisher-batch": publisher_batch}


def main(name: str) -> None:
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-send", _answer)
    PROBES[name]()


if __name__ == "__main__":
    main(sys.argv[1])
