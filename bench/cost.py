"""AWS request cost of publishing 10,000 articles a month, from counted calls, at list prices.

Counts come from running the benchmarks, so the figures stay in step with the code:

- per article: `bench/aws_calls.py`'s scenario, run here (2x POST /api/media, the submit and its
  publish, under moto), with two more botocore hooks: DynamoDB capacity units worked out from each
  request's and answer's items (item sizes as DynamoDB counts them; the `listings` GSI's writes,
  ALL projected, added), and the wall time of each handler invocation;
- the notifier, the reconciler and the scheduler: the call counts `bench/memory.py --json` wrote
  for its workloads (100 webhooks; a reconcile of the whole archive; a scheduler run);
- INIT (cold start) durations: a fresh `python -c "import functions.handlers.X"` per handler;
- memory sizes: template.yaml's MemorySize per function (Globals otherwise).

Durations are measured against moto on a shared machine: AWS's own calls are of the same order
(single-digit ms for DynamoDB, tens for S3), so GB-seconds here are an upper-bound estimate.

    .venv/bin/python bench/cost.py [--memory-json /tmp/memory.json] [--articles 10000] [--write-docs]
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aws_calls
from _common import REPO, machine, table, today
from _section import write_own_section

# us-east-1 list prices, as published on 2026-11-27 (AWS pricing pages; DynamoDB on-demand after
# the November 2024 reduction, which halved the $1.25 / $0.25 per million of before).
PRICES = {
    "lambda_gb_s_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "ddb_wru": 0.625 / 1e6,
    "ddb_rru": 0.125 / 1e6,
    "s3_put": 0.005 / 1000,  # PUT, COPY, POST, LIST
    "s3_get": 0.0004 / 1000,  # GET, HEAD and the rest (DELETE is free)
    "sqs_request": 0.40 / 1e6,  # standard queue, per 64 KB chunk
    "cloudfront_invalidation_path": 0.005,  # after the first 1,000 paths a month
}
S3_PUT_CLASS = {"PutObject", "CopyObject", "PostObject", "ListObjects", "ListObjectsV2", "ListObjectVersions"}
S3_FREE = {"DeleteObject", "DeleteObjects"}
GSI_KEY = "lpk"  # the listings index (template.yaml), ProjectionType ALL
SCHEDULER_RUNS = 60 * 24 * 30
# What an AWS call adds to a function's duration on AWS (DynamoDB single-digit ms, S3 tens).
AWS_CALL_SECONDS = 0.010  # rate(1 minute)
RECONCILES = 30  # daily
# Lambda's SQS event source polls with long polling (20 s) from 5 pollers while idle: ReceiveMessage
# calls billed to the account (AWS Lambda developer guide, "Using Lambda with Amazon SQS").
SQS_IDLE_RECEIVES = 5 * 3 * 60 * 24 * 30


# -- DynamoDB item sizes and capacity units ---------------------------------------------------


def value_size(value: dict[str, Any]) -> int:
    kind, content = next(iter(value.items()))
    if kind == "S":
        return len(content.encode("utf-8"))
    if kind == "N":
        digits = content.lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(base64.b64decode(content)) if isinstance(content, str) else len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(item.encode("utf-8")) for item in content)
    if kind == "NS":
        return sum(value_size({"N": item}) for item in content)
    if kind == "BS":
        return sum(value_size({"B": item}) for item in content)
    if kind == "L":
        return 3 + sum(1 + value_size(item) for item in content)
    if kind == "M":
        return 3 + sum(len(name.encode("utf-8")) + 1 + value_size(item) for name, item in content.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(item: dict[str, Any] | None, transactional: bool) -> float:
    """A write of this item: 1 KB units (doubled in a transaction), plus its listings-index entry.
    An update or delete (item unknown here) counts one unit: they touch counters, leases and
    idempotency records, all well under 1 KB."""
    if item is None:
        return 2.0 if transactional else 1.0
    units = max(1, math.ceil(item_size(item) / 1024))
    index = units if GSI_KEY in item else 0
    return units * (2 if transactional else 1) + index


def read_units(items: list[dict[str, Any]], consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(sum(item_size(item) for item in items) / 4096))
    return units * (2 if transactional else 1 if consistent else 0.5)


@dataclass
class CapacityCounter(aws_calls.CallCounter):
    """aws_calls' counter, plus DynamoDB capacity units and invocation times per phase."""

    wru: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    rru: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    seconds: dict[str, list[float]] = field(default_factory=dict)
    _consistent: bool = False

    def before_call(self, event_name: str, **kwargs: Any) -> None:
        super().before_call(event_name, **kwargs)
        _prefix, service, operation = event_name.split(".", 2)
        if self.phase is None or service != "dynamodb":
            return
        body = json.loads((kwargs.get("params") or {}).get("body") or b"{}")
        self._consistent = bool(body.get("ConsistentRead"))
        if operation == "PutItem":
            self.wru[self.phase] += write_units(body["Item"], False)
        elif operation in ("UpdateItem", "DeleteItem"):
            self.wru[self.phase] += write_units(None, False)
        elif operation == "BatchWriteItem":
            for writes in body["RequestItems"].values():
                for write in writes:
                    self.wru[self.phase] += write_units((write.get("PutRequest") or {}).get("Item"), False)
        elif operation == "TransactWriteItems":
            for action in body["TransactItems"]:
                self.wru[self.phase] += write_units((action.get("Put") or {}).get("Item"), True)

    def after_call(self, event_name: str, parsed: dict[str, Any] | None = None, **_: Any) -> None:
        _prefix, service, operation = event_name.split(".", 2)
        if self.phase is None or service != "dynamodb" or parsed is None:
            return
        if operation == "GetItem":
            self.rru[self.phase] += read_units([parsed["Item"]] if "Item" in parsed else [], self._consistent)
        elif operation in ("Query", "Scan"):
            self.rru[self.phase] += read_units(parsed.get("Items", []), self._consistent)
        elif operation == "BatchGetItem":
            for items in parsed.get("Responses", {}).values():
                for item in items:
                    self.rru[self.phase] += read_units([item], self._consistent)
        elif operation == "TransactGetItems":
            for response in parsed.get("Responses", []):
                self.rru[self.phase] += read_units([response.get("Item", {})], True, transactional=True)


