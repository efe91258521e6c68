"""Fault injection on every AWS call of the submit, publish, schedule and notify paths.

The storage layer's three clients send every attempt through a FaultGate: a botocore `before-send`
hook standing where moto's stubber stood, which forwards the attempt to moto or fails it. A fault
is keyed on the n-th call of an operation in a run (`before-call` counts calls, not attempts).

Call sites are recorded, never listed: each path runs once unfaulted while the gate records every
call (operation, ordinal, and the frames under functions/ that made it). A call site is one
operation called from one place in the code; a loop calls it several times (one ordinal each).

Fault kinds:
- absorbed, within botocore's attempts: an error (500) once, throttling on all attempts but the
  last, a connect timeout once, a read timeout once (the request was applied, its answer lost).
  An absorbed fault leaves a path's calls as they were, so each of these kinds hits every call
  of a path in one run.
- beyond retries, on every attempt of one call: an error, throttling, a connect timeout (none
  applied), a read timeout (each attempt applied, every answer lost). Each changes the path's
  course, so each is its own run, at the first ordinal of a call site: every kind at every call
  site of submit (the API: cheap runs, and a client that sees the answers); on the other paths
  (whose runs re-render or re-deliver) the call sites of one operation take the kinds in turn,
  the read timeout first, so every operation gets its answer lost after it was applied.

Then what AWS does: an API client repeats a request that got a 5xx; the stream mapping retries
the publisher (honouring its partial batch response) and then parks the batch, which is redriven;
the next scheduler tick runs again; SQS redelivers a failed message, dead-letters it after
maxReceiveCount receives, and the dead-letter queue is moved back (start-message-move-task). Where
no retry brings an output back (a parked batch past the stream's 24 hours), reconcile does.

After each run: every article that got a 2xx is in S3 (its canonical version), in DynamoDB (its
record, revisions and listing items), on its page and in every feed and sitemap it belongs to, and
every partner got its webhook. At every point a reader could look (after each invocation): no page
or feed entry without its record, no record or revision pointing at a missing canonical version.
"""

from __future__ import annotations

import html
import json
import re
import sys
import types
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

from functions.config import get_settings
from functions.dal import aws as dal_aws
from functions.dal.aws import AwsStorage
from functions.dal.factory import get_storage
from functions.handlers import api, notifier, publisher, reconciler, scheduler
from functions.logic import notify as notify_logic
from functions.logic import publish_articles, site_lease
from functions.logic.listings import listings_of
from functions.logic.records import listing_ids
from functions.models.article import ArticleRecord
from functions.models.paths import archive_path, page_key, sitemap_month_path
from functions.models.site import Site
from infra.cfn import load_template, stream_filter_patterns
from infra.local import moto_patches, stream_poller
from infra.local.lambda_runtime import invoke
from infra.local.schedule import scheduled_event
from infra.local.stream_poller import StreamPoller
from tests.conftest import REPO_ROOT, SEED_DIR
from tests.integration.conftest import FAULT_TALLY, SITE_URL, ApiResponse, Clock, Harness

FUNCTIONS_DIR = str(REPO_ROOT / "functions") + "/"
# botocore's max_attempts counts the retries: a call makes one attempt more.
CLIENT_ATTEMPTS: int = dal_aws._CLIENT_CONFIG.retries["max_attempts"] + 1  # type: ignore[attr-defined]
MAX_CLIENT_RETRIES = 10
FEED_SIZE = 3
MAX_TICKS = 12
MAX_QUEUE_ROUNDS = 60
ARTICLE_PATH = re.compile(r"/(\d{4}/\d{2}/\d{2}/[a-z0-9-]+)/")
ARTICLE_PAGE_KEY = re.compile(r"^(\d{4}/\d{2}/\d{2}/[a-z0-9-]+)/index\.html$")

Effect = Literal["error", "throttle", "connect timeout", "read timeout"]


# -- the gate -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaultKind:
    name: str
    effect: Effect
    attempts: int  # how many attempts of the call fail


ABSORBED = (
    FaultKind("error once", "error", 1),
    FaultKind("throttled until the last attempt", "throttle", CLIENT_ATTEMPTS - 1),
    FaultKind("connect timeout once", "connect timeout", 1),
    FaultKind("read timeout once, request applied", "read timeout", 1),
)
BEYOND = (
    FaultKind("error on every attempt", "error", CLIENT_ATTEMPTS),
    FaultKind("throttled on every attempt", "throttle", CLIENT_ATTEMPTS),
    FaultKind("connect timeout on every attempt", "connect timeout", CLIENT_ATTEMPTS),
    FaultKind("read timeout on every attempt, each applied", "read timeout", CLIENT_ATTEMPTS),
)


@dataclass(frozen=True)
class Call:
    operation: str  # "dynamodb.TransactWriteItems"
    ordinal: int  # the n-th call of the operation in its run
    site: tuple[str, ...]  # the frames under functions/ that made it, innermost first


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    operation: str | None = None  # None: every call
    ordinal: int | None = None
    calls: int = 1  # consecutive calls of the operation that fail, from `ordinal` on (an outage)

    def applies(self, operation: str, ordinal: int) -> bool:
        if self.operation is None:
            return True
        start = self.ordinal or 1
        return operation == self.operation and start <= ordinal < start + self.calls


