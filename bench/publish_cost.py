"""AWS calls and time of one publish, into archives of 10, 1,000 and 10,000 published articles.

Work per publish must be bounded by what changed, never by the size of the archive
(/work/shared/DESIGN.md). Three sites are provisioned side by side in one moto (`mock_aws`, with
the local stack's moto patches, as `presswire serve` runs), each from template.yaml under its own
resource names, and seeded with 10, 1,000 and 10,000 published articles:

- through `submit_article` (the API's own logic, minus HTTP) with a fake clock: a steady 10
  articles a day up to a few minutes ago, over 8 sections, 12 authors and 30 tags (3 each), the
  seed article's text and its two images (uploaded once per site, as POST /media would);
- the stream records the seeding wrote are drained unseen; each month's sitemap is then built by
  the publisher's own `publish_sitemaps`, as the publishes of those months would have left it;
- then two warm-up publishes per site (a new article each, through the publisher handler): the
  first writes the listings' pages and feeds, the Atom archive's pages and the sitemaps; the
  second runs as every later publish does (the publisher's warm state: its canonical cache and
  the outputs it knows it wrote).

Then, per round, one new article per site (the same section, author and tags each time, so its
listings are full at 1,000 and 10,000), submitted with the real clock, its stream records read
with the local stack's StreamPoller and handed to the publisher handler as the event source
mapping would; the sites take turns, in rotating order. Counted during the publisher invocation
only: AWS calls per operation (a botocore `before-call` hook on boto3's default session), wall
and CPU time, and the time spent inside AWS calls (`before-call` to `after-call`: moto's
emulation plus botocore's parsing), whose remainder is presswire's own work.

    .venv/bin/python bench/publish_cost.py [--runs 7] [--sizes 10,1000,10000] [--write-docs]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import logging
import os
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, fake_aws_environment, machine, median, table, today
from _section import write_own_section

SEED = REPO / "examples" / "seed" / "seed-article.json"
SITE_FILE = REPO / "examples" / "seed" / "seed-site.json"
SITE_URL = "https://news.example.com"
SIZES = (10, 1_000, 10_000)
PER_DAY = 10
SECTIONS = ("Thời sự", "Kinh tế", "Xã hội", "Văn hóa", "Thể thao", "Giáo dục", "Y tế", "Pháp luật")
AUTHORS = tuple(
    f"{family} {given}"
    for family, given in zip(
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"),
        ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Khánh", "Linh", "Minh", "Nga", "Phúc", "Quân"),
        strict=True,
    )
)
TAGS = tuple(
    f"{topic} {place}"
    for topic in ("Mặt trận", "Đô thị", "Nông nghiệp", "Đầu tư", "Lễ hội", "Giao thông")
    for place in ("Ô Môn", "Cần Thơ", "Thốt Nốt", "Cái Răng", "Bình Thủy")
)
IMAGES = {
    "quang-canh-lop-tap-huan.jpg": "Quang cảnh lớp tập huấn",
    "ba-nguyen-thuy-hang.jpg": "Bà Nguyễn Thúy Hằng",
}


@dataclass
class CallMeter:
    """AWS calls per operation and the time inside them, while `active`."""

    active: bool = False
    calls: Counter[str] = field(default_factory=Counter)
    seconds_in_calls: float = 0.0
    cpu_seconds_in_calls: float = 0.0
    seconds_by_operation: dict[str, float] = field(default_factory=dict)
    _started: tuple[float, float] = (0.0, 0.0)

    def before_call(self, event_name: str, **_: Any) -> None:
        if self.active:
            _prefix, service, operation = event_name.split(".", 2)
            self.calls[f"{service}.{operation}"] += 1
            self._started = (time.perf_counter(), time.process_time())

    def after_call(self, event_name: str, **_: Any) -> None:
        if self.active:
            _prefix, service, operation = event_name.split(".", 2)
            seconds = time.perf_counter() - self._started[0]
            self.seconds_in_calls += seconds
            self.cpu_seconds_in_calls += time.process_time() - self._started[1]
            key = f"{service}.{operation}"
            self.seconds_by_operation[key] = self.seconds_by_operation.get(key, 0.0) + seconds

    @contextmanager
    def measuring(self) -> Iterator[None]:
        self.calls = Counter()
        self.seconds_by_operation = {}
        self.seconds_in_calls = self.cpu_seconds_in_calls = 0.0
        self.active = True
        try:
            yield
        finally:
            self.active = False


@dataclass
class Publish:
    calls: Counter[str]
    wall_ms: float
    cpu_ms: float
    in_calls_ms: float
    in_calls_cpu_ms: float
    ms_by_operation: dict[str, float]

    @property
    def own_ms(self) -> float:
        return self.wall_ms - self.in_calls_ms

    @property
    def own_cpu_ms(self) -> float:
        return self.cpu_ms - self.in_calls_cpu_ms


@dataclass
class Site:
    """One provisioned site: what the API and the publisher functions each hold."""

    size: int
    names: dict[str, str]
    api_store: Any
    publisher_store: Any
    poller: Any
    principal: Any
    captured: list[dict[str, Any]] = field(default_factory=list)
    seeding_seconds: float = 0.0
    setup_seconds: float = 0.0
    publishes: list[Publish] = field(default_factory=list)
    number: int = 0


def submission(number: int, when: datetime | None, *, measured: bool = False) -> Any:
    """The seed article's text, as the number-th article of a site (its own title and slug)."""
    from functions.models.article import ArticleSubmission

    seed = json.loads(SEED.read_text(encoding="utf-8"))
    if measured:
        section, author, tags = SECTIONS[0], AUTHORS[0], list(TAGS[:3])
    else:
        section, author = SECTIONS[number % len(SECTIONS)], AUTHORS[number % len(AUTHORS)]
        tags = [TAGS[(number * 3 + offset) % len(TAGS)] for offset in range(3)]
    return ArticleSubmission(
        title=f"{seed['title']} – bài {number}",
        summary=seed["summary"],
        body=seed["body"],
        author=author,
        section=section,
        tags=tags,
        published_at=when,
    )


