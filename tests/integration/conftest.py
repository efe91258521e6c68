"""Handlers in-process against moto, with the resources template.yaml declares."""

from __future__ import annotations

import json
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.config import get_settings
from functions.dal.factory import get_storage
from infra.cfn import load_template, resolved_environment, stream_filter_patterns
from infra.local import moto_patches
from infra.local.aws import Provisioned, provision_from_template
from infra.local.gateway import http_api_event
from infra.local.lambda_runtime import invoke
from infra.local.stack import LOCAL_SETTINGS
from infra.local.stream_poller import StreamPoller
from tests.conftest import SEED_DIR

SITE_URL = "https://news.example.vn"


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Harness:
    """What a test needs: call the API, run the publisher on what the stream holds, read buckets."""

    provisioned: Provisioned
    api: Any
    publisher: Any
    key: str
    s3: Any
    streams: Any
    poller: StreamPoller
    notifier: Any = None
    sqs: Any = None
    notify_queue_url: str = ""

    def name(self, logical_id: str) -> str:
        return self.provisioned.names[logical_id]

    def call(
        self,
        method: str,
        path: str,
        body: bytes | str | dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        key: str | None = "default",
        query: str = "",
    ) -> ApiResponse:
        all_headers = {"host": "news.example.vn", "content-type": "application/json"}
        if key is not None:
            all_headers["authorization"] = f"Bearer {self.key if key == 'default' else key}"
        all_headers.update({name.lower(): value for name, value in (headers or {}).items()})
        if isinstance(body, dict):
            raw = json.dumps(body, ensure_ascii=False).encode()
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = body or b""
        event = http_api_event(method, "/api" + path, query, all_headers, raw, "127.0.0.1")
        result = invoke(self.api.lambda_handler, "ApiFunction", event)
        payload = result.get("body") or ""
        return ApiResponse(result["statusCode"], result.get("headers") or {}, payload.encode())

    def upload_seed_images(self, article: dict[str, Any]) -> dict[str, Any]:
        """What `presswire submit` does: upload each referenced image and point the body at it."""
        body = article["body"]
        for name in ("quang-canh-lop-tap-huan.jpg", "ba-nguyen-thuy-hang.jpg"):
            response = self.call(
                "POST",
                "/media",
                (SEED_DIR / "media" / name).read_bytes(),
                headers={"content-type": "image/jpeg"},
                query=f"filename={name}",
            )
            assert response.status == 201, response.body
            body = body.replace(f"media/{name}", response.json()["url"])
        return {**article, "body": body}

    def publish(self) -> int:
        """Deliver what the stream holds to the publisher, as the event source mapping would."""
        return self.poller.poll_once()

    def notify(self, rounds: int = 5) -> int:
        """Deliver what the notify queue holds to the notifier (fan-out needs a second round)."""
        from infra.local.queue_poller import QueuePoller

        poller = QueuePoller(
            self.sqs, self.notify_queue_url, self.notifier.lambda_handler, "NotifierFunction"
        )
        return sum(poller.poll_once() for _ in range(rounds))

    def site_object(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.name("SiteBucket"), Key=key)["Body"].read()

    def site_status(self, key: str) -> int:
        """The HTTP status the site serves the object with (410 for a retraction notice)."""
        head = self.s3.head_object(Bucket=self.name("SiteBucket"), Key=key)
        return int(head.get("Metadata", {}).get("http-status", 200))

    def new_key(self, role: str, name: str) -> str:
        from functions.dal.factory import get_storage
        from functions.logic.auth import issue_key

        secret, _ = issue_key(get_storage(), role=role, name=name, now=datetime.now(UTC))  # type: ignore[arg-type]
        return secret

    def site_keys(self) -> set[str]:
        listing = self.s3.list_objects_v2(Bucket=self.name("SiteBucket"))
        return {item["Key"] for item in listing.get("Contents", [])}


