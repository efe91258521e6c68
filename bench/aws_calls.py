"""AWS API calls per submit and per publish, cold and warm, counted under moto.

One process stands in for two Lambda functions: the API handler and the publisher handler each
get their own storage object (as two separate functions on AWS would; `presswire serve` shares
one, so its publisher may find the just-submitted article in the in-process canonical cache).
Calls are counted with a botocore `before-call` hook on boto3's default session (one count per
API call; retried HTTP attempts are counted separately as `before-send`). Only calls made inside
the handlers are counted: provisioning, key issuing, the initial empty-site publish and reading
the DynamoDB stream are not.

    .venv/bin/python bench/aws_calls.py [--write-docs]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REGION, REPO, fake_aws_environment, machine, table, today, write_section

SEED = REPO / "examples" / "seed" / "seed-article.json"
SITE = REPO / "examples" / "seed" / "seed-site.json"
SITE_URL = "https://news.example.com"


@dataclass
class CallCounter:
    """Counts `service.Operation` per phase; only while a phase is active."""

    phase: str | None = None
    calls: dict[str, Counter[str]] = field(default_factory=dict)
    attempts: Counter[str] = field(default_factory=Counter)

    def before_call(self, event_name: str, **_: Any) -> None:
        if self.phase is not None:
            _prefix, service, operation = event_name.split(".", 2)
            self.calls.setdefault(self.phase, Counter())[f"{service}.{operation}"] += 1

    def before_send(self, **_: Any) -> None:
        if self.phase is not None:
            self.attempts[self.phase] += 1

    @contextmanager
    def counting(self, phase: str) -> Iterator[None]:
        self.phase = phase
        self.calls.setdefault(phase, Counter())
        try:
            yield
        finally:
            self.phase = None


def run() -> tuple[CallCounter, list[str]]:
    fake_aws_environment()
    import boto3
    from moto import mock_aws

    from infra.cfn import load_template, resolved_environment
    from infra.local.aws import provision_from_template
    from infra.local.stack import load_site_overrides

    notes: list[str] = []
    counter = CallCounter()
    with mock_aws():
        boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        assert session is not None
        session.events.register("before-call", counter.before_call)
        session.events.register("before-send", counter.before_send)

        template = load_template()
        provisioned = provision_from_template(template, lambda s: boto3.client(s, region_name=REGION))
        parameters = {**load_site_overrides(SITE), "SiteUrl": SITE_URL}
        os.environ.update(resolved_environment(template, provisioned.names, parameters))
        os.environ.update(
            {
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                "LOG_FORMAT": "text",
            }
        )

        from functions.config import get_settings
        from functions.dal import factory

        get_settings.cache_clear()
        factory.get_storage.cache_clear()
        api = importlib.import_module("functions.handlers.api")
        publisher = importlib.import_module("functions.handlers.publisher")

        from functions.clock import utc_now
        from functions.logic.auth import issue_key
        from functions.logic.publish_articles import rebuild_front
        from functions.models.site import Site
        from functions.text.html import extract_images, rewrite_image_sources
        from infra.local.gateway import http_api_event
        from infra.local.lambda_runtime import invoke
        from infra.local.stream_poller import StreamPoller

        # The publisher is another Lambda function: its own storage (and canonical cache).
        publisher_storage = factory.get_storage.__wrapped__()
        publisher.get_storage = lambda: publisher_storage  # type: ignore[attr-defined]

        key, _ = issue_key(factory.get_storage(), role="editor", name="bench", now=utc_now())
        # The site exists before the first article (as `presswire serve` and a deployed stack
        # have it), built with a throwaway storage so that neither function's state is warmed.
        rebuild_front(factory.get_storage.__wrapped__(), Site.from_settings(get_settings()))

        table_name = provisioned.names["ArticlesTable"]
        stream_arn = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=table_name)[
            "Table"
        ]["LatestStreamArn"]
        captured: list[dict[str, Any]] = []

        def capture(event: dict[str, Any], _context: Any) -> dict[str, Any]:
            captured.extend(event["Records"])
            return {"batchItemFailures": []}

        poller = StreamPoller(
            boto3.client("dynamodbstreams", region_name=REGION), stream_arn, capture, "Capture"
        )
        poller.poll_once()  # drain the key's record: the publish batches hold only the submit's
        captured.clear()

        seed = json.loads(SEED.read_text(encoding="utf-8"))
        headers_base = {"authorization": f"Bearer {key}", "host": "bench.local"}

        def call_api(method: str, path: str, query: str, body: bytes, content_type: str) -> dict[str, Any]:
            headers = {**headers_base, "content-type": content_type}
            event = http_api_event(method, path, query, headers, body, "127.0.0.1")
            return dict(invoke(api.lambda_handler, "ApiFunction", event))

        for label, suffix in (("cold", ""), ("warm", " (2)")):
            article = dict(seed)
            article["title"] = seed["title"] + suffix
            uploaded: dict[str, str] = {}
            with counter.counting(f"media {label}"):
                for image in extract_images(article["body"]):
                    path = SEED.parent / urllib.parse.unquote(image.src)
                    query = urllib.parse.urlencode({"filename": path.name})
                    result = call_api("POST", "/api/media", query, path.read_bytes(), "image/jpeg")
                    assert result["statusCode"] == 201, result
                    uploaded[image.src] = json.loads(result["body"])["url"]
            article["body"] = rewrite_image_sources(article["body"], uploaded)
            body = json.dumps(article, ensure_ascii=False).encode("utf-8")
            with counter.counting(f"submit {label}"):
                result = call_api("POST", "/api/articles", "", body, "application/json; charset=utf-8")
            assert result["statusCode"] == 201, result
            article_id = json.loads(result["body"])["id"]

            while poller.poll_once():
                pass
            records = list(captured)
            captured.clear()
            kinds = Counter(record.get("eventName", "?") for record in records)
            notes.append(
                f"{label}: the submit wrote {len(records)} stream record(s) "
                f"({', '.join(f'{count} {kind}' for kind, count in sorted(kinds.items()))})"
            )
            with counter.counting(f"publish {label}"):
                response = invoke(publisher.lambda_handler, "PublisherFunction", {"Records": records})
            assert not (response or {}).get("batchItemFailures"), response

            feed = (
                boto3.client("s3", region_name=REGION)
                .get_object(Bucket=provisioned.names["SiteBucket"], Key="feeds/atom.xml")["Body"]
                .read()
            )
            if article_id.encode() not in feed:
                notes.append(f"{label}: article {article_id} is NOT in feeds/atom.xml after the publish")
    return counter, notes


PHASES = ("media cold", "submit cold", "publish cold", "media warm", "submit warm", "publish warm")


def render(counter: CallCounter, notes: list[str]) -> str:
    operations = sorted({op for phase in PHASES for op in counter.calls.get(phase, {})})
    rows: list[list[object]] = []
    for operation in operations:
        rows.append(
            [
                f"`{operation}`",
                *(counter.calls.get(phase, Counter()).get(operation, 0) or "" for phase in PHASES),
            ]
        )
    rows.append(["**total calls**", *(sum(counter.calls.get(phase, Counter()).values()) for phase in PHASES)])
    rows.append(["HTTP attempts (`before-send`)", *(counter.attempts.get(phase, 0) for phase in PHASES)])
    headers = [
        "operation",
        "2x POST /media, cold",
        "submit, cold",
        "publish, cold",
        "2x POST /media, warm",
        "submit, warm",
        "publish, warm",
    ]
    lines = [
        "## AWS API calls per submit and per publish",
        "",
        f"Measured {today()} on {machine()} (counts do not depend on the machine).",
        "Under moto (`mock_aws`), counted with a botocore `before-call` hook on boto3's default",
        "session. Cold = first invocation of a freshly imported handler; warm = the second article",
        "(title with ` (2)`, same two images) in the same process. The seed article",
        "(`examples/seed/seed-article.json`) is submitted with its 2 images uploaded first through",
        "POST /api/media (counted in their own columns). The publisher is invoked with exactly the",
        "stream records the submit produced, with its own storage object as a separate Lambda",
        "function would have; the site (home page, empty feeds) exists beforehand.",
        "",
        table(headers, rows),
        "",
        *(f"- {note}" for note in notes),
        "",
        "Reading it: a submit reads the key (`GetItem`), checks the slug (`GetItem`), each referenced",
        "image (`HeadObject` for type and size, `GetItem` for its caption and credit), takes a",
        "publication sequence number (`UpdateItem`), writes the canonical JSON (`PutObject`), then",
        "one `TransactWriteItems` (article, slug, revision and listing items). A publish renders",
        "the article page (with its section's previous articles: one `Query`) and, for each",
        "listing the article is in (home, section, author, tags), its page, its month page and",
        "RSS, Atom and JSON feeds, plus the stylesheet and icon, the archive, sitemaps, robots.txt",
        "and 404: each output is a `HeadObject` (is it unchanged?) and, when its bytes changed, a",
        "`PutObject`; a warm publisher skips the `HeadObject` of outputs it wrote itself. The",
        "`Query` calls are the listings (newest, the month, the nearest older and newer months), the",
        "related articles, the archive and the sitemaps (each bounded by a listing's page size, a",
        "month or a handful of records, never the archive); the `SendMessage` is the change",
        "notification.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--write-docs", action="store_true", help="refresh docs/benchmarks.md")
    args = parser.parse_args(argv)
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    counter, notes = run()
    section = render(counter, notes)
    print(section)
    if args.write_docs:
        print(f"\nwrote {write_section('aws_calls', section)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
