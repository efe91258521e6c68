"""One local HTTP port: /api/* as API Gateway HTTP API (payload 2.0) would call the API function,
everything else from the site bucket (and /media/* from the content bucket) as CloudFront would."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from botocore.exceptions import ClientError

from functions.dal.aws import HTTP_STATUS_METADATA
from infra.local.lambda_runtime import Handler, invoke

log = logging.getLogger("presswire.local.gateway")

API_PREFIX = "/api"
MEDIA_PREFIX = "/media/"
# An HTTP API's payload limit: API Gateway answers 413 before the function sees a larger body. The
# function refuses less itself (JSON bodies over 4 MB, direct uploads over 4 MB: Lambda's own
# synchronous payload limit is 6 MB, base64 included).
MAX_API_BODY = 10 * 1024 * 1024
PROBLEM_TYPE_PREFIX = "urn:presswire:problem:"
_TEXT_TYPES = (
    "application/json",
    "application/problem+json",
    "text/",
    "application/xml",
    "application/x-www-form-urlencoded",
)


@dataclass(frozen=True)
class CorsPolicy:
    """What API Gateway does for an HTTP API with a CorsConfiguration (template.yaml, HttpApi).

    CORS is answered by the gateway, not by the function (Powertools' CORSConfig), because that is
    where it happens on AWS: API Gateway answers every preflight itself, before any route, and
    replaces whatever CORS headers the integration returns with its own. Emulating that here keeps
    one behaviour in both places; the policy comes from template.yaml's CorsConfiguration and the
    origins from the same CorsAllowedOrigins parameter, through Settings (infra/local/stack.py)."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int

    @staticmethod
    def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
        return method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers

    def preflight_headers(self, origin: str | None) -> dict[str, str]:
        """The headers of API Gateway's 204 answer to a preflight: none of the access-control ones
        for an origin it does not allow, so the browser refuses the request."""
        if origin not in self.allow_origins:
            return {"Vary": "Origin"}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ",".join(self.allow_methods),
            "Access-Control-Allow-Headers": ",".join(self.allow_headers),
            "Access-Control-Max-Age": str(self.max_age),
            "Vary": "Origin",
        }

    def response_headers(self, origin: str | None, headers: Mapping[str, str]) -> dict[str, str]:
        """The function's response headers as the client gets them: its own CORS headers dropped,
        the allowed origin echoed (never a wildcard), and Origin added to Vary (the answer depends on it)."""
        answer: dict[str, str] = {}
        vary: list[str] = []
        for name, value in headers.items():
            lowered = name.lower()
            if lowered == "vary":
                vary.append(value)
            elif not lowered.startswith("access-control-"):
                answer[name] = value
        answer["Vary"] = ", ".join([*vary, "Origin"])
        if origin in self.allow_origins:
            answer["Access-Control-Allow-Origin"] = origin
            answer["Access-Control-Expose-Headers"] = ",".join(self.expose_headers)
        return answer


def object_key_for_path(path: str) -> str:
    """What the CloudFront viewer-request function does: directory URLs get index.html."""
    key = unquote(path).lstrip("/")
    if key == "" or key.endswith("/"):
        return key + "index.html"
    if "." not in key.rsplit("/", 1)[-1]:
        return key + "/index.html"
    return key


def http_api_event(
    method: str, raw_path: str, query: str, headers: dict[str, str], body: bytes, source_ip: str
) -> dict[str, Any]:
    content_type = headers.get("content-type", "")
    is_text = content_type.startswith(_TEXT_TYPES) or not body
    text_body: str | None = None
    if is_text:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False
    now = time.time()
    query_parameters: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        query_parameters[name] = f"{query_parameters[name]},{value}" if name in query_parameters else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": formatdate(now, usegmt=True),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if query_parameters:
        event["queryStringParameters"] = query_parameters
    if body:
        event["body"] = text_body if is_text else base64.b64encode(body).decode("ascii")
    return event


