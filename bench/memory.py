"""Peak memory (RSS) of each Lambda handler on a representative workload, each in its own process.

moto runs in this (the parent) process: `infra.local.aws.LocalAws`, the local stack's own moto
server on 127.0.0.1, provisioned from template.yaml with the local stack's moto patches. Each
handler runs in a fresh child process that talks to it over HTTP (AWS_ENDPOINT_URL), as a Lambda
function talks to AWS: the child's peak RSS (VmHWM in /proc/self/status) is the
handler's alone (interpreter, imports, boto3 clients, its working set) with none of moto's
tables and objects in it, which is what Lambda's "Max Memory Used" reports. Each child also
reports the RSS of the bare interpreter (before any import) and after importing its handler.

Workloads (inputs prepared by the parent, so their cost is not the child's):

- archive: 1,000 published articles (`--articles`), the seed article's Vietnamese text without its
  images, over 8 sections, 12 authors and 30 tags, submitted through `submit_article`; one partner
  subscribed to every event with a webhook on a local receiver (in the parent).
- api: 200 POST /api/articles (editor key, with Idempotency-Key) and 200 reads (GET of an
  article, 20-article list pages), through `infra.local.lambda_runtime.invoke` with API Gateway
  HTTP API (payload 2.0) events.
- publisher: the 200 article records those submits put on the table's stream (filtered as the
  event source mapping filters them), in 2 batches of 100, to a site bucket that is still empty
  (so every listing, feed, archive page and sitemap is written).
- notifier: what those publishes queued, polled as Lambda's SQS mapping does (batches of 10)
  until 100 webhooks reached the receiver.
- scheduler: one run that finds 100 scheduled articles due.
- reconciler: one run over the whole archive (1,300 articles by then) against that site bucket.

    .venv/bin/python bench/memory.py [--articles 1000] [--write-docs]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, machine, table, today
from _section import write_own_section

SEED = REPO / "examples" / "seed" / "seed-article.json"
SITE = REPO / "examples" / "seed" / "seed-site.json"
_FIGURE = re.compile(r"<figure\b.*?</figure>\s*", re.DOTALL | re.IGNORECASE)
HANDLERS = ("api", "publisher", "notifier", "scheduler", "reconciler")
FUNCTION_NAMES = {
    "api": "ApiFunction",
    "publisher": "PublisherFunction",
    "notifier": "NotifierFunction",
    "scheduler": "SchedulerFunction",
    "reconciler": "ReconcilerFunction",
}
SECTIONS = (
    "Thời sự",
    "Hoạt động Mặt trận",
    "Kinh tế",
    "Văn hóa",
    "Xã hội",
    "Đô thị",
    "Nông nghiệp",
    "Pháp luật",
)
AUTHORS = tuple(
    f"Phóng viên {name}"
    for name in ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Khánh", "Linh", "Minh", "Nga", "Phúc", "Quân")
)
TAGS = tuple(
    f"{topic} {place}"
    for topic in ("Mặt trận", "Đô thị", "Nông nghiệp", "Đầu tư", "Lễ hội", "Giao thông")
    for place in ("Ô Môn", "Cần Thơ", "Thốt Nốt", "Cái Răng", "Bình Thủy")
)
API_SUBMITS = 200
API_READS = 200
PUBLISH_BATCH = 100
DELIVERIES = 100
SCHEDULED = 100


def article_fields(number: int) -> dict[str, Any]:
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    return {
        "title": f"{seed['title']} – bài {number}",
        "summary": seed["summary"],
        "body": _FIGURE.sub("", seed["body"]),
        "author": AUTHORS[number % len(AUTHORS)],
        "section": SECTIONS[number % len(SECTIONS)],
        "tags": [TAGS[(number * 3 + offset) % len(TAGS)] for offset in range(3)],
        "language": "vi",
    }


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_kb() -> int:
    """This process's peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries that across
    exec from the parent, here the process that holds moto and the whole archive."""
    return _status_kb("VmHWM")


# -- the child: one handler, one workload ------------------------------------------------------


def child(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    bare = peak_kb()
    import importlib
    from collections import Counter

    import boto3

    from infra.local import lambda_runtime

    # The handlers' clients come from boto3's default session: count their calls during the
    # workload (bench/cost.py prices them), and time each invocation.
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    calls: Counter[str] = Counter()
    counting = [False]

    def count(event_name: str, **_: Any) -> None:
        if counting[0]:
            calls[event_name.split(".", 1)[1]] += 1

    boto3.DEFAULT_SESSION.events.register("before-call", count)
    durations: list[float] = []
    cpu: list[float] = []

    def invoke(handler: Any, function_name: str, event: dict[str, Any]) -> Any:
        began, began_cpu = time.perf_counter(), time.process_time()
        try:
            return lambda_runtime.invoke(handler, function_name, event)
        finally:
            durations.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)

    module = importlib.import_module(f"functions.handlers.{name}")
    imported_peak = peak_kb()
    function = FUNCTION_NAMES[name]
    started = time.perf_counter()
    counting[0] = True
    done = ""
    if name == "api":
        from infra.local.gateway import http_api_event

        def call(
            method: str, path: str, query: str = "", body: bytes = b"", extra: dict[str, str] | None = None
        ) -> dict[str, Any]:
            headers = {"authorization": f"Bearer {inputs['key']}", "host": "bench.local", **(extra or {})}
            if body:
                headers["content-type"] = "application/json; charset=utf-8"
            return dict(
                invoke(
                    module.lambda_handler,
                    function,
                    http_api_event(method, path, query, headers, body, "127.0.0.1"),
                )
            )

        ids: list[str] = []
        for index in range(API_SUBMITS):
            payload = json.dumps(article_fields(10_000 + index), ensure_ascii=False).encode("utf-8")
            answer = call("POST", "/api/articles", body=payload, extra={"idempotency-key": str(uuid.uuid4())})
            assert answer["statusCode"] == 201, answer
            ids.append(json.loads(answer["body"])["id"])
        for index in range(API_READS):
            if index % 2:
                answer = call("GET", f"/api/articles/{ids[index % len(ids)]}")
            else:
                answer = call("GET", "/api/articles", "limit=20")
            assert answer["statusCode"] == 200, answer
        done = f"{API_SUBMITS} submits, {API_READS} reads"
    elif name == "publisher":
        records = json.loads(Path(inputs["records"]).read_text(encoding="utf-8"))
        batches = [records[start : start + PUBLISH_BATCH] for start in range(0, len(records), PUBLISH_BATCH)]
        for batch in batches:
            answer = invoke(module.lambda_handler, function, {"Records": batch}) or {}
            assert not answer.get("batchItemFailures"), answer
        done = f"{len(batches)} batches, {len(records)} article records"
    elif name == "notifier":
        from infra.local.queue_poller import QueuePoller

        # The event source mapping's own calls (ReceiveMessage, DeleteMessageBatch) are Lambda's
        # pollers', not the function's: counted apart, with a client of their own session.
        mapping = boto3.session.Session().client("sqs")
        poller = QueuePoller(mapping, inputs["queue_url"], module.lambda_handler, function)
        import infra.local.queue_poller as queue_poller

        queue_poller.invoke = invoke  # type: ignore[assignment]
        received = Path(inputs["received"])
        messages = 0
        while int(received.read_text() or 0) < DELIVERIES:
            got = poller.poll_once()
            messages += got
            if got == 0:
                time.sleep(0.2)
        done = f"{messages} queue messages, {received.read_text()} webhooks delivered"
    elif name == "scheduler":
        answer = invoke(
            module.lambda_handler, function, {"source": "aws.events", "detail-type": "Scheduled Event"}
        )
        done = f"{len(answer['published'])} scheduled articles published"
    elif name == "reconciler":
        answer = invoke(module.lambda_handler, function, {"source": "aws.events"})
        done = (
            "reconciled: "
            + ", ".join(
                f"{key} {len(value) if isinstance(value, list) else value}" for key, value in answer.items()
            )[:200]
        )
    seconds = time.perf_counter() - started
    counting[0] = False
    return {
        "handler": name,
        "bare_kb": bare,
        "imported_kb": imported_peak,
        "peak_kb": peak_kb(),
        "seconds": seconds,
        "invocations": len(durations),
        "invocation_seconds": sum(durations),
        "invocation_cpu_seconds": sum(cpu),
        "calls": dict(calls),
        "done": done,
    }


# -- the parent: moto, the archive, the inputs ------------------------------------------------


class Parent:
    def __init__(self, articles: int) -> None:
        self.articles = articles
        self.environment: dict[str, str] = {}
        self.notes: list[str] = []

    def start(self) -> None:
        from infra.cfn import resolved_environment
        from infra.local.aws import LocalAws
        from infra.local.stack import LOCAL_SETTINGS, load_site_overrides

        for name in list(os.environ):
            if name.startswith(("AWS_", "POWERTOOLS_")):
                del os.environ[name]
        self.aws = LocalAws(state_dir=None).start()
        parameters = {**load_site_overrides(SITE), "SiteUrl": "https://news.example.vn"}
        environment = resolved_environment(self.aws.template, self.aws.names, parameters)
        environment.update(self.aws.environment())
        environment.update(LOCAL_SETTINGS)
        environment.update(
            {
                "LOG_FORMAT": "text",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                "POWERTOOLS_DEV": "false",
            }
        )
        self.environment = environment
        os.environ.update(environment)

        import boto3

        from functions.clock import utc_now
        from functions.config import get_settings
        from functions.dal.factory import get_storage
        from functions.logic.auth import issue_key
        from infra.cfn import stream_filter_patterns
        from infra.local.stream_poller import StreamPoller

        get_settings.cache_clear()
        get_storage.cache_clear()
        self.store = get_storage()
        self.settings = get_settings()
        self.key, self.principal = issue_key(self.store, role="editor", name="bench-memory", now=utc_now())
        _, self.admin = issue_key(self.store, role="admin", name="bench-memory-admin", now=utc_now())
        self.captured: list[dict[str, Any]] = []

        def capture(event: dict[str, Any], _context: Any) -> dict[str, Any]:
            self.captured.extend(event["Records"])
            return {"batchItemFailures": []}

        self.poller = StreamPoller(
            boto3.client("dynamodbstreams"),
            self.aws.stream_arn("ArticlesTable"),
            capture,
            "Capture",
            filters=stream_filter_patterns(self.aws.template, "PublisherFunction"),
        )

    def drain(self) -> list[dict[str, Any]]:
        while self.poller.poll_once():
            pass
        records, self.captured = self.captured, []
        return records

    def seed(self) -> None:
        from functions.logic.submit_article import submit_article
        from functions.models.article import ArticleSubmission
        from functions.models.site import Site

        site = Site.from_settings(self.settings)
        newest = datetime.now(UTC) - timedelta(hours=1)
        started = time.perf_counter()
        # Powertools prints its metrics every 100 articles: not wanted on the terminal.
        with contextlib.redirect_stdout(io.StringIO()):
            for index in range(self.articles):
                when = newest - timedelta(minutes=30) * (self.articles - 1 - index)
                submission = ArticleSubmission(**article_fields(index), published_at=when)
                submit_article(submission, self.principal, self.store, site, when)
                if index % 200 == 199:
                    self.drain()
        self.drain()
        self.notes.append(
            f"archive: {self.articles} articles seeded in {time.perf_counter() - started:.0f} s"
        )

    def subscribe(self, url: str) -> None:
        from functions.clock import utc_now
        from functions.logic.syndication import register_partner
        from functions.models.api import PartnerRequest

        register_partner(
            self.store, self.admin, PartnerRequest(url=url + "/hook"), utc_now(), allow_private_webhooks=True
        )

    def schedule(self) -> datetime:
        from functions.logic.submit_article import submit_article
        from functions.models.article import ArticleSubmission
        from functions.models.site import Site

        site = Site.from_settings(self.settings)
        due = datetime.now(UTC) + timedelta(seconds=2)
        # Submitted "ten minutes before": all scheduled, however long the submits take.
        submitted = due - timedelta(minutes=10)
        with contextlib.redirect_stdout(io.StringIO()):
            for index in range(SCHEDULED):
                submission = ArticleSubmission(**article_fields(20_000 + index), published_at=due)
                submit_article(submission, self.principal, self.store, site, submitted)
        self.drain()
        return due

    def run_child(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_"))
        }
        environment.update(self.environment)
        environment["PYTHONPATH"] = str(REPO)
        completed = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", name, "--inputs", json.dumps(inputs)],
            cwd=REPO,
            env=environment,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"{name} child failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-5000:]}"
            )
        return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def measure(articles: int, work: Path) -> tuple[list[dict[str, Any]], list[str]]:
    from tests.webhook_receiver import webhook_receiver

    parent = Parent(articles)
    parent.start()
    results: list[dict[str, Any]] = []
    try:
        parent.seed()
        with webhook_receiver() as receiver:
            parent.subscribe(receiver.url)
            results.append(parent.run_child("api", {"key": parent.key}))
            records = parent.drain()
            path = work / "records.json"
            path.write_text(json.dumps(records), encoding="utf-8")
            results.append(parent.run_child("publisher", {"records": str(path)}))
            parent.drain()  # the publisher's own lease writes

            # The child cannot see the receiver's list: a counter file, written as webhooks arrive.
            counter = work / "received"
            counter.write_text("0")
            import threading

            stop = threading.Event()

            def count() -> None:
                while not stop.is_set():
                    counter.write_text(str(len(receiver.requests)))
                    stop.wait(0.1)

            threading.Thread(target=count, daemon=True).start()
            try:
                results.append(
                    parent.run_child(
                        "notifier", {"queue_url": parent.settings.notify_queue_url, "received": str(counter)}
                    )
                )
            finally:
                stop.set()
        due = parent.schedule()
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds() + 0.5))
        results.append(parent.run_child("scheduler", {}))
        parent.drain()
        results.append(parent.run_child("reconciler", {}))
    finally:
        parent.aws.stop()
    return results, parent.notes


def render(results: list[dict[str, Any]], notes: list[str], articles: int, measured: str) -> str:
    from infra.cfn import load_template, resources_of_type

    template = load_template()
    default_mb = template["Globals"]["Function"].get("MemorySize", 128)
    functions = resources_of_type(template, "AWS::Serverless::Function")
    rows = []
    for result in results:
        configured = functions.get(FUNCTION_NAMES[result["handler"]], {}).get("MemorySize", default_mb)
        rows.append(
            [
                result["handler"],
                f"{result['bare_kb'] / 1024:.0f}",
                f"{result['imported_kb'] / 1024:.0f}",
                f"{result['peak_kb'] / 1024:.0f}",
                f"{(result['peak_kb'] - result['imported_kb']) / 1024:.0f}",
                f"{result['seconds']:.0f}",
                f"{result.get('invocation_cpu_seconds', 0):.1f}",
                str(configured),
                ", ".join(result["done"].split(", ")[:3]),
            ]
        )
    headers = [
        "handler",
        "bare python MiB",
        "after import MiB",
        "peak RSS MiB",
        "work adds MiB",
        "work wall s",
        "work CPU s",
        "MemorySize MB",
        "workload",
    ]
    lines = [
        "## Memory per handler",
        "",
        f"Measured {measured} on {machine()}; one run (peak RSS is a property of the workload,",
        "not of the machine's load).",
        "Command: `.venv/bin/python bench/memory.py [--articles 1000] [--json PATH] [--write-docs]`.",
        "moto runs in the parent process (the local stack's `LocalAws` server on 127.0.0.1, from",
        "template.yaml); each handler runs in a fresh child process that reaches it over HTTP, so the",
        "child's peak RSS (VmHWM) is the handler's alone, with none of moto's tables and objects:",
        "what Lambda reports as Max Memory Used. `bare python`: the child before any import;",
        "`after import`: peak once its handler module is imported (the cold start's floor); `work adds`:",
        "peak minus that (no tracemalloc: its own bookkeeping would inflate the RSS it measures).",
        f"Archive: {articles} published articles (seed article text, 8 sections, 12 authors, 30 tags)",
        "and one webhook partner. Python 3.11 here; Lambda runs python3.13 (figures differ a little).",
        "",
        table(headers, rows, align="lrrrrrrrl"),
        "",
        *(f"- {note}" for note in notes),
        "",
        "MemorySize (template.yaml, where each choice is explained next to it): every peak is under",
        "120 MiB, so memory alone would allow 256 MB everywhere; the sizes are set by CPU, which Lambda",
        "gives in proportion to memory (1,769 MB = one vCPU). A cold start imports about 1.1-1.5 s of",
        "CPU (`bench/cost.py`, `bench/import_time.py`): 512 MB is the floor (at 256 MB an INIT would take",
        "7-10 s, against its 10 s limit), which the scheduler and the notifier keep (they mostly wait on",
        "DynamoDB, SQS and partners). The API gets 1024 MB for its clients' latency (a cold start of",
        "~2-2.5 s instead of ~4-5 s). The publisher and the reconciler render, CPU-bound and",
        "single-threaded: 1769 MB, one full vCPU, which costs about the same GB-s for CPU-bound work",
        "and makes each batch (the submit-to-feed time) and each reconcile as fast as Lambda runs them.",
        "`work wall s` ran on a machine shared with other jobs; `work CPU s` is the child's own CPU.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--write-docs", action="store_true", help="refresh docs/benchmarks.md")
    parser.add_argument("--json", type=Path, help="also write the raw figures here (for bench/cost.py)")
    parser.add_argument(
        "--from-json",
        type=Path,
        help="render (and --write-docs) an earlier --json run's figures; no measuring",
    )
    parser.add_argument("--child", choices=HANDLERS, help=argparse.SUPPRESS)
    parser.add_argument("--inputs", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        import logging

        logging.disable(logging.WARNING)
        with contextlib.redirect_stdout(io.StringIO()):
            result = child(args.child, json.loads(args.inputs))
        print(json.dumps(result))
        return 0
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    if args.from_json:
        saved = json.loads(args.from_json.read_text(encoding="utf-8"))
        results, notes = saved["results"], saved.get("notes", [])
        articles, measured = int(saved.get("articles", args.articles)), str(saved["measured"])
    else:
        import tempfile
        import warnings

        warnings.filterwarnings("ignore", message="No application metrics to publish")
        with tempfile.TemporaryDirectory(prefix="presswire-memory-") as work:
            results, notes = measure(args.articles, Path(work))
        articles, measured = args.articles, today()
    section = render(results, notes, articles, measured)
    if args.json:
        saved = {"measured": measured, "articles": articles, "notes": notes, "results": results}
        args.json.write_text(json.dumps(saved, indent=1), encoding="utf-8")
    print(section)
    if args.write_docs:
        print(f"\nwrote {write_own_section('memory', section)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