@dataclass
class Landed:
    """A call moto applied (whatever its caller heard about it), with its parameters."""

    operation: str
    params: Mapping[str, Any]


@dataclass
class _InFlight:
    operation: str
    params: Mapping[str, Any]
    fault: Fault | None
    left: int


def _error_response(request: AWSPreparedRequest, service: str, effect: Effect, attempt: int) -> AWSResponse:
    if service == "s3":
        status, code = (503, "SlowDown") if effect == "throttle" else (500, "InternalError")
        # S3 answers a HEAD with the status alone: the client sees the code "503" or "500".
        body = b"" if request.method == "HEAD" else f"<Error><Code>{code}</Code></Error>".encode()
        return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, MockRawResponse(body))
    if effect == "throttle":
        codes = {
            "dynamodb": ("ProvisionedThroughputExceededException", "ThrottlingException"),
            "sqs": ("ThrottlingException", "RequestThrottled"),
        }[service]
        status, code = 400, codes[attempt % 2]
    else:
        status, code = 500, "InternalServerError" if service == "dynamodb" else "InternalError"
    payload = json.dumps({"__type": f"com.amazonaws.{service}#{code}", "message": "injected"})
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(request.url, status, headers, MockRawResponse(payload))


class FaultGate:
    """Between the storage layer's clients and moto: records calls, injects faults, keeps a log of
    the writes moto applied."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.injected: Counter[str] = Counter()
        self.landed: list[Landed] = []
        self.faults: tuple[Fault, ...] = ()
        self.hits: list[tuple[Fault, Call]] = []
        self._counts: Counter[str] = Counter()
        self._in_flight: _InFlight | None = None
        self._params: Mapping[str, Any] = {}

    def attach(self, clients: tuple[Any, ...]) -> None:
        for client in clients:
            events = client.meta.events
            events.unregister("before-send", botocore_stubber)
            events.register("provide-client-params", self._on_params)
            events.register("before-call", self._on_call)
            events.register_first("before-send", self._on_send)

    @contextmanager
    def run(self, *faults: Fault) -> Iterator[list[Call]]:
        """One run of a path: ordinals count from here; yields the calls it makes."""
        self.calls, self._counts, self.faults, self.hits = [], Counter(), faults, []
        try:
            yield self.calls
        finally:
            self.faults, self._in_flight, self.calls = (), None, []

    def _on_params(self, params: Mapping[str, Any], **_: Any) -> None:
        self._params = params

    def _on_call(self, event_name: str, **_: Any) -> None:
        operation = event_name.split(".", 1)[1]
        params, self._params = self._params, {}
        self._counts[operation] += 1
        call = Call(operation, self._counts[operation], _site())
        self.calls.append(call)
        fault = next((fault for fault in self.faults if fault.applies(operation, call.ordinal)), None)
        self._in_flight = _InFlight(operation, params, fault, fault.kind.attempts if fault else 0)
        if fault is not None:
            self.hits.append((fault, call))

    def _on_send(self, event_name: str, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        flight = self._in_flight
        assert flight is not None
        if flight.fault is None or flight.left == 0:
            return self._forward(event_name, request, flight)
        flight.left -= 1
        kind = flight.fault.kind
        self.injected[kind.effect] += 1
        if kind.effect == "connect timeout":
            raise ConnectTimeoutError(endpoint_url=request.url)
        if kind.effect == "read timeout":
            self._forward(event_name, request, flight)
            raise ReadTimeoutError(endpoint_url=request.url)
        return _error_response(request, event_name.split(".")[1], kind.effect, flight.left)

    def _forward(self, event_name: str, request: AWSPreparedRequest, flight: _InFlight) -> AWSResponse | None:
        response = botocore_stubber(event_name=event_name, request=request)
        if response is not None and response.status_code < 300:
            self.landed.append(Landed(flight.operation, flight.params))
        return response


def _site() -> tuple[str, ...]:
    frames: list[str] = []
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(FUNCTIONS_DIR):
            frames.append(f"{filename.removeprefix(FUNCTIONS_DIR)}:{frame.f_lineno}")
        frame = frame.f_back  # type: ignore[assignment]
    return tuple(frames)


def call_sites(calls: list[Call]) -> list[Call]:
    """The first call of each operation from each place in the code."""
    first: dict[tuple[str, tuple[str, ...]], Call] = {}
    for call in calls:
        first.setdefault((call.operation, call.site), call)
    return list(first.values())


# -- what a reader could see --------------------------------------------------------------------


class Observer:
    """Looks at what the gate saw land, after every invocation: nothing may be half-visible."""

    def __init__(self, harness: Harness, gate: FaultGate, dynamodb: Any) -> None:
        self.harness = harness
        self.gate = gate
        self.s3 = harness.s3
        self.dynamodb = dynamodb
        self.violations: list[str] = []
        self.ahead_of_page: set[str] = set()
        self.looks = 0
        self._seen = 0
        self._paths: dict[str, str] = {}  # article path -> id, from the records that landed
        self._versions: set[tuple[str, str]] = set()
        self._pages: set[str] = set()
        self._recorded: set[str] = set()

    def look(self, after: str) -> None:
        self.looks += 1
        landed, self._seen = self.gate.landed[self._seen :], len(self.gate.landed)
        for write in landed:
            if write.operation in ("dynamodb.TransactWriteItems", "dynamodb.PutItem"):
                for item in _put_items(write):
                    self._check_item(item, after)
        outputs = {
            write.params["Key"]: _bytes(write.params["Body"])
            for write in landed
            if write.operation == "s3.PutObject" and write.params["Bucket"] == self.harness.name("SiteBucket")
        }
        for key, body in outputs.items():
            self._check_output(key, body, after)

    def _check_item(self, item: Mapping[str, Any], after: str) -> None:
        entity = item.get("entity", {}).get("S")
        if entity == "article":
            self._paths[item["path"]["S"]] = item["id"]["S"]
            self._check_version(
                item["content_key"]["S"], item["content_version"]["S"], item["pk"]["S"], after
            )
        elif entity == "revision":
            key = f"articles/{item['article_id']['S']}.json"
            self._check_version(key, item["version_id"]["S"], f"{item['pk']['S']} {item['sk']['S']}", after)

    def _check_version(self, key: str, version: str, holder: str, after: str) -> None:
        if (key, version) in self._versions:
            return
        try:
            self.s3.head_object(Bucket=self.harness.name("ContentBucket"), Key=key, VersionId=version)
        except ClientError:
            self.violations.append(f"after {after}: {holder} points at {key} version {version}, not stored")
            return
        self._versions.add((key, version))

    def _check_output(self, key: str, body: bytes, after: str) -> None:
        own = ARTICLE_PAGE_KEY.match(key)
        if own:
            self._pages.add(f"/{own.group(1)}/")
        for match in set(ARTICLE_PATH.findall(body.decode("utf-8", "replace"))):
            path = f"/{match}/"
            article_id = self._paths.get(path)
            if article_id is None or not self._has_record(article_id):
                self.violations.append(f"after {after}: {key} shows {path}, which has no article record")
            elif not own and path not in self._pages and not self._page_exists(path):
                self.ahead_of_page.add(f"{key} -> {path}")

    def _has_record(self, article_id: str) -> bool:
        """Records are never deleted: once seen in the table, an article's record stays."""
        if article_id not in self._recorded:
            item = self.dynamodb.get_item(
                TableName=self.harness.name("ArticlesTable"),
                Key={"pk": {"S": f"ARTICLE#{article_id}"}, "sk": {"S": "ARTICLE"}},
                ConsistentRead=True,
            ).get("Item")
            if item is None:
                return False
            self._recorded.add(article_id)
        return True

    def _page_exists(self, path: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.harness.name("SiteBucket"), Key=page_key(path))
        except ClientError:
            return False
        self._pages.add(path)
        return True


