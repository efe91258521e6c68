"""The local stack under load: N concurrent editors submitting articles for S seconds.

For each run, starts `presswire serve` as a subprocess on a free 127.0.0.1 port with a temporary
state directory (as tests/e2e/conftest.py does), or uses the stack at `--url`. Then:

- keys: reporters cannot publish (functions/logic/permissions.py, submit_article: "reporters
  file drafts; an editor publishes them") and only an admin may create keys through the API
  (POST /api/keys), so one admin key is made with `presswire keys create --role admin` against
  the state directory and, with it, one editor key per thread through POST /api/keys. With
  `--url`, `--key` is an admin key (editor keys are created with it) or an editor key (every
  thread then shares it).
- load: a fixed number of threads (`--threads`, 20), each on its own keep-alive connection, each
  POSTing /api/articles and waiting for the answer before sending the next (a closed loop, no
  think time: the load is bounded by the threads and by how fast the stack answers). Each
  article is the seed article's Vietnamese text (`examples/seed/seed-article.json`, without its
  images and `published_at`, so it is published now) with its own title, summary opening,
  section and tags, and an Idempotency-Key as `presswire submit` sends. Every answer's status is
  kept: anything but 201, and any connection error or timeout, is an error.
- freshness: one watcher thread GETs /feeds/atom.xml every 50 ms with If-None-Match (a 304 costs
  no parsing) and notes when each entry id is first seen. Freshness = that moment minus the
  moment the submitter got its 201. The site feed holds only the newest FEED_SIZE (50) entries,
  so an article could in principle enter and leave it between two polls; that needs 50 newer
  publishes within one poll interval, far above the stack's rate (the watcher logs how many new
  entries a poll found, and the largest is reported). After the load, any article never seen in
  the feed is looked up by its page (GET of its URL): one that exists but was never seen counts
  as "missed by the watcher" (reported, not an error), one that does not exist is an error.

Reported per run: submits, errors, submit latency p50/p99 (request sent -> answer), freshness
p50/p95/max; and over the runs, the median of each. Percentiles are nearest-rank.

    .venv/bin/python bench/load.py [--seconds 60] [--threads 20] [--runs 5] [--url URL --key KEY]
                                   [--write-docs]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, machine, median, percentile, table, today
from _section import write_own_section

from infra.local.aws import free_port

SEED = REPO / "examples" / "seed" / "seed-article.json"
SITE = REPO / "examples" / "seed" / "seed-site.json"
FEED_PATH = "/feeds/atom.xml"
POLL_INTERVAL = 0.050
REQUEST_TIMEOUT = 60.0
DRAIN_SECONDS = 60.0  # after the load, how long the watcher waits for the last entries
GOAL_P95_MS = 1000.0
_FIGURE = re.compile(r"<figure\b.*?</figure>\s*", re.DOTALL | re.IGNORECASE)
_ENTRY_ID = re.compile(r"<entry>.*?<id>([^<]+)</id>", re.DOTALL)

# Real district-news subjects, so titles, slugs and sections vary as a newsroom's do.
TITLES = (
    "Ô Môn: tập huấn nghiệp vụ công tác Mặt trận năm 2023",
    "Cần Thơ: ra quân chiến dịch thanh niên tình nguyện hè",
    "Bình Thủy: hội nghị sơ kết công tác dân vận sáu tháng đầu năm",
    "Thới Lai: trao nhà Đại đoàn kết cho hộ nghèo",
    "Phong Điền: khai mạc lễ hội trái cây Nam Bộ",
    "Cờ Đỏ: đối thoại giữa người đứng đầu cấp ủy với nhân dân",
    "Ninh Kiều: ra mắt mô hình tuyến đường văn minh, sạch đẹp",
    "Thốt Nốt: tuyên dương gương người tốt, việc tốt",
    "Vĩnh Thạnh: bàn giao công trình giao thông nông thôn",
    "Cái Răng: hội thao chào mừng ngày thành lập Mặt trận",
)
SECTIONS = ("Hoạt động Mặt trận", "Thời sự", "Kinh tế", "Văn hóa - Xã hội", "Đô thị")
TAGS = ("Ô Môn", "Tập huấn", "Mặt trận", "Thanh niên", "Dân vận", "Nông thôn mới", "Lễ hội", "Giao thông")


# -- the stack -------------------------------------------------------------------------------


@dataclass
class Stack:
    url: str
    admin_key: str | None
    editor_key: str | None
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)
    startup_s: float = 0.0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _clean_environment() -> dict[str, str]:
    # As tests/e2e/conftest.py: the served stack sets its own AWS and Powertools settings.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "POWERTOOLS_"))
        and name not in {"CONTENT_BUCKET", "SITE_BUCKET", "TABLE_NAME", "SITE_URL"}
    }
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


def start_stack(state_dir: Path) -> Stack:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.cli",
            "serve",
            "--port",
            str(port),
            "--state-dir",
            str(state_dir),
            "--site",
            str(SITE),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_clean_environment(),
    )
    stack = Stack(url=f"http://127.0.0.1:{port}", admin_key=None, editor_key=None, process=process)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            stack.output.append(line)
            lines.put(line)

    threading.Thread(target=pump, name="serve-output", daemon=True).start()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if process.poll() is not None:
                raise RuntimeError("presswire serve exited:\n" + "".join(stack.output)) from None
            continue
        if line.strip().startswith("site:"):
            stack.startup_s = time.perf_counter() - started
            stack.editor_key = (state_dir / "bootstrap-key").read_text(encoding="utf-8").strip()
            created = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "infra.cli",
                    "keys",
                    "create",
                    "--role",
                    "admin",
                    "--name",
                    "bench-load",
                    "--state-dir",
                    str(state_dir),
                ],
                cwd=REPO,
                capture_output=True,
                text=True,
                env=_clean_environment(),
                check=True,
                timeout=120,
            )
            stack.admin_key = _last_token(created.stdout)
            return stack
    process.kill()
    raise RuntimeError("presswire serve did not start:\n" + "".join(stack.output))


def _last_token(text: str) -> str:
    # `presswire keys create` prints the secret (possibly after a label) on its last line.
    return text.strip().splitlines()[-1].split()[-1]


# -- HTTP ------------------------------------------------------------------------------------


def _connection(base: str) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(base)
    assert parts.hostname in {"127.0.0.1", "localhost"}, "load only against a local stack"
    return http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=REQUEST_TIMEOUT)


def _request(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def editor_keys(stack: Stack, count: int) -> tuple[list[str], str]:
    """One editor key per thread, made through POST /api/keys with the admin key."""
    if stack.admin_key is None:
        assert stack.editor_key is not None
        return [stack.editor_key] * count, "one editor key shared by every thread (--key)"
    connection = _connection(stack.url)
    keys: list[str] = []
    for index in range(count):
        status, _, body = _request(
            connection,
            "POST",
            "/api/keys",
            json.dumps({"role": "editor", "name": f"Biên tập viên {index + 1}"}).encode(),
            {"Authorization": f"Bearer {stack.admin_key}", "Content-Type": "application/json"},
        )
        if status == 403 and index == 0:
            # --key was an editor's: it cannot make keys, but it can publish.
            return [stack.admin_key] * count, "one editor key shared by every thread (--key)"
        if status != 201:
            raise RuntimeError(f"POST /api/keys answered {status}: {body[:300]!r}")
        keys.append(str(json.loads(body)["key"]))
    connection.close()
    return keys, f"{count} editor keys made through POST /api/keys with an admin key"


# -- the load --------------------------------------------------------------------------------


@dataclass
class Submitted:
    article_id: str
    url: str
    accepted: float  # perf_counter when the 201 arrived


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    submitted: list[Submitted] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ArticleMaker:
    def __init__(self) -> None:
        seed = json.loads(SEED.read_text(encoding="utf-8"))
        self.base = {key: value for key, value in seed.items() if key != "published_at"}
        self.base["body"] = _FIGURE.sub("", seed["body"])

    def make(self, thread: int, counter: int) -> bytes:
        article = dict(self.base)
        title = TITLES[(thread + counter) % len(TITLES)]
        article["title"] = f"{title} (phóng viên {thread + 1}, bài {counter + 1})"
        article["summary"] = f"Bài {counter + 1} của phóng viên {thread + 1}. {self.base['summary']}"
        article["section"] = SECTIONS[(thread + counter) % len(SECTIONS)]
        article["tags"] = [TAGS[(thread + counter + step) % len(TAGS)] for step in (0, 3)]
        article["author"] = f"Phóng viên {thread + 1}"
        return json.dumps(article, ensure_ascii=False).encode("utf-8")


def reporter(
    base: str, key: str, thread: int, deadline: float, pause: float, maker: ArticleMaker, results: Results
) -> None:
    connection = _connection(base)
    counter = 0
    while time.perf_counter() < deadline:
        payload = maker.make(thread, counter)
        counter += 1
        headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        sent = time.perf_counter()
        try:
            status, _, body = _request(connection, "POST", "/api/articles", payload, headers)
        except (OSError, http.client.HTTPException) as error:
            answered = time.perf_counter()
            connection.close()
            connection = _connection(base)
            with results.lock:
                results.latencies_ms.append((answered - sent) * 1000)
                results.statuses[type(error).__name__] += 1
                results.errors.append(f"thread {thread}: {type(error).__name__}: {error}")
            continue
        answered = time.perf_counter()
        with results.lock:
            results.latencies_ms.append((answered - sent) * 1000)
            results.statuses[str(status)] += 1
            if status == 201:
                answer = json.loads(body)
                if answer.get("status") != "published":
                    results.errors.append(f"thread {thread}: 201 but status {answer.get('status')!r}")
                results.submitted.append(Submitted(str(answer["id"]), str(answer["url"]), answered))
            else:
                results.errors.append(f"thread {thread}: {status} {body[:200]!r}")
        if pause:
            # A reporter's time between two articles; never past the end of the run.
            time.sleep(max(0.0, min(pause, deadline - time.perf_counter())))
    connection.close()


class FeedWatcher(threading.Thread):
    """Polls the site's Atom feed, noting when each entry id is first seen."""

    def __init__(self, base: str) -> None:
        super().__init__(name="feed-watcher", daemon=True)
        self.base = base
        self.first_seen: dict[str, float] = {}
        self.polls = 0
        self.changed = 0
        self.errors: list[str] = []
        self.most_new_in_one_poll = 0
        self.poll_gaps_ms: list[float] = []
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=30)

    def run(self) -> None:
        connection = _connection(self.base)
        etag: str | None = None
        last = time.perf_counter()
        while not self._stop_event.is_set():
            headers = {"If-None-Match": etag} if etag else {}
            try:
                status, response_headers, body = _request(connection, "GET", FEED_PATH, headers=headers)
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = _connection(self.base)
                self.errors.append(f"{type(error).__name__}: {error}")
                self._stop_event.wait(POLL_INTERVAL)
                continue
            seen_at = time.perf_counter()
            self.polls += 1
            self.poll_gaps_ms.append((seen_at - last) * 1000)
            last = seen_at
            if status == 200:
                self.changed += 1
                etag = response_headers.get("etag")
                new = 0
                for entry_id in _ENTRY_ID.findall(body.decode("utf-8")):
                    article_id = entry_id.rsplit(":", 1)[-1]
                    if article_id not in self.first_seen:
                        self.first_seen[article_id] = seen_at
                        new += 1
                self.most_new_in_one_poll = max(self.most_new_in_one_poll, new)
            elif status != 304:
                self.errors.append(f"GET {FEED_PATH} answered {status}")
            self._stop_event.wait(POLL_INTERVAL)
        connection.close()