def provision(size: int, template: dict[str, Any], meter: CallMeter) -> tuple[dict[str, str], Any]:
    import boto3

    from infra.local import aws as local_aws

    # Each site under its own names in the one moto (bucket names are global).
    local_aws.NAME_PREFIX = f"pw-bench-{size}-"
    provisioned = local_aws.provision_from_template(template, lambda service: boto3.client(service))
    return provisioned.names, provisioned


def new_site(size: int, template: dict[str, Any], started: datetime) -> Site:
    import boto3

    from functions.dal.aws import AwsStorage
    from functions.logic.auth import issue_key
    from functions.logic.media import media_url, upload_media
    from infra.cfn import stream_filter_patterns
    from infra.local.stream_poller import StreamPoller

    names, _ = provision(size, template, CallMeter())

    def storage() -> AwsStorage:
        return AwsStorage(
            table_name=names["ArticlesTable"],
            content_bucket=names["ContentBucket"],
            site_bucket=names["SiteBucket"],
            notify_queue_url=names["NotifyQueue"],
        )

    api_store, publisher_store = storage(), storage()
    _, principal = issue_key(api_store, role="editor", name="bench", now=started)
    stream_arn = boto3.client("dynamodb").describe_table(TableName=names["ArticlesTable"])["Table"][
        "LatestStreamArn"
    ]
    site = Site(size, names, api_store, publisher_store, None, principal)

    def capture(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        site.captured.extend(event["Records"])
        return {"batchItemFailures": []}

    site.poller = StreamPoller(
        boto3.client("dynamodbstreams"),
        stream_arn,
        capture,
        "Capture",
        filters=stream_filter_patterns(template, "PublisherFunction"),
    )
    # The images every article shows, uploaded once (as POST /media does).
    site.media = {  # type: ignore[attr-defined]
        name: media_url(
            upload_media(
                api_store,
                filename=name,
                content_type="image/jpeg",
                body=(SEED.parent / "media" / name).read_bytes(),
                caption=caption,
            ).key
        )
        for name, caption in IMAGES.items()
    }
    return site


def with_images(site: Site, value: Any) -> Any:
    body = value.body
    for name, url in site.media.items():  # type: ignore[attr-defined]
        body = body.replace(f"media/{name}", url)
    return value.model_copy(update={"body": body})


def drain(site: Site) -> list[dict[str, Any]]:
    while site.poller.poll_once():
        pass
    records, site.captured = site.captured, []
    return records


def seeding_storage(names: dict[str, str]) -> Any:
    """The API's storage, made fast for writing a large archive into an empty table: the item
    shapes, the canonical JSON and the submit logic stay the storage layer's and submit_article's
    own; only round trips that cannot matter on a fresh table are saved."""
    from functions.dal import aws

    class SeedingStorage(aws.AwsStorage):
        def __init__(self) -> None:
            super().__init__(
                table_name=names["ArticlesTable"],
                content_bucket=names["ContentBucket"],
                site_bucket=names["SiteBucket"],
                notify_queue_url=names["NotifyQueue"],
            )
            self.pending: list[dict[str, Any]] = []
            self.sequence = self.last_sequence()
            self.taken = 0
            self.media_answers: dict[tuple[str, str], Any] = {}

        def is_slug_free(self, slug: str) -> bool:
            return True  # every seeded title, and so every slug, is different

        def next_sequence(self) -> int:
            self.sequence += 1
            self.taken += 1
            return self.sequence

        def head_media(self, key: str) -> Any:
            # The same two images in every article: ask once.
            if ("head", key) not in self.media_answers:
                self.media_answers["head", key] = super().head_media(key)
            return self.media_answers["head", key]

        def get_media_info(self, key: str) -> Any:
            if ("info", key) not in self.media_answers:
                self.media_answers["info", key] = super().get_media_info(key)
            return self.media_answers["info", key]

        def _transact(self, writes: list[dict[str, Any]]) -> None:
            # The transaction's puts, unconditionally and 25 to a BatchWriteItem: nothing in a
            # fresh table can fail their conditions.
            self.pending += [{"PutRequest": {"Item": write["Put"]["Item"]}} for write in writes]
            if len(self.pending) >= 500:
                self.flush()

        def flush(self) -> None:
            while self.pending:
                batch, self.pending = self.pending[:25], self.pending[25:]
                request = {self.table_name: batch}
                while request:
                    request = (
                        self.dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                    )
            if self.taken:
                self.dynamodb.update_item(
                    TableName=self.table_name,
                    Key=aws._serialize(aws.SEQUENCE_COUNTER_KEY),
                    UpdateExpression="ADD #value :taken",
                    ExpressionAttributeNames={"#value": "value"},
                    ExpressionAttributeValues={":taken": {"N": str(self.taken)}},
                )
                self.taken = 0

    return SeedingStorage()


@contextmanager
def items_sized_once() -> Iterator[None]:
    """While seeding: moto sums an item's size again after each attribute it stores (to refuse
    items over 400 KB), a third of the seeding's time; here it is summed once per item."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    stock = Item.__init__

    def sized_once(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key, self.range_key = hash_key, range_key
        converted = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in converted.items()) > 405_000:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict()
        dict.update(self.attrs, converted)

    Item.__init__ = sized_once  # type: ignore[method-assign]
    try:
        yield
    finally:
        Item.__init__ = stock  # type: ignore[method-assign]


def seed(site: Site, newest: datetime, presswire_site: Any, per_day: int = PER_DAY) -> None:
    """`size` published articles, `per_day` a day, the newest at `newest`, as submit_article
    stores them (its own clock at each one's publication)."""
    from functions.logic.submit_article import submit_article

    started = time.perf_counter()
    store = seeding_storage(site.names)
    gap = timedelta(days=1) / per_day
    # submit_article counts every article in a metric that Powertools prints every 100.
    with contextlib.redirect_stdout(io.StringIO()), items_sized_once():
        for index in range(site.size):
            when = newest - gap * (site.size - 1 - index)
            value = with_images(site, submission(index, when))
            submit_article(value, site.principal, store, presswire_site, when)
            if index % 1000 == 999:
                store.flush()
                drain(site)  # the seeding's stream records: not what is measured
        store.flush()
    drain(site)
    site.seeding_seconds = time.perf_counter() - started


def build_sitemaps(site: Site, presswire_site: Any) -> None:
    """Each month's sitemap and the index, as the publishes of those months left them."""
    from functions.logic.changes import ArticleChange
    from functions.logic.listings import HOME
    from functions.logic.publish_articles import PublishReport, publish_sitemaps
    from functions.render.sitemaps import sitemap_month_of

    last_of_month: dict[tuple[int, int], Any] = {}
    cursor = None
    while True:
        page, cursor = site.api_store.list_listing(HOME.id, "published", 1000, cursor)
        for record in page:
            last_of_month.setdefault(sitemap_month_of(record, presswire_site), record)
        if cursor is None:
            break
    changes = [ArticleChange(None, record) for record in last_of_month.values()]
    publish_sitemaps(changes, site.publisher_store, presswire_site, PublishReport(), {})


def publish_one(site: Site, publisher: Any, presswire_site: Any, meter: CallMeter) -> Publish:
    from functions import clock
    from functions.logic.submit_article import submit_article
    from infra.local.lambda_runtime import invoke

    site.number += 1
    value = with_images(site, submission(site.size + site.number, None, measured=True))
    record = submit_article(value, site.principal, site.api_store, presswire_site, clock.utc_now())
    records = drain(site)
    publisher.get_storage = lambda: site.publisher_store
    with meter.measuring():
        wall, cpu = time.perf_counter(), time.process_time()
        response = invoke(publisher.lambda_handler, "PublisherFunction", {"Records": records})
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert not (response or {}).get("batchItemFailures"), response
    feed = site.api_store.s3.get_object(Bucket=site.names["SiteBucket"], Key="feeds/atom.xml")["Body"].read()
    assert record.id.encode() in feed, f"article {record.id} is not in feeds/atom.xml"
    return Publish(
        Counter(meter.calls),
        wall * 1000,
        cpu * 1000,
        meter.seconds_in_calls * 1000,
        meter.cpu_seconds_in_calls * 1000,
        {operation: seconds * 1000 for operation, seconds in meter.seconds_by_operation.items()},
    )


def run(sizes: tuple[int, ...], runs: int, per_day: int, log: Any) -> tuple[list[Site], dict[str, Any]]:
    fake_aws_environment(
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_LOG_LEVEL="WARNING",
        LOG_FORMAT="text",
    )
    import boto3
    from moto import mock_aws

    from infra.cfn import load_template, resolved_environment
    from infra.local import moto_patches
    from infra.local.stack import load_site_overrides

    notes: dict[str, Any] = {}
    meter = CallMeter()
    with mock_aws():
        moto_patches.install()
        boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        assert session is not None
        session.events.register("before-call", meter.before_call)
        session.events.register("after-call", meter.after_call)
        template = load_template()
        started = datetime.now(UTC)
        sites: list[Site] = []
        for size in sizes:
            began = time.perf_counter()
            sites.append(new_site(size, template, started))
            sites[-1].setup_seconds = time.perf_counter() - began
        # The functions' settings (validated at import): the first site's names; the publisher
        # is handed each site's storage before each invocation.
        parameters = {**load_site_overrides(SITE_FILE), "SiteUrl": SITE_URL}
        os.environ.update(resolved_environment(template, sites[0].names, parameters))

        from functions.config import get_settings
        from functions.handlers import publisher
        from functions.models.site import Site as PresswireSite

        get_settings.cache_clear()
        presswire_site = PresswireSite.from_settings(get_settings())
        logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "presswire")).setLevel(logging.WARNING)

        newest = datetime.now(UTC) - timedelta(minutes=5)
        for site in sites:
            log(f"seeding {site.size} articles ...")
            seed(site, newest, presswire_site, per_day)
            began = time.perf_counter()
            build_sitemaps(site, presswire_site)
            log(f"  {site.seeding_seconds:.0f} s, sitemaps {time.perf_counter() - began:.1f} s")
        for warmup in (1, 2):
            for site in sites:
                began = time.perf_counter()
                publish_one(site, publisher, presswire_site, meter)
                log(f"warm-up publish {warmup} into {site.size}: {time.perf_counter() - began:.1f} s")
        for round_index in range(runs):
            shift = round_index % len(sites)
            for site in sites[shift:] + sites[:shift]:
                site.publishes.append(publish_one(site, publisher, presswire_site, meter))
            log(
                f"round {round_index + 1}: "
                + ", ".join(f"{site.size}: {site.publishes[-1].wall_ms:.0f} ms" for site in sites)
            )
        for site in sites:
            months = [entry for entry in site.api_store.list_sitemap_months() if entry[3]]
            recent, _ = site.api_store.list_listing(
                "home", "published", 1000, published_since=datetime.now(UTC) - timedelta(days=2)
            )
            table = boto3.client("dynamodb").describe_table(TableName=site.names["ArticlesTable"])["Table"]
            notes[site.size] = {
                "items": table["ItemCount"],
                "months": len(months),
                "this month": max(months)[3],
                "two days": len(recent),
            }
    return sites, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured publishes per archive (at least 5)")
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES))
    parser.add_argument("--per-day", type=int, default=PER_DAY, help="articles a day in the seeded archives")
    parser.add_argument("--write-docs", action="store_true", help="refresh docs/benchmarks.md")
    args = parser.parse_args(argv)
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    sizes = tuple(int(size) for size in args.sizes.split(","))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    began = time.perf_counter()
    sites, notes = run(
        sizes, max(5, args.runs), args.per_day, lambda line: print(line, file=sys.stderr, flush=True)
    )
    section = render(sites, notes, load, time.perf_counter() - began, args.per_day)
    print(section)
    if args.write_docs:
        print(f"\nwrote {write_own_section('publish_cost', section)}")
    return 0