def _bytes(body: Any) -> bytes:
    # botocore hands S3 a file-like body: the caller's bytes, wrapped.
    return bytes(body.getvalue()) if hasattr(body, "getvalue") else bytes(body)


def _put_items(write: Landed) -> list[Mapping[str, Any]]:
    if write.operation == "dynamodb.PutItem":
        return [write.params["Item"]]
    return [entry["Put"]["Item"] for entry in write.params["TransactItems"] if "Put" in entry]


# -- AWS's side of it: retries, redeliveries, redrives --------------------------------------------


class Drivers:
    """Invoke the handlers as AWS would, and look after every invocation."""

    def __init__(
        self, harness: Harness, gate: FaultGate, observer: Observer, clock: Clock, tmp: Path
    ) -> None:
        self.harness = harness
        self.gate = gate
        self.observer = observer
        self.clock = clock
        self.dead_letters = tmp / "publisher-dlq.jsonl"
        template = load_template()
        table = observer.dynamodb.describe_table(TableName=harness.name("ArticlesTable"))
        self.poller = StreamPoller(
            harness.streams,
            table["Table"]["LatestStreamArn"],
            self._publisher,
            "PublisherFunction",
            dead_letter_path=self.dead_letters,
            filters=stream_filter_patterns(template, "PublisherFunction"),
        )
        self.sqs = harness.sqs
        self.queue = harness.notify_queue_url
        self.dead_queue = harness.name("NotifyDeadLetterQueue")
        self.redriven = 0
        self.moved = 0

    def _publisher(self, event: dict[str, Any], context: Any) -> Any:
        try:
            return self.harness.publisher.lambda_handler(event, context)
        finally:
            self.observer.look("a publisher invocation")

    def api(self, method: str, path: str, body: dict[str, Any] | None = None, **options: Any) -> ApiResponse:
        """A client that repeats the same request while it gets a 5xx."""
        self.statuses: list[int] = []
        for _ in range(MAX_CLIENT_RETRIES):
            response = self.harness.call(method, path, body, **options)
            self.statuses.append(response.status)
            self.observer.look(f"{method} {path} ({response.status})")
            if response.status < 500:
                return response
        return response

    def publish(self, *, redrive: bool = True) -> None:
        """The stream mapping: retries, then parks the batch; the redrive replays parked batches."""
        while self.poller.poll_once():
            pass
        if redrive:
            self.redrive_publisher()

    def redrive_publisher(self) -> None:
        if not self.dead_letters.exists():
            return
        records = [json.loads(line) for line in self.dead_letters.read_text(encoding="utf-8").splitlines()]
        self.dead_letters.unlink()
        for record in records:  # docs/deploy.md: fetch each parked batch again and invoke the publisher
            result = invoke(self._publisher, "PublisherFunction", {"Records": [record]})
            assert not result["batchItemFailures"], "the redriven batch failed again"
            self.redriven += 1

    def tick(self) -> list[str]:
        """Scheduler ticks, a minute apart, until one runs clean with nothing left to do."""
        done: list[str] = []
        for _ in range(MAX_TICKS):
            try:
                result = invoke(
                    scheduler.lambda_handler, "SchedulerFunction", scheduled_event(self.clock.now)
                )
            except Exception:  # a failed run; the next tick does its work
                result = None
            finally:
                self.observer.look("a scheduler run")
            self.clock.advance(minutes=1)
            if result is not None:
                done += result["published"] + result["embargo_ended"]
                if not result["published"] and not result["embargo_ended"]:
                    return done
        raise AssertionError(f"the scheduler still failed after {MAX_TICKS} ticks")

    def notify(self) -> None:
        """The SQS mapping: failed messages come back, dead-letter after maxReceiveCount receives,
        and the dead-letter queue is moved back until every message went through."""
        for _ in range(MAX_QUEUE_ROUNDS):
            if not self._drain_once() and not self._move_dead_letters():
                return
        raise AssertionError("the notify queue never emptied")

    def _drain_once(self) -> bool:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return False
        arn = f"arn:aws:sqs:us-east-1:123456789012:{self.queue.rsplit('/', 1)[1]}"
        records = [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
            for message in messages
        ]
        try:
            result = invoke(self.harness.notifier.lambda_handler, "NotifierFunction", {"Records": records})
            failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
        except Exception:  # the whole batch failed
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] in failed:
                # Time passes: the message's visibility timeout (or its backoff) runs out.
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
        return True

    def _move_dead_letters(self) -> bool:
        """What `aws sqs start-message-move-task --source-arn <dlq>` does (moto has no move task)."""
        moved = False
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.dead_queue, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return moved
            for message in messages:
                self.sqs.send_message(QueueUrl=self.queue, MessageBody=message["Body"])
                self.sqs.delete_message(QueueUrl=self.dead_queue, ReceiptHandle=message["ReceiptHandle"])
                self.moved += 1
                moved = True