def count_article_calls() -> CapacityCounter:
    """bench/aws_calls.py's scenario, with this module's counter and an invocation timer."""
    import boto3

    from infra.local import lambda_runtime

    counters: list[CapacityCounter] = []

    class Counting(CapacityCounter):
        def __init__(self) -> None:
            super().__init__()
            counters.append(self)

    stock_setup = boto3.setup_default_session

    def setup_default_session(**kwargs: Any) -> None:
        stock_setup(**kwargs)
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("after-call", lambda **kw: counters[-1].after_call(**kw))

    stock_invoke = lambda_runtime.invoke

    def timed_invoke(handler: Any, function_name: str, event: dict[str, Any]) -> Any:
        # CPU seconds of this process, which runs the handler and moto (in-process) and nothing
        # else meanwhile: the wall clock on a shared machine would mostly measure the others.
        began = time.process_time()
        try:
            return stock_invoke(handler, function_name, event)
        finally:
            counter = counters[-1] if counters else None
            if counter is not None and counter.phase is not None:
                counter.seconds.setdefault(counter.phase, []).append(time.process_time() - began)

    aws_calls.CallCounter = Counting  # type: ignore[misc, assignment]
    boto3.setup_default_session = setup_default_session  # type: ignore[assignment]
    lambda_runtime.invoke = timed_invoke  # type: ignore[assignment]
    try:
        counter, _notes = aws_calls.run()
    finally:
        boto3.setup_default_session = stock_setup  # type: ignore[assignment]
        lambda_runtime.invoke = stock_invoke  # type: ignore[assignment]
    assert isinstance(counter, CapacityCounter)
    return counter