class Clock:
    """The injectable clock: tests move time instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    from functions import clock as clock_module

    fake = Clock(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    monkeypatch.setattr(clock_module, "utc_now", fake)
    return fake


@pytest.fixture
def seed_article() -> dict[str, Any]:
    return json.loads((SEED_DIR / "seed-article.json").read_text(encoding="utf-8"))


FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


@contextmanager
def refusing_scans() -> Iterator[list[str]]:
    """Fail every DynamoDB Scan that code under functions/ makes: every read must be a GetItem or
    a Query (DESIGN.md; tests/unit/test_no_scan.py searches the source). The hook raises in the
    caller, and the context fails on exit too, since a handler may turn the error into a 500 or a
    batch item failure. A test may still scan the table to inspect it. Clients created inside
    the context carry the hook (botocore copies a session's hooks into each new client)."""
    scans: list[str] = []

    def refuse(**_: Any) -> None:
        stack = traceback.extract_stack()
        ours = [frame for frame in stack if Path(frame.filename).is_relative_to(FUNCTIONS_DIR)]
        if ours:
            where = f"{Path(ours[-1].filename).relative_to(FUNCTIONS_DIR.parent)}:{ours[-1].lineno}"
            scans.append(where)
            raise AssertionError(f"DynamoDB Scan called from {where}: read by key or by Query")

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
    # Before the request is even built: ahead of anything that answers it (moto, a Stubber).
    event = "before-parameter-build.dynamodb.Scan"
    events.register(event, refuse, unique_id="presswire-refuse-scan")
    try:
        yield scans
    finally:
        events.unregister(event, unique_id="presswire-refuse-scan")
    if scans:
        raise AssertionError(f"DynamoDB Scan called from code under functions/: {', '.join(scans)}")


@contextmanager
def running_harness(monkeypatch: pytest.MonkeyPatch, *, patched_moto: bool = False) -> Iterator[Harness]:
    """The API, publisher and notifier on moto, provisioned from template.yaml; with the local
    stack's moto patches if asked (tests/integration/test_local_moto_patches.py holds them to stock
    moto's answers): stock moto copies the whole table for every transaction, which makes each
    submit cost more as a long-lived harness's table fills."""
    if patched_moto:
        moto_patches.install(monkeypatch.setattr)
    with mock_aws(), refusing_scans():
        template = load_template()
        provisioned = provision_from_template(template, lambda service: boto3.client(service))
        site = json.loads((SEED_DIR / "seed-site.json").read_text(encoding="utf-8"))
        environment = resolved_environment(
            template,
            provisioned.names,
            {"SiteUrl": SITE_URL, "SiteBanner": site["site_banner"], "FeedIdAuthority": "news.example.vn"},
        )
        # As `presswire serve` runs them: webhook receivers here listen on 127.0.0.1 over http.
        environment.update(LOCAL_SETTINGS)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        get_storage.cache_clear()
        from functions.clock import utc_now
        from functions.handlers import api, notifier, publisher
        from functions.logic.auth import issue_key

        key, _ = issue_key(get_storage(), role="editor", name="tests", now=utc_now())
        streams = boto3.client("dynamodbstreams")
        table = boto3.client("dynamodb").describe_table(TableName=provisioned.names["ArticlesTable"])
        harness = Harness(
            provisioned=provisioned,
            api=api,
            publisher=publisher,
            key=key,
            s3=boto3.client("s3"),
            streams=streams,
            poller=StreamPoller(
                streams,
                table["Table"]["LatestStreamArn"],
                publisher.lambda_handler,
                "PublisherFunction",
                filters=stream_filter_patterns(template, "PublisherFunction"),
            ),
            notifier=notifier,
            sqs=boto3.client("sqs"),
            notify_queue_url=provisioned.names["NotifyQueue"],
        )
        harness.publish()  # the key's own stream record
        yield harness
    get_settings.cache_clear()
    get_storage.cache_clear()


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with running_harness(monkeypatch) as running:
        yield running


@pytest.fixture(scope="module")
def module_harness() -> Iterator[Harness]:
    """One harness for a whole module, for tests that only read what they create themselves
    (setting one up takes about half a second)."""
    with pytest.MonkeyPatch.context() as patch, running_harness(patch, patched_moto=True) as running:
        yield running


# What tests/integration/test_faults.py injected and found, printed after the run.
FAULT_TALLY: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FAULT_TALLY:
        terminalreporter.section("fault injection")
        for name, count in FAULT_TALLY.items():
            terminalreporter.write_line(f"{name}: {count}")