# -- nothing lost ---------------------------------------------------------------------------------


class Ledger:
    """What an accepted article must have: checked against S3, DynamoDB and the site bucket."""

    def __init__(self, harness: Harness, dynamodb: Any) -> None:
        self.harness = harness
        self.s3 = harness.s3
        self.dynamodb = dynamodb

    def lost(self, article_ids: list[str]) -> dict[str, list[str]]:
        """Per article id, what is missing (empty when nothing is)."""
        bodies: dict[str, str] = {}
        newest: dict[str, set[str]] = {}
        return {
            article_id: missing
            for article_id in article_ids
            if (missing := self._missing(article_id, bodies, newest))
        }

    def _missing(self, article_id: str, bodies: dict[str, str], newest: dict[str, set[str]]) -> list[str]:
        table = self.harness.name("ArticlesTable")
        item = self.dynamodb.get_item(
            TableName=table,
            Key={"pk": {"S": f"ARTICLE#{article_id}"}, "sk": {"S": "ARTICLE"}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return ["its record"]
        record = dal_aws.item_to_record(dal_aws._deserialize(item))
        missing: list[str] = []
        try:
            self.s3.head_object(
                Bucket=self.harness.name("ContentBucket"),
                Key=record.content_key,
                VersionId=record.content_version,
            )
        except ClientError:
            missing.append("its canonical version")
        listed = self.dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :list)",
            ExpressionAttributeValues={":pk": {"S": f"ARTICLE#{article_id}"}, ":list": {"S": "LIST#"}},
            ConsistentRead=True,
        )["Items"]
        partitions = {entry["lpk"]["S"] for entry in listed}
        missing += [
            f"listing item {listing}"
            for listing in listing_ids(record)
            if f"{listing}#{record.status}" not in partitions
        ]
        if record.status != "published":
            return [*missing, f"publication (it is {record.status})"]
        url = SITE_URL + record.path
        page = self._body(page_key(record.path), bodies)
        if html.escape(record.title, quote=False) not in page:
            missing.append("its page")
        for listing in listings_of(record):
            if record.id not in self._newest(listing.id, newest):
                continue  # older than the feed's window
            for name in ("rss.xml", "atom.xml", "feed.json"):
                feed = (
                    f"feeds/{name}"
                    if listing.kind == "home"
                    else f"feeds/{listing.kind}/{listing.slug}/{name}"
                )
                if url not in self._body(feed, bodies):
                    missing.append(feed)
        month = record.published_at.astimezone(Site.from_settings(get_settings()).zone)
        if url not in self._body(page_key(sitemap_month_path(month.year, month.month)), bodies):
            missing.append("its month's sitemap")
        if record.sequence and url not in self._body(page_key(archive_path(record.sequence)), bodies):
            missing.append("its archive page")  # one article to a page here: every one is complete
        return missing

    def _body(self, key: str, bodies: dict[str, str]) -> str:
        if key not in bodies:
            try:
                stored = self.s3.get_object(Bucket=self.harness.name("SiteBucket"), Key=key)
                bodies[key] = stored["Body"].read().decode()
            except ClientError:
                bodies[key] = ""
        return bodies[key]

    def _newest(self, listing_id: str, newest: dict[str, set[str]]) -> set[str]:
        if listing_id not in newest:
            items = self.dynamodb.query(
                TableName=self.harness.name("ArticlesTable"),
                IndexName="listings",
                KeyConditionExpression="lpk = :lpk",
                ExpressionAttributeValues={":lpk": {"S": f"{listing_id}#published"}},
                ScanIndexForward=False,
                Limit=FEED_SIZE,
            )["Items"]
            newest[listing_id] = {entry["id"]["S"] for entry in items}
        return newest[listing_id]