def render(sites: list[Site], notes: dict[str, Any], load: str, total_seconds: float, per_day: int) -> str:
    sizes = [f"{site.size:,} articles" for site in sites]
    operations = sorted({op for site in sites for publish in site.publishes for op in publish.calls})

    def spread(values: set[int]) -> str:
        return "–".join(str(value) for value in sorted(values))

    rows: list[list[object]] = [
        [f"`{operation}`", *(spread({p.calls.get(operation, 0) for p in site.publishes}) for site in sites)]
        for operation in operations
    ]
    totals = [{sum(p.calls.values()) for p in site.publishes} for site in sites]
    rows.append(["**total**", *(f"**{spread(total)}**" for total in totals)])
    identical = len({tuple(sorted(p.calls.items())) for site in sites for p in site.publishes}) == 1

    metrics = (
        ("wall ms", lambda p: p.wall_ms),
        ("wall ms inside AWS calls (moto)", lambda p: p.in_calls_ms),
        ("wall ms outside AWS calls (presswire)", lambda p: p.own_ms),
        ("CPU ms", lambda p: p.cpu_ms),
        ("CPU ms outside AWS calls (presswire)", lambda p: p.own_cpu_ms),
    )

    def typical(site: Site, pick: Any) -> float:
        return median([pick(p) for p in site.publishes])

    steps = list(itertools.pairwise(sites))
    time_rows = [
        [
            label,
            *(f"{typical(site, pick):.0f}" for site in sites),
            *(f"{typical(larger, pick) / typical(smaller, pick):.2f}x" for smaller, larger in steps),
        ]
        for label, pick in metrics
    ]
    step_headers = [f"{larger.size:,} / {smaller.size:,}" for smaller, larger in steps]

    def per_call(site: Site, operation: str) -> str:
        times = [
            p.ms_by_operation.get(operation, 0.0) / p.calls[operation]
            for p in site.publishes
            if p.calls[operation]
        ]
        return f"{median(times):.1f}" if times else ""

    per_call_rows = [
        [f"`{operation}`", *(per_call(site, operation) for site in sites)]
        for operation in ("dynamodb.Query", "dynamodb.GetItem", "s3.PutObject", "s3.GetObject")
    ]
    largest, reference = sites[-1], sites[-2] if len(sites) > 1 else sites[-1]
    own = typical(largest, lambda p: p.own_cpu_ms) / typical(reference, lambda p: p.own_cpu_ms)
    lines = [
        "## Work per publish against the size of the archive",
        "",
        "`.venv/bin/python bench/publish_cost.py [--runs 7] [--sizes 10,1000,10000] [--per-day 10]"
        " [--write-docs]`",
        "",
        f"Measured {today()} on {machine()}; load average at the start {load} (other engineers' test",
        f"runs share the 2 CPUs); the whole run took {total_seconds / 60:.0f} min.",
        "",
        "Three sites side by side in one moto (`mock_aws` with the local stack's moto patches), each",
        "provisioned from template.yaml under its own names and seeded through `submit_article` (the",
        f"API's logic, minus HTTP) with a fake clock: {per_day} articles a day up to a few minutes ago,",
        "over 8 sections, 12 authors and 30 tags, the seed article's text and its two images. Each",
        "month's sitemap is built by the publisher's `publish_sitemaps`, then two warm-up publishes",
        "per site write the listings, feeds and Atom archive pages and warm the publisher. Measured:",
        f"{len(reference.publishes)} rounds of one new article per site (same section, author and tags",
        "each time: its listings are full at 1,000 and 10,000), submitted with the real clock, its",
        "stream records handed to the publisher handler; the sites take turns in rotating order. AWS",
        "calls counted per operation with a botocore `before-call` hook; time in AWS calls from",
        "`before-call` to `after-call` (moto's work and botocore's parsing); presswire's own time is",
        "the rest. Medians.",
        "",
        table(["AWS calls per publish", *sizes], rows),
        "",
        table(["time per publish (median)", *sizes, *step_headers], time_rows),
        "",
        table(["inside AWS calls, ms per call (median)", *sizes], per_call_rows),
        "",
        *(
            f"- {site.size:,} articles: seeded in {site.seeding_seconds:.0f} s; after the run "
            f"{notes[site.size]['items']:,} table items, {notes[site.size]['months']} month(s) in the "
            f"sitemap index, {notes[site.size]['this month']} articles in this month's sitemap, "
            f"{notes[site.size]['two days']} in the news sitemap's two days."
            for site in sites
        ),
        "",
        "Reading it:",
        "",
        f"- The calls per publish are {'the same' if identical else 'NOT the same'} at every size:",
        "  every read is a GetItem, a BatchGetItem of the lately published records, or a Query",
        "  bounded by a listing's feed size, one archive page, one month, two days, a handful of",
        "  records (related articles, the nearest older and newer month) or the list of months. The",
        "  PutObjects are the article page and, for each of its listings (site, section, author,",
        "  3 tags), the page, its month page and its RSS, Atom and JSON Feed, plus sitemaps.",
        f"- presswire's own CPU time per publish, {largest.size:,} against {reference.size:,} articles:",
        f"  {own:.2f}x (medians of {len(largest.publishes)} publishes on a shared machine: a few tens of"
        " percent",
        "  either way is noise, not growth). A 10-article site does less: its listings and feeds hold",
        "  10 to 20 entries, not 50, and its month and two days fewer articles (feed size and",
        "  publishing rate, not archive size).",
        "- The time inside AWS calls grows with the archive under moto, not under DynamoDB: moto",
        "  answers a Query by walking and sorting every item of the index partition it names (the",
        "  local stack's patch, infra/local/moto_patches.py, spares it the rest of the table), and",
        "  the site's listing partition holds every article, so a Query of it, however small its key",
        "  range or Limit, costs time in proportion to the archive; DynamoDB reads only the items of",
        "  the key range. S3 calls and GetItems stay flat.",
        "- What still grows is bounded by publishing rate, not by the archive: the month's sitemap",
        "  re-reads that month's articles (a Query page holds ~380 listing items, 1 MB), the news",
        "  sitemap the last two days', the sitemap index one small item per month.",
        "- Changed in functions/ for this: the publisher read the archive's progress (two counter",
        "  items) once for the head feed's link and again for the archive pages; it now reads it",
        "  once (GetItem 3 -> 2 per publish). A batch that completed an archive page also wrote the",
        "  site's Atom feed twice; it now writes the page first and the feed once",
        "  (tests/integration/test_publish_batches.py).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