class _GatewayServer(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: twenty clients connecting at once while the
    # process is busy overflowed it, and the kernel's SYN cookies then reset some of them
    # (ConnectionResetError in bench/load.py). API Gateway and CloudFront take them all.
    request_queue_size = 128
    daemon_threads = True


class Gateway:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        api_handler: Handler,
        s3: Any,
        site_bucket: str,
        media_bucket: str,
        on_api_request: Callable[[], None] | None = None,
        cors: CorsPolicy | None = None,
    ) -> None:
        self.api_handler = api_handler
        self.cors = cors
        self.s3 = s3
        self.site_bucket = site_bucket
        self.media_bucket = media_bucket
        gateway = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "presswire-local"

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("%s " + format, self.client_address[0], *args)

            def _dispatch(self) -> None:
                gateway.handle(self)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch

        self.server = _GatewayServer((host, port), RequestHandler)
        self._thread = threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> Gateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    # -- requests -------------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        try:
            if parts.path == API_PREFIX or parts.path.startswith(API_PREFIX + "/"):
                self._api(request, parts.path, parts.query)
            elif request.command in {"GET", "HEAD"}:
                self._static(request, parts.path)
            else:
                self._send(request, 405, {"Allow": "GET, HEAD", "Content-Type": "text/plain"}, b"405\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(
        self, request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        if status != HTTPStatus.NO_CONTENT:  # RFC 9110 8.6: never on a 204
            request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)

    def _problem(
        self,
        request: BaseHTTPRequestHandler,
        status: int,
        type_slug: str,
        title: str,
        detail: str,
        field: str | None = "body",
    ) -> None:
        """The API's own problem+json shape, for what the gateway refuses before the function."""
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_PREFIX + type_slug,
            "title": title,
            "status": status,
            "detail": detail,
        }
        if field:
            body["field"] = field
        payload = json.dumps(body).encode()
        # The unread rest of a refused body must not be taken for the next request.
        request.close_connection = True
        self._send(request, status, {"Content-Type": "application/problem+json"}, payload)

    def _read_body(self, request: BaseHTTPRequestHandler) -> bytes | None:
        """The request body, or None once a problem has been answered (too large, bad framing)."""
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(request)
        declared = (request.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit():
            self._problem(
                request,
                400,
                "invalid-request",
                "Invalid Content-Length",
                f"not a length: {declared[:40]}",
                "Content-Length",
            )
            return None
        length = int(declared)
        if length > MAX_API_BODY:
            self._too_large(request)
            return None
        return request.rfile.read(length) if length else b""

    def _read_chunked(self, request: BaseHTTPRequestHandler) -> bytes | None:
        body = bytearray()
        while True:
            size_line = request.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                self._problem(request, 400, "invalid-request", "Invalid chunked body", "bad chunk size")
                return None
            if size == 0:
                while request.rfile.readline(8192).strip():  # trailers
                    pass
                return bytes(body)
            if len(body) + size > MAX_API_BODY:
                self._too_large(request)
                return None
            body += request.rfile.read(size)
            request.rfile.readline(8)  # the CRLF after each chunk

    def _too_large(self, request: BaseHTTPRequestHandler) -> None:
        self._problem(
            request,
            413,
            "body-too-large",
            "The request body is too large",
            f"the API takes bodies of at most {MAX_API_BODY} bytes; images go through presigned uploads",
        )

    def _api(self, request: BaseHTTPRequestHandler, path: str, query: str) -> None:
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            lowered = name.lower()
            headers[lowered] = f"{headers[lowered]},{value}" if lowered in headers else value
        body = self._read_body(request)
        if body is None:
            return
        origin = headers.get("origin")
        if self.cors is not None and CorsPolicy.is_preflight(request.command, headers):
            self._send(request, HTTPStatus.NO_CONTENT, self.cors.preflight_headers(origin), b"")
            return
        event = http_api_event(request.command, path, query, headers, body, request.client_address[0])
        try:
            result = invoke(self.api_handler, "ApiFunction", event)
        except Exception:
            log.exception("the API function failed")
            self._problem(
                request, 500, "internal-error", "Internal error", "the API function raised an error", None
            )
            return
        response_headers = dict(result.get("headers") or {})
        payload = result.get("body") or ""
        raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode("utf-8")
        for cookie in result.get("cookies") or []:
            response_headers.setdefault("Set-Cookie", cookie)
        if self.cors is not None:
            response_headers = self.cors.response_headers(origin, response_headers)
        self._send(request, int(result.get("statusCode", 200)), response_headers, raw)

    def _static(self, request: BaseHTTPRequestHandler, path: str) -> None:
        if path.startswith(MEDIA_PREFIX):
            bucket, key = self.media_bucket, "media/" + unquote(path[len(MEDIA_PREFIX) :])
        else:
            bucket, key = self.site_bucket, object_key_for_path(path)
        if ".." in key.split("/"):
            self._send(request, 400, {"Content-Type": "text/plain"}, b"400\n")
            return
        # A revalidation (a feed reader, a browser) usually finds the object unchanged: its
        # metadata is asked for first rather than the whole body (a feed is ~150 KB) only to be
        # thrown away; the body is read only when it is to be sent.
        conditional = "If-None-Match" in request.headers or "If-Modified-Since" in request.headers
        stored = self._stored(bucket, key, body=not conditional)
        if stored is None:
            self._not_found(request)
            return
        # What CloudFront's viewer-response function does with the publisher's status metadata.
        status = int(stored.get("Metadata", {}).get(HTTP_STATUS_METADATA, 200))
        if status == 200 and self._not_modified(
            request, stored.get("ETag", ""), stored["LastModified"].timestamp()
        ):
            unchanged = self._object_headers(stored)
            del unchanged["Content-Type"]
            self._send(request, 304, unchanged, b"")
            return
        if "Body" not in stored:
            stored = self._stored(bucket, key, body=True)
            if stored is None:  # deleted in between
                self._not_found(request)
                return
            status = int(stored.get("Metadata", {}).get(HTTP_STATUS_METADATA, 200))
        self._send(request, status, self._object_headers(stored), stored["Body"].read())

    def _stored(self, bucket: str, key: str, *, body: bool) -> dict[str, Any] | None:
        """GetObject (or HeadObject without the body); None when there is no such object."""
        try:
            read = self.s3.get_object if body else self.s3.head_object
            return dict(read(Bucket=bucket, Key=key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in {"NoSuchKey", "404", "NotFound"}:
                raise
            return None

    @staticmethod
    def _object_headers(stored: Mapping[str, Any]) -> dict[str, str]:
        return {
            "Content-Type": stored.get("ContentType", "application/octet-stream"),
            "ETag": stored.get("ETag", ""),
            "Last-Modified": formatdate(stored["LastModified"].timestamp(), usegmt=True),
            "Cache-Control": stored.get("CacheControl") or "public, max-age=60",
        }

    @staticmethod
    def _not_modified(request: BaseHTTPRequestHandler, etag: str, modified: float) -> bool:
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match.strip() == "*"
        if_modified_since = request.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                return int(modified) <= parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _not_found(self, request: BaseHTTPRequestHandler) -> None:
        try:
            page = self.s3.get_object(Bucket=self.site_bucket, Key="404.html")["Body"].read()
        except ClientError:
            page = b"<!doctype html><title>404</title><h1>404 - Not found</h1>"
        self._send(
            request,
            HTTPStatus.NOT_FOUND,
            {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"},
            page,
        )