# -- the world each path runs in ------------------------------------------------------------------


@dataclass
class Partners:
    """Webhook endpoints that fail each message's first attempt, so the backoff path runs too."""

    urls: tuple[str, ...] = ("https://doi-tac-1.example/hooks", "https://doi-tac-2.example/hooks")
    received: Counter[tuple[str, str]] = field(default_factory=Counter)
    delivered: set[tuple[str, str]] = field(default_factory=set)
    subscribed: bool = False

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        message = (url, headers.get("webhook-id", ""))
        self.received[message] += 1
        if self.received[message] == 1:
            return 503
        self.delivered.add(message)
        return 200


@dataclass
class World:
    harness: Harness
    clock: Clock
    gate: FaultGate
    observer: Observer
    drive: Drivers
    ledger: Ledger
    article: dict[str, Any]
    records: AwsStorage  # beside the gate: for setting runs up
    partners: Partners = field(default_factory=Partners)
    runs: int = 0
    _numbers: Iterator[int] = field(default_factory=lambda: iter(range(1, 1_000_000)))

    def title(self) -> str:
        return f"Ô Môn: tin số {next(self._numbers)}"

    def submit(self, **fields: Any) -> str:
        # Each article newer than the last: the newest articles of a listing are then always the
        # latest submitted (equal times would order them by their random ids).
        self.clock.advance(seconds=1)
        response = self.drive.api("POST", "/articles", {**self.article, "title": self.title(), **fields})
        assert response.status == 201, response.body
        return str(response.json()["id"])


def apply_moto_patches(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local stack's moto patches (`presswire serve` runs on them; test_local_moto_patches.py
    holds most to stock moto's answers): the same answers at a fraction of the cost per call."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    # Stock moto copies the whole table for every item of a transaction.
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_patches.check_then_write)
    monkeypatch.setattr(ActionResult, "execute_result", moto_patches.dump_wire_json)
    monkeypatch.setattr(Table, "all_items", moto_patches.all_items_in_key_order)
    monkeypatch.setattr(Table, "sorted_items", moto_patches.sorted_items_by_value)
    monkeypatch.setattr(Table, "put_item", moto_patches.forgetting_key_order(Table.put_item))
    monkeypatch.setattr(Table, "delete_item", moto_patches.forgetting_key_order(Table.delete_item))


@pytest.fixture
def world(harness: Harness, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    apply_moto_patches(monkeypatch)
    # Time passes without sleeping: botocore's backoff, the stream mapping's, and a publisher's
    # wait for the site lease (a minute of the test's clock per wait).
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0)
    monkeypatch.setattr(stream_poller, "time", types.SimpleNamespace(sleep=lambda seconds: None))
    lease_defaults = site_lease.site_lease.__wrapped__.__kwdefaults__  # type: ignore[attr-defined]
    monkeypatch.setitem(lease_defaults, "sleep", lambda seconds: clock.advance(minutes=1))
    # Every run starts with botocore's whole retry budget: the quota is a per-container circuit
    # breaker that would otherwise carry one run's failures into the next.
    monkeypatch.setattr("botocore.retries.quota.RetryQuota.acquire", lambda self, capacity: True)
    # One article to an archive page: every publish completes one, so the archive's calls are on
    # every publish path. Feeds of three: the same calls as fifty, at a fraction of the rendering.
    monkeypatch.setattr(publish_articles, "ARCHIVE_PAGE_SIZE", 1)
    monkeypatch.setenv("FEED_SIZE", str(FEED_SIZE))
    get_settings.cache_clear()
    partners = Partners()
    monkeypatch.setattr(notify_logic, "send_http", partners.send)
    gate = FaultGate()
    dynamodb = boto3.client("dynamodb")  # the test's own view, beside the gate
    clients = get_storage().s3, get_storage().dynamodb, get_storage().sqs
    assert clients[1].meta.config.retries["total_max_attempts"] == CLIENT_ATTEMPTS
    gate.attach(clients)
    for function in (api, publisher, scheduler, notifier, reconciler):
        # Each function its own storage layer (its caches), as each has its own container.
        storage = AwsStorage(
            table_name=harness.name("ArticlesTable"),
            content_bucket=harness.name("ContentBucket"),
            site_bucket=harness.name("SiteBucket"),
            notify_queue_url=harness.notify_queue_url,
            s3_client=clients[0],
            dynamodb_client=clients[1],
            sqs_client=clients[2],
        )
        monkeypatch.setattr(function, "get_storage", lambda storage=storage: storage)
    observer = Observer(harness, gate, dynamodb)
    drive = Drivers(harness, gate, observer, clock, tmp_path)
    drive.poller.poll_once()  # what the stream holds so far: the test's key
    image = (SEED_DIR / "media" / "quang-canh-lop-tap-huan.jpg").read_bytes()
    media = harness.call(
        "POST", "/media", image, headers={"content-type": "image/jpeg"}, query="filename=quang-canh.jpg"
    )
    assert media.status == 201, media.body
    article = {
        "summary": "Lớp tập huấn cho cán bộ Mặt trận cơ sở.",
        "body": f'<p>Sáng nay tại Ô Môn.</p><p><img src="{media.json()["url"]}" alt="Quang cảnh"></p>',
        "author": "Na Ra",
        "section": "Hoạt động Mặt trận",
        "language": "vi",
    }
    records = AwsStorage(
        table_name=harness.name("ArticlesTable"),
        content_bucket=harness.name("ContentBucket"),
        site_bucket=harness.name("SiteBucket"),
        dynamodb_client=dynamodb,
    )
    world = World(
        harness, clock, gate, observer, drive, Ledger(harness, dynamodb), article, records, partners
    )
    yield world
    FAULT_TALLY["faults injected (failed attempts)"] += sum(gate.injected.values())
    for effect, count in gate.injected.items():
        FAULT_TALLY[f"  by {effect}"] += count
    FAULT_TALLY["fault runs"] += world.runs
    FAULT_TALLY["publisher batches parked and redriven"] += drive.redriven
    FAULT_TALLY["notifications dead-lettered and moved back"] += drive.moved
    FAULT_TALLY["observations"] += observer.looks
    archived = sum(1 for entry in observer.ahead_of_page if entry.startswith("feeds/archive/"))
    FAULT_TALLY["entries seen before their page, in archive pages"] += archived
    FAULT_TALLY["entries seen before their page, anywhere else"] += len(observer.ahead_of_page) - archived