def init_seconds(handler: str, runs: int = 3) -> float:
    """A cold start's import of the handler module (fresh interpreter), minus a bare one."""

    from import_time import child_environment  # the settings the handlers validate at import

    environment = child_environment()

    def timed(code: str) -> float:
        # CPU seconds, not wall: on a shared machine the wall clock of an import is mostly
        # waiting for a core; on Lambda the import has its share of one to itself.
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=environment, check=True, capture_output=True
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    samples = sorted(timed(f"import functions.handlers.{handler}") - timed("pass") for _ in range(runs))
    return max(0.0, samples[len(samples) // 2])


def memory_mb() -> dict[str, int]:
    from infra.cfn import load_template, resources_of_type

    template = load_template()
    default = int(template["Globals"]["Function"].get("MemorySize", 128))
    functions = resources_of_type(template, "AWS::Serverless::Function")
    return {name: int(properties.get("MemorySize", default)) for name, properties in functions.items()}


# -- pricing ----------------------------------------------------------------------------------


@dataclass
class Line:
    what: str
    requests: dict[str, float] = field(default_factory=dict)  # kind -> count per month
    gb_s: float = 0.0
    note: str = ""

    def dollars(self) -> dict[str, float]:
        price = {
            "lambda": PRICES["lambda_request"],
            "wru": PRICES["ddb_wru"],
            "rru": PRICES["ddb_rru"],
            "s3_put": PRICES["s3_put"],
            "s3_get": PRICES["s3_get"],
            "sqs": PRICES["sqs_request"],
        }
        cost = {kind: count * price[kind] for kind, count in self.requests.items()}
        cost["gb_s"] = self.gb_s * PRICES["lambda_gb_s_arm64"]
        return cost

    def total(self) -> float:
        return sum(self.dollars().values())


def requests_of(calls: Counter[str]) -> dict[str, float]:
    kinds: defaultdict[str, float] = defaultdict(float)
    for operation, count in calls.items():
        service, name = operation.split(".", 1)
        if service == "s3" and name not in S3_FREE:
            kinds["s3_put" if name in S3_PUT_CLASS else "s3_get"] += count
        elif service == "sqs":
            kinds["sqs"] += count
    return dict(kinds)


def billed_seconds(result: dict[str, Any]) -> float:
    """A bench/memory.py workload's Lambda time: its CPU seconds (moto ran in another process)
    plus AWS_CALL_SECONDS per call; the wall clock when the CPU time was not recorded."""
    if "invocation_cpu_seconds" not in result:
        return float(result["invocation_seconds"])
    return float(result["invocation_cpu_seconds"]) + AWS_CALL_SECONDS * sum(result["calls"].values())


def scaled(values: dict[str, float], factor: float) -> dict[str, float]:
    return {key: value * factor for key, value in values.items()}


def build(
    counter: CapacityCounter,
    memory: dict[str, Any] | None,
    inits: dict[str, float],
    sizes: dict[str, int],
    articles: int,
) -> tuple[list[Line], list[Line], list[str]]:
    notes: list[str] = []
    gb = {name: size / 1024 for name, size in sizes.items()}

    def phase(name: str) -> tuple[Counter[str], float, float, float]:
        return (
            counter.calls.get(name, Counter()),
            counter.wru.get(name, 0.0),
            counter.rru.get(name, 0.0),
            sum(counter.seconds.get(name, [])),
        )

    per_article: list[Line] = []
    media_calls, media_wru, media_rru, media_s = phase("media warm")
    submit_calls, submit_wru, submit_rru, submit_s = phase("submit warm")
    api_requests = {**requests_of(media_calls + submit_calls), "wru": media_wru + submit_wru}
    api_requests["rru"] = media_rru + submit_rru
    api_requests["lambda"] = 3
    # One cold start per article (the first of its three API calls): 10,000 a month is one article
    # every 4.3 minutes, about as long as Lambda keeps an idle environment.
    api_seconds = media_s + submit_s + inits["api"]
    per_article.append(
        Line(
            "API: 2 images + submit (3 invocations, 1 cold)",
            api_requests,
            api_seconds * gb["ApiFunction"],
            f"{api_seconds:.2f} s at {sizes['ApiFunction']} MB",
        )
    )
    publish_calls, publish_wru, publish_rru, publish_s = phase("publish cold")
    publish_seconds = publish_s + inits["publisher"]
    per_article.append(
        Line(
            "Publisher: one batch per article, cold",
            {**requests_of(publish_calls), "wru": publish_wru, "rru": publish_rru, "lambda": 1},
            publish_seconds * gb["PublisherFunction"],
            f"{publish_seconds:.2f} s at {sizes['PublisherFunction']} MB; "
            f"{sum(publish_calls.values())} calls (the warm publisher's: "
            f"{sum(counter.calls.get('publish warm', Counter()).values())})",
        )
    )
    fixed: list[Line] = []
    if memory is not None:
        by_handler = {result["handler"]: result for result in memory["results"]}
        notifier = by_handler["notifier"]
        delivered = int(notifier["done"].split(",")[1].split()[0]) or 1
        calls = Counter(notifier["calls"])
        # Per article: its change message fanned out, and one webhook to one partner.
        per_delivery = scaled(requests_of(calls), 1 / delivered)
        per_delivery["sqs"] = per_delivery.get("sqs", 0) + 2  # the mapping's receive and delete
        per_delivery["wru"] = calls.get("dynamodb.PutItem", 0) / delivered  # the delivery record
        reads = sum(count for op, count in calls.items() if op in ("dynamodb.GetItem", "dynamodb.Query"))
        per_delivery["rru"] = reads / delivered * 0.5
        per_delivery["lambda"] = notifier["invocations"] / delivered
        seconds = billed_seconds(notifier) / delivered
        per_article.append(
            Line(
                "Notifier: the change, one partner's webhook",
                per_delivery,
                seconds * gb["NotifierFunction"],
                f"{seconds:.2f} s at {sizes['NotifierFunction']} MB; from bench/memory.py "
                f"({notifier['invocations']} invocations, {delivered} webhooks)",
            )
        )
        reconciler = by_handler["reconciler"]
        archive = int(reconciler["done"].split("articles ")[1].split(",")[0])
        # The measured run wrote the outputs it found missing (`fixed`); a daily run over a site
        # the publisher keeps whole writes next to nothing: its PutObjects are left out.
        checked_calls = Counter({op: n for op, n in reconciler["calls"].items() if op != "s3.PutObject"})
        per_archived = scaled(requests_of(checked_calls), 1 / archive)
        gets = reconciler["calls"].get("dynamodb.GetItem", 0) / archive
        # Each archived article's record (~1 KB) comes in a Query page of 100, eventually
        # consistent: a quarter of a 4 KB unit, halved; its GetItems at 0.5 each.
        per_archived["rru"] = 1024 / 4096 * 0.5 + gets * 0.5
        per_archived["wru"] = 0
        seconds_per_archived = billed_seconds(reconciler) / archive
        for size in (articles, articles * 12):
            fixed.append(
                Line(
                    f"Reconciler: 30 daily runs over {size:,} archived articles",
                    scaled({**per_archived, "lambda": 1 / size}, size * RECONCILES),
                    seconds_per_archived * size * RECONCILES * gb["ReconcilerFunction"],
                    f"{seconds_per_archived * size:.0f} s a run here (Timeout 900 s); "
                    f"{sum(reconciler['calls'].values()) / archive:.1f} calls per archived article",
                )
            )
        notes.append(
            f"Notifier and reconciler figures from bench/memory.py, measured {memory['measured']}. "
            f"Its reconcile of {archive} articles took {billed_seconds(reconciler) / archive:.2f} s an "
            f"article ({AWS_CALL_SECONDS * 1000:.0f} ms per AWS call added to its CPU time): a run "
            f"fits about {900 / (billed_seconds(reconciler) / archive):,.0f} articles into the 900 s "
            "Timeout, so over a larger archive it is cut off and, having no resume point, starts over "
            "the next day (noted, not changed here)."
        )
    else:
        notes.append(
            "Notifier and reconciler: not priced (run bench/memory.py --json PATH, pass --memory-json)."
        )
    fixed.insert(
        0,
        Line(
            "Scheduler: rate(1 minute), nothing due (2 Queries a run)",
            {"lambda": SCHEDULER_RUNS, "rru": SCHEDULER_RUNS * 2 * 0.5},
            SCHEDULER_RUNS * 0.1 * gb["SchedulerFunction"],
            f"100 ms a run at {sizes['SchedulerFunction']} MB (assumed; it is kept warm by its schedule)",
        ),
    )
    fixed.insert(
        1,
        Line(
            "SQS: Lambda's idle long polls of NotifyQueue",
            {"sqs": SQS_IDLE_RECEIVES},
            0.0,
            "5 pollers x 3 ReceiveMessage a minute",
        ),
    )
    return per_article, fixed, notes


def render(
    per_article: list[Line], fixed: list[Line], notes: list[str], articles: int, inits: dict[str, float]
) -> str:
    kinds = ("lambda", "gb_s", "wru", "rru", "s3_put", "s3_get", "sqs")
    headers = [
        "item",
        "Lambda req",
        "GB-s",
        "DDB WRU",
        "DDB RRU",
        "S3 PUT/LIST",
        "S3 GET/HEAD",
        "SQS",
        "$ / month",
        "basis",
    ]

    def row(line: Line, factor: float) -> list[object]:
        cells: list[object] = [line.what]
        for kind in kinds:
            value = line.gb_s * factor if kind == "gb_s" else line.requests.get(kind, 0) * factor
            cells.append(f"{value:,.0f}" if value >= 100 else f"{value:,.1f}" if value else "")
        cells.append(f"{line.total() * factor:.4f}")
        cells.append(line.note)
        return cells

    rows = [row(line, articles) for line in per_article]
    per_article_total = sum(line.total() for line in per_article)
    rows.append(
        [
            f"**{articles:,} articles**",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            f"**{per_article_total * articles:.2f}**",
            "",
        ]
    )
    fixed_rows = [row(line, 1) for line in fixed]
    first_year = [
        line for line in fixed if "archived" not in line.what or f"{articles:,} archived" in line.what
    ]
    later = [
        line for line in fixed if "archived" not in line.what or f"{articles * 12:,} archived" in line.what
    ]
    month_first = per_article_total * articles + sum(line.total() for line in first_year)
    month_later = per_article_total * articles + sum(line.total() for line in later)
    lines = [
        "## AWS request cost of 10,000 articles a month",
        "",
        f"Computed {today()} on {machine()} by `.venv/bin/python bench/cost.py "
        "--memory-json PATH [--write-docs]` (PATH from `bench/memory.py --json PATH`).",
        "us-east-1 list prices, as published on 2026-11-27: Lambda arm64 $0.0000133334 per GB-s and",
        "$0.20 per million requests (INIT billed since 1 August 2025); DynamoDB on-demand $0.625 per",
        "million write and $0.125 per million read request units (halved in November 2024 from $1.25",
        "and $0.25); S3 Standard $0.005 per 1,000 PUT/COPY/POST/LIST and $0.0004 per 1,000 GET/HEAD;",
        "SQS standard $0.40 per million requests; DynamoDB Streams reads by Lambda triggers are free;",
        "CloudFront invalidations $0.005 a path after 1,000 free a month. Free tiers (Lambda's 400,000",
        "GB-s and 1M requests, SQS's 1M requests) are left out: with them most lines below are $0.",
        "Storage, CloudWatch Logs, X-Ray, data transfer and CloudFront requests are not included.",
        "",
        "Per article, counted by running `bench/aws_calls.py`'s scenario (its warm API columns and",
        "its cold publish: 10,000 a month is one article every 4.3 minutes, so assume a cold",
        "publisher each time), with DynamoDB capacity units from the items each call wrote or read",
        "(a transaction's writes count double; every item in the `listings` index, ALL projected, is",
        "written there too). GB-s: handler CPU time (moto's, in-process, included: an upper bound",
        "for the calls' share) plus one INIT per function per article (CPU time of a fresh-process",
        "import: API "
        f"{inits['api']:.2f} s, publisher {inits['publisher']:.2f} s), times template.yaml's MemorySize.",
        "",
        table(headers, rows, align="lrrrrrrrrl"),
        "",
        "Per month, whatever the number of articles:",
        "",
        table(headers, fixed_rows, align="lrrrrrrrrl"),
        "",
        f"- Per article: **${per_article_total:.6f}** (${per_article_total * 1000:.3f} per 1,000 articles).",
        f"- Per month: **${month_first:.2f}** in the first month ({articles:,} archived articles), "
        f"**${month_later:.2f}** a year on ({articles * 12:,}: the daily reconcile reads the whole archive).",
        "- CloudFront invalidations: none. The publisher never invalidates; pages and feeds carry",
        "  `max-age=60` (archive pages and media `immutable`), so CloudFront refetches within a minute: $0.",
        *(f"- {note}" for note in notes),
        "",
        "What keeps it low, in template.yaml:",
        "",
        "- `Architectures: [arm64]` (Globals): Graviton's GB-s costs 20% less than x86_64's.",
        "- MemorySize per function from `bench/memory.py` (see its section), not one size for all.",
        "- Unchanged outputs are not rewritten: each output is compared (HeadObject, $0.0004 per",
        "  1,000) and PUT ($0.005 per 1,000) only when its bytes changed; a warm publisher skips the",
        "  HEAD of what it wrote itself. A publish touches only the listings the article is in.",
        "- The stream's event filter (`entity = article`) and BatchSize 100 with a 1 s batching",
        "  window: the listing, revision and key items never invoke the publisher, and a burst",
        "  publishes as one batch (listings once per batch).",
        "- DynamoDB on-demand (`PAY_PER_REQUEST`): no idle capacity; Streams reads by Lambda are free.",
        "- Cache-Control instead of invalidations (above); media go straight to S3 by presigned URL.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--memory-json", type=Path, help="the file `bench/memory.py --json` wrote")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--write-docs", action="store_true", help="refresh docs/benchmarks.md")
    args = parser.parse_args(argv)
    import os

    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    memory = json.loads(args.memory_json.read_text(encoding="utf-8")) if args.memory_json else None
    inits = {"api": init_seconds("api"), "publisher": init_seconds("publisher")}
    counter = count_article_calls()
    per_article, fixed, notes = build(counter, memory, inits, memory_mb(), args.articles)
    section = render(per_article, fixed, notes, args.articles, inits)
    print(section)
    if args.write_docs:
        print(f"\nwrote {write_own_section('cost', section)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