@dataclass
class Run:
    submits: int
    errors: int
    statuses: Counter[str]
    error_samples: list[str]
    submit_p50: float
    submit_p99: float
    submit_max: float
    fresh_p50: float
    fresh_p95: float
    fresh_max: float
    fresh_count: int
    missed: int
    unpublished: int
    watcher_polls: int
    watcher_gap_p95: float
    most_new_in_one_poll: int
    seconds: float
    startup_s: float
    keys_note: str
    drain_s: float
    stack_cpu_share: float | None  # CPU seconds of the served process per second of load


def process_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process so far (Linux), None when unknown."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(stack: Stack, threads: int, seconds: float, pause: float) -> Run:
    keys, keys_note = editor_keys(stack, threads)
    pid = stack.process.pid if stack.process is not None else None
    maker = ArticleMaker()
    results = Results()
    watcher = FeedWatcher(stack.url)
    watcher.start()
    time.sleep(0.5)  # the watcher has the feed as it was before the first submit
    started = time.perf_counter()
    cpu_before = process_cpu_seconds(pid)
    deadline = started + seconds
    workers = [
        threading.Thread(
            target=reporter,
            args=(stack.url, keys[i], i, deadline, pause, maker, results),
            name=f"reporter-{i}",
        )
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    ended = time.perf_counter()
    cpu_after = process_cpu_seconds(pid)
    # Let the publisher catch up: every accepted article should reach the feed.
    drain_deadline = ended + DRAIN_SECONDS
    wanted = {item.article_id for item in results.submitted}
    while time.perf_counter() < drain_deadline and not wanted <= set(watcher.first_seen):
        time.sleep(0.1)
    drain_s = time.perf_counter() - ended
    watcher.stop()

    freshness = [
        max(0.0, (watcher.first_seen[item.article_id] - item.accepted) * 1000)
        for item in results.submitted
        if item.article_id in watcher.first_seen
    ]
    unseen = [item for item in results.submitted if item.article_id not in watcher.first_seen]
    missed = unpublished = 0
    connection = _connection(stack.url)
    for item in unseen:
        status, _, _ = _request(connection, "GET", urllib.parse.urlsplit(item.url).path)
        if status == 200:
            missed += 1
        else:
            unpublished += 1
    connection.close()
    errors = sum(count for status, count in results.statuses.items() if status != "201")
    errors += len(watcher.errors) + unpublished
    latencies = results.latencies_ms or [0.0]
    freshness_or_zero = freshness or [0.0]
    return Run(
        submits=len(results.latencies_ms),
        errors=errors,
        statuses=results.statuses,
        error_samples=(results.errors + watcher.errors)[:5],
        submit_p50=percentile(latencies, 0.50),
        submit_p99=percentile(latencies, 0.99),
        submit_max=max(latencies),
        fresh_p50=percentile(freshness_or_zero, 0.50),
        fresh_p95=percentile(freshness_or_zero, 0.95),
        fresh_max=max(freshness_or_zero),
        fresh_count=len(freshness),
        missed=missed,
        unpublished=unpublished,
        watcher_polls=watcher.polls,
        watcher_gap_p95=percentile(watcher.poll_gaps_ms or [0.0], 0.95),
        most_new_in_one_poll=watcher.most_new_in_one_poll,
        seconds=ended - started,
        startup_s=stack.startup_s,
        keys_note=keys_note,
        drain_s=drain_s,
        stack_cpu_share=(
            (cpu_after - cpu_before) / (ended - started)
            if cpu_before is not None and cpu_after is not None
            else None
        ),
    )


# -- report ----------------------------------------------------------------------------------

# Why the figures are what they are: from profiling the served stack under this load (py-spy on
# its process, and timing the publisher's invocations and the moto lock).
READING = (
    "Reading it. `presswire serve` is one Python process (one GIL) holding moto, the gateway and",
    "every function; the API serves one request at a time and the publisher one batch at a time,",
    "each as one Lambda execution environment would. With 20 clients and no think time the API",
    "runs flat out, so a submit waits for the others queued before it (submit p50 is about",
    "threads / submits per second), and the publisher shares the process's CPU with the API and",
    "moto. Sampling the GIL's holder under this load: about half the process's time is moto",
    "(werkzeug, Flask and the DynamoDB and S3 emulation), a quarter the API function, a fifth the",
    "publisher; a publisher batch spent about 85% of its wall time inside AWS calls, waiting for",
    "the CPU rather than working. A batch is at most 100 stream records (BatchSize counts records",
    "before the event filter, as on AWS): a submit writes about 12, so a batch carries about 8",
    "articles, and regenerates every listing they are in (home, their sections, authors and tags:",
    "a page, its month page and three feeds each). An article accepted during a batch waits for",
    "it and then for its own, so while the publisher keeps up freshness is one to two batch times",
    "(seconds). When the API's share of the one process leaves the publisher less time than the",
    "submits need, the publisher falls behind and freshness grows through the run, to tens of",
    "seconds by the end of the minute (see the line on the last entries above): the API answers",
    "faster when the machine is quiet, so a quiet run shows more submits a second and a larger",
    "backlog than a loaded one. Month pages and related articles (issue 7) raised a publish from",
    "47 to 72 AWS calls. On AWS the API scales out to one environment per concurrent request and",
    "the publisher has a CPU of its own, so neither waits for the other; locally, the functions",
    "would need processes of their own (and moto one too) for the publisher to keep up with 20",
    "reporters who never pause.",
    "",
    "What this benchmark found in the local stack, and what was changed (infra/local): the",
    "gateway listened with socketserver's backlog of 5, so 20 clients connecting at once were",
    "sometimes reset (the kernel's SYN cookies; ConnectionResetError): it now takes 128. An idle",
    "`presswire serve` used a third of a core: the stream poller described the stream on every",
    "50 ms pass and the queue poller polled every 50 ms. The stream poller now sleeps until moto",
    "reports a table write (1 s fallback) and describes the stream once a second; the queue poller",
    "backs off to 0.4 s while the queue is empty: idle, about 3% of a core. A conditional GET of a",
    "page or feed (the watcher's, a feed reader's) reads the object's metadata, not its body.",
)


def render(
    runs: list[Run],
    threads: int,
    seconds: float,
    pause: float,
    served: bool,
    load_before: str,
    load_after: str,
) -> str:
    rows: list[list[object]] = []
    for index, run in enumerate(runs, 1):
        rows.append(
            [
                f"run {index}",
                run.submits,
                f"{run.submits / run.seconds:.1f}",
                run.errors,
                f"{run.submit_p50:.0f}",
                f"{run.submit_p99:.0f}",
                f"{run.fresh_p50:.0f}",
                f"{run.fresh_p95:.0f}",
                f"{run.fresh_max:.0f}",
                run.missed,
            ]
        )
    if len(runs) > 1:
        rows.append(
            [
                f"**median of {len(runs)}**",
                f"{median([r.submits for r in runs]):.0f}",
                f"{median([r.submits / r.seconds for r in runs]):.1f}",
                f"{median([r.errors for r in runs]):.0f}",
                f"{median([r.submit_p50 for r in runs]):.0f}",
                f"{median([r.submit_p99 for r in runs]):.0f}",
                f"{median([r.fresh_p50 for r in runs]):.0f}",
                f"{median([r.fresh_p95 for r in runs]):.0f}",
                f"{median([r.fresh_max for r in runs]):.0f}",
                f"{median([r.missed for r in runs]):.0f}",
            ]
        )
    headers = [
        "",
        "submits",
        "per s",
        "errors",
        "submit p50 ms",
        "submit p99 ms",
        "fresh p50 ms",
        "fresh p95 ms",
        "fresh max ms",
        "missed",
    ]
    total_errors = sum(run.errors for run in runs)
    goal = median([r.fresh_p95 for r in runs]) < GOAL_P95_MS
    where = (
        "`presswire serve` as a subprocess (fresh temporary state directory per run; start-up "
        f"{median([r.startup_s for r in runs]):.1f} s, not included)"
        if served
        else "the stack at `--url`"
    )
    statuses = Counter[str]()
    for run in runs:
        statuses.update(run.statuses)
    lines = [
        "## Local stack under load",
        "",
        f"Measured {today()} on {machine()}; load average (1, 5, 15 min) before the runs",
        f"{load_before}, after {load_after} (the load stack's own share included; above 1 before the",
        "runs, other jobs shared the 2 cores): read these as orders of magnitude.",
        "Command: `.venv/bin/python bench/load.py [--seconds 60] [--threads 20] [--runs 5] [--pause S]",
        "[--url URL --key KEY] [--write-docs]`.",
        f"{threads} threads for {seconds:.0f} s per run, {len(runs)} run(s), against {where}.",
        f"Keys: {runs[0].keys_note}: reporters only file drafts (an editor publishes), and only an",
        "admin key may create keys (the admin key itself comes from `presswire keys create`).",
        "Each thread submits the seed article's text with its own title, section and tags and an",
        "Idempotency-Key, and waits for each answer before sending the next "
        + (
            f"(then {pause:.0f} s of think time)."
            if pause
            else "(no think time: as fast as the stack answers)."
        ),
        "Freshness: 201 received -> first GET /feeds/atom.xml (polled every 50 ms with",
        "If-None-Match) that holds the entry. Percentiles are nearest-rank, per run; the last row is",
        "the median of the runs' figures. `missed`: published (page there) but never seen in the feed",
        "by the watcher (the feed keeps the newest 50; see the script's docstring).",
        "",
        table(headers, rows),
        "",
        f"- Errors (any answer but 201, connection errors, timeouts, unpublished articles): "
        f"{total_errors} in {sum(r.submits for r in runs)} submits; answers: "
        + ", ".join(f"{count} x {status}" for status, count in sorted(statuses.items()))
        + ".",
        f"- Freshness goal p95 < {GOAL_P95_MS:.0f} ms: {'met' if goal else 'NOT met'} "
        "(median of the runs' p95).",
        *(
            [
                "- CPU of the `presswire serve` process during the load, per run (1.00 = one core): "
                + ", ".join(f"{r.stack_cpu_share:.2f}" for r in runs if r.stack_cpu_share is not None)
                + "."
            ]
            if any(r.stack_cpu_share is not None for r in runs)
            else []
        ),
        f"- Submit max per run (ms): {', '.join(f'{r.submit_max:.0f}' for r in runs)}; "
        f"after the load the last entries reached the feed within "
        f"{', '.join(f'{r.drain_s:.1f}' for r in runs)} s.",
        f"- Watcher: poll gap p95 {median([r.watcher_gap_p95 for r in runs]):.0f} ms; at most "
        f"{max(r.most_new_in_one_poll for r in runs)} new entries in one poll (the feed holds 50).",
    ]
    for index, run in enumerate(runs, 1):
        for sample in run.error_samples:
            lines.append(f"- run {index} error: `{sample[:200]}`")
    lines += ["", *READING]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--pause", type=float, default=0.0, help="seconds each thread waits after an answer (default: none)"
    )
    parser.add_argument("--url", help="an already running local stack (http://127.0.0.1:PORT)")
    parser.add_argument("--key", help="with --url: an admin key (or an editor key, shared by the threads)")
    parser.add_argument("--keep-output", action="store_true", help="print the served stack's log at the end")
    parser.add_argument("--write-docs", action="store_true", help="refresh docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.url and not args.key:
        parser.error("--url needs --key")
    load_before = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    runs: list[Run] = []
    for index in range(args.runs):
        if args.url:
            stack = Stack(url=args.url.rstrip("/"), admin_key=args.key, editor_key=None)
            runs.append(one_run(stack, args.threads, args.seconds, args.pause))
        else:
            with tempfile.TemporaryDirectory(prefix="presswire-load-") as state:
                stack = start_stack(Path(state))
                try:
                    runs.append(one_run(stack, args.threads, args.seconds, args.pause))
                finally:
                    stack.stop()
                    if args.keep_output:
                        print("".join(stack.output[-200:]))
        run = runs[-1]
        print(
            f"run {index + 1}: {run.submits} submits, {run.errors} errors, submit p50/p99 "
            f"{run.submit_p50:.0f}/{run.submit_p99:.0f} ms, fresh p50/p95 {run.fresh_p50:.0f}/"
            f"{run.fresh_p95:.0f} ms, missed {run.missed}",
            flush=True,
        )
    load_after = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    section = render(runs, args.threads, args.seconds, args.pause, not args.url, load_before, load_after)
    print(section)
    if args.write_docs:
        print(f"\nwrote {write_own_section('load', section)}")
    return 0 if all(run.errors == 0 for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