# -- the paths --------------------------------------------------------------------------------------


class FaultPath:
    """One path: set up its runs (unfaulted), run it under a fault, say what it accepted once
    AWS's retries have run."""

    name = ""
    every_kind_at_every_site = False  # else the sites of an operation take the kinds in turn

    def setup(self, world: World, runs: int) -> list[Any]:
        return [None] * runs

    def before(self, world: World, item: Any) -> Any:
        return item

    def run(self, world: World, item: Any) -> None:
        raise NotImplementedError

    def accepted(self, world: World, item: Any) -> list[str]:
        raise NotImplementedError

    def finish(self, world: World) -> None:
        """Unfaulted, after every run: what the path's output still needs to reach the site."""


class Submit(FaultPath):
    """POST /articles with an uploaded image: key, media, slug, sequence, canonical, commit."""

    name = "submit"
    every_kind_at_every_site = True

    def before(self, world: World, item: Any) -> str:
        return world.title()

    def run(self, world: World, title: str) -> None:
        response = world.drive.api("POST", "/articles", {**world.article, "title": title})
        assert response.status == 201, f"POST /articles answered {response.status}: {response.body!r}"
        # A storage fault is "retry later", never an internal error or a refusal.
        assert set(world.drive.statuses) <= {503, 201}, world.drive.statuses

    def accepted(self, world: World, title: str) -> list[str]:
        items = world.ledger.dynamodb.query(
            TableName=world.harness.name("ArticlesTable"),
            IndexName="listings",
            KeyConditionExpression="lpk = :lpk",
            FilterExpression="title = :title",
            ExpressionAttributeValues={":lpk": {"S": "home#published"}, ":title": {"S": title}},
        )["Items"]
        assert len(items) == 1, f"{title!r} was stored {len(items)} times"
        return [items[0]["id"]["S"]]

    def finish(self, world: World) -> None:
        world.drive.publish()


class Publish(FaultPath):
    """The publisher on one article's stream record: page, listings, feeds, archive, sitemaps,
    the site lease, notifications."""

    name = "publish"

    def before(self, world: World, item: Any) -> str:
        return world.submit()

    def run(self, world: World, article_id: str) -> None:
        world.drive.publish()

    def accepted(self, world: World, article_id: str) -> list[str]:
        return [article_id]


SCHEDULE_STEP = timedelta(minutes=30)


class Schedule(FaultPath):
    """A scheduler tick with one scheduled article due and one embargoed notification to release."""

    name = "schedule"
    embargoed: ArticleRecord | None = None

    def setup(self, world: World, runs: int) -> list[Any]:
        if self.embargoed is None:
            # Published now, withheld from partners for a minute: the publisher parks its
            # notification, which every run then finds due (parked again before each run).
            article_id = world.submit(embargo_until=(world.clock.now + timedelta(minutes=1)).isoformat())
            world.drive.publish()
            self.embargoed = world.records.get_record(article_id)
        start = world.clock.now
        return [
            (
                start + SCHEDULE_STEP * number,
                world.submit(published_at=(start + SCHEDULE_STEP * number).isoformat()),
            )
            for number in range(1, runs + 1)
        ]

    def before(self, world: World, item: Any) -> Any:
        due, _ = item
        assert self.embargoed is not None
        world.records.put_pending_notification(self.embargoed.id, self.embargoed.revision, due)
        world.clock.now = max(world.clock.now, due + timedelta(minutes=1))
        return item

    def run(self, world: World, item: Any) -> None:
        world.drive.tick()

    def accepted(self, world: World, item: Any) -> list[str]:
        assert self.embargoed is not None
        released = {body["article_id"] for body in queued_bodies(world) if body.get("kind") == "change"}
        assert self.embargoed.id in released, "the embargoed article's notification was never released"
        return [item[1], self.embargoed.id]

    def finish(self, world: World) -> None:
        world.drive.publish()


class Notify(FaultPath):
    """The notifier on one change: fan-out to two partners, each delivery failing once (backoff)
    and then delivered and recorded."""

    name = "notify"

    def setup(self, world: World, runs: int) -> list[Any]:
        if not world.partners.subscribed:
            admin = world.harness.new_key("admin", "Quản trị")
            for url in world.partners.urls:
                response = world.drive.api("POST", "/partners", {"url": url}, key=admin)
                assert response.status == 201, response.body
            world.partners.subscribed = True
            world.drive.notify()  # the registrations' test events
        ids = [world.submit() for _ in range(runs)]
        world.drive.publish()
        changes = {body["article_id"]: body for body in queued_bodies(world) if body.get("kind") == "change"}
        return [changes[article_id] for article_id in ids]

    def run(self, world: World, change: dict[str, Any]) -> None:
        world.harness.sqs.send_message(
            QueueUrl=world.harness.notify_queue_url, MessageBody=json.dumps(change)
        )
        world.drive.notify()

    def accepted(self, world: World, change: dict[str, Any]) -> list[str]:
        webhook = f"msg_{change['article_id'].replace('-', '')}_{change['revision']}_published"
        for url in world.partners.urls:
            assert (url, webhook) in world.partners.delivered, f"{url} never got {webhook}"
        return [change["article_id"]]


def queued_bodies(world: World) -> list[dict[str, Any]]:
    """Every message of the notify queue (which it empties)."""
    sqs = world.harness.sqs
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(
        QueueUrl=world.harness.notify_queue_url, MaxNumberOfMessages=10
    ).get("Messages"):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(
                QueueUrl=world.harness.notify_queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
    return bodies


PATHS: dict[str, type[FaultPath]] = {path.name: path for path in (Submit, Publish, Schedule, Notify)}


def plan(path: FaultPath, sites: list[Call]) -> list[Fault]:
    """The absorbed kinds on every call at once; then the beyond-retries kinds at each call site:
    all four at each (submit), or one each, taken in turn by the sites of one operation, the
    answer lost after it was applied first (so every operation, every write, gets that one)."""
    faults = [Fault(kind) for kind in ABSORBED]
    in_turn = (BEYOND[3], BEYOND[0], BEYOND[1], BEYOND[2])
    taken: Counter[str] = Counter()
    for site in sites:
        if path.every_kind_at_every_site:
            kinds = list(BEYOND)
        else:
            kinds = [in_turn[taken[site.operation] % len(in_turn)]]
            taken[site.operation] += 1
        faults += [Fault(kind, site.operation, site.ordinal) for kind in kinds]
    return faults


@pytest.mark.parametrize("path_name", list(PATHS))
def test_no_fault_on_any_aws_call_loses_an_accepted_article_or_shows_one_half_done(
    world: World, path_name: str
) -> None:
    path = PATHS[path_name]()
    warm_up, recorded_item = path.setup(world, 2)
    # The first run warms the path (outputs that exist from then on); the second is recorded.
    path.run(world, warm_up := path.before(world, warm_up))
    accepted = path.accepted(world, warm_up)
    item = path.before(world, recorded_item)
    with world.gate.run() as recorded:
        path.run(world, item)
    accepted += path.accepted(world, item)
    sites = call_sites(recorded)
    faults = plan(path, sites)

    for fault, item in zip(faults, path.setup(world, len(faults)), strict=True):
        item = path.before(world, item)
        with world.gate.run(fault) as calls:
            path.run(world, item)
            hits = list(world.gate.hits)
        world.runs += 1
        where = f"{path_name}: {fault.kind.name} at {fault.operation or 'every call'} #{fault.ordinal or '*'}"
        if fault.operation is None:
            assert len(hits) >= len(recorded), f"{where}: {len(hits)} of {len(recorded)} calls faulted"
        else:
            assert hits, f"{where}: never reached in {len(calls)} calls"
        accepted += path.accepted(world, item)
    path.finish(world)

    lost = world.ledger.lost(sorted(set(accepted)))
    FAULT_TALLY[f"{path_name}: calls per run"] += len(recorded)
    FAULT_TALLY[f"{path_name}: call sites"] += len(sites)
    FAULT_TALLY[f"{path_name}: runs"] += len(faults)
    FAULT_TALLY["articles accepted"] += len(set(accepted))
    FAULT_TALLY["articles lost"] += len(lost)
    assert lost == {}
    assert world.observer.violations == []


# -- the fixes the runs above found, one by one -------------------------------------------------

READ_TIMEOUTS = BEYOND[3]


def test_a_submit_whose_commit_landed_but_whose_answers_were_lost_is_answered_201_and_stored_once(
    world: World,
) -> None:
    title = world.title()
    with world.gate.run(Fault(READ_TIMEOUTS, "dynamodb.TransactWriteItems", 1)) as calls:
        response = world.drive.api("POST", "/articles", {**world.article, "title": title})

    assert world.gate.hits, f"the commit was never reached in {len(calls)} calls"
    assert world.drive.statuses == [201]
    assert Submit().accepted(world, title) == [response.json()["id"]]


def test_an_edit_whose_commit_landed_but_whose_answers_were_lost_is_answered_200_not_412(
    world: World,
) -> None:
    article_id = world.submit()
    etag = world.harness.call("GET", f"/articles/{article_id}").headers["ETag"]
    with world.gate.run(Fault(READ_TIMEOUTS, "dynamodb.TransactWriteItems", 1)):
        response = world.drive.api(
            "PATCH", f"/articles/{article_id}", {"title": "Ô Môn: bế giảng"}, headers={"If-Match": etag}
        )

    assert world.gate.hits
    assert world.drive.statuses == [200], response.body
    assert response.json()["revision"] == 2


def test_a_key_creation_whose_put_landed_but_whose_answers_were_lost_is_answered_201_with_a_working_key(
    world: World,
) -> None:
    admin = world.harness.new_key("admin", "Quản trị")
    with world.gate.run(Fault(ABSORBED[3], "dynamodb.PutItem", 1)):
        response = world.drive.api("POST", "/keys", {"role": "reporter", "name": "Phóng viên mới"}, key=admin)

    assert world.gate.hits
    assert world.drive.statuses == [201], response.body
    secret = response.json()["key"]
    assert world.harness.call("GET", "/articles", key=secret).status == 200


# -- outages longer than every retry ------------------------------------------------------------

OUTAGE = 10_000  # calls: longer than any retry


def test_a_publisher_outage_longer_than_the_stream_retries_is_redriven_from_its_dead_letter_queue(
    world: World,
) -> None:
    article_id = world.submit()
    with world.gate.run(Fault(BEYOND[0], "s3.PutObject", 1, calls=OUTAGE)):
        world.drive.publish(redrive=False)
    parked = world.drive.dead_letters.read_text(encoding="utf-8").splitlines()
    assert parked, "the stream mapping never gave up"
    assert world.ledger.lost([article_id]) == {article_id: ["its page", *feeds_and_sitemap(world)]}

    world.drive.redrive_publisher()

    assert world.ledger.lost([article_id]) == {}
    changes = [body for body in queued_bodies(world) if body.get("kind") == "change"]
    assert [change["article_id"] for change in changes] == [article_id]  # partners are told too
    assert world.observer.violations == []


def test_outputs_of_a_batch_parked_past_the_streams_retention_are_restored_by_reconcile(world: World) -> None:
    article_id = world.submit()
    with world.gate.run(Fault(BEYOND[0], "s3.PutObject", 1, calls=OUTAGE)):
        world.drive.publish(redrive=False)
    world.drive.dead_letters.unlink()  # 24 hours on: the stream no longer has the records

    report = invoke(reconciler.lambda_handler, "ReconcilerFunction", {"source": "aws.events"})
    world.observer.look("the reconciler")

    assert world.ledger.lost([article_id]) == {}
    record = world.records.get_record(article_id)
    assert record is not None
    assert page_key(record.path) in report["fixed_keys"]
    assert report["fixed_by_kind"]["article page"] == 1
    assert world.observer.violations == []
    assert invoke(reconciler.lambda_handler, "ReconcilerFunction", {})["fixed"] == 0


def test_a_notifier_outage_dead_letters_the_deliveries_and_moving_them_back_delivers_each(
    world: World,
) -> None:
    path = Notify()
    (change,) = path.setup(world, 1)
    with world.gate.run(Fault(BEYOND[1], "dynamodb.PutItem", 1, calls=OUTAGE)):
        world.harness.sqs.send_message(
            QueueUrl=world.harness.notify_queue_url, MessageBody=json.dumps(change)
        )
        while world.drive._drain_once():
            pass
    dead = world.harness.sqs.get_queue_attributes(
        QueueUrl=world.drive.dead_queue, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert int(dead) == len(world.partners.urls)  # each partner's delivery, after 8 receives

    world.drive.notify()  # the move task, then the queue as usual

    assert path.accepted(world, change) == [change["article_id"]]


def feeds_and_sitemap(world: World) -> list[str]:
    feeds = [
        f"feeds/{name}" if kind == "home" else f"feeds/{kind}/{slug}/{name}"
        for kind, slug in (
            ("home", ""),
            ("section", "hoat-dong-mat-tran"),
            ("author", "na-ra"),
        )
        for name in ("rss.xml", "atom.xml", "feed.json")
    ]
    return [*feeds, "its month's sitemap", "its archive page"]


def _an_article_page_fails_in_a_batch_of_two(world: World) -> None:
    Publish().run(world, world.submit())  # the site's outputs exist from here on
    world.submit()
    world.submit()
    with world.gate.run(Fault(BEYOND[0], "s3.PutObject", 1)):
        world.drive.publish()


def test_no_listing_feed_or_sitemap_shows_an_article_whose_page_failed_in_the_same_batch(
    world: World,
) -> None:
    _an_article_page_fails_in_a_batch_of_two(world)

    assert {
        entry for entry in world.observer.ahead_of_page if not entry.startswith("feeds/archive/")
    } == set()


@pytest.mark.xfail(
    strict=True,
    reason="an archive page is written once, when its last slot is filled, so it cannot leave out an "
    "article whose page is not written yet; the link works once that page's retry (or reconcile) "
    "writes it. Recorded, not fixed.",
)
def test_no_archive_page_shows_an_article_whose_page_failed_in_the_same_batch(world: World) -> None:
    _an_article_page_fails_in_a_batch_of_two(world)

    assert {entry for entry in world.observer.ahead_of_page if entry.startswith("feeds/archive/")} == set()
