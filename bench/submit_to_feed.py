"""Submit-to-feed latency on the local stack: POST /api/articles -> the entry is in /feeds/atom.xml.

Starts `LocalStack` in this process on a free port with a temporary state directory, then, for
each run (after the warm-up runs, which are not counted): POSTs a new article (the seed article's
text without its images and without `published_at`, so it is published now; the title carries a
counter), notes when the 201 arrives, and polls GET /feeds/atom.xml every 50 ms until an entry
whose <id> ends with the new article's id appears. Uses urllib only.

The client, the gateway, the API handler, the stream poller (which polls every 50 ms) and moto
all share this one process and its GIL, so the figures include that contention.

    .venv/bin/python bench/submit_to_feed.py [--runs 20] [--warmup 2] [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import tempfile
import time
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, machine, median, percentile, table, today, write_section

SEED = REPO / "examples" / "seed" / "seed-article.json"
SITE = REPO / "examples" / "seed" / "seed-site.json"
POLL_INTERVAL = 0.050
GAP_SECONDS = 1.5
TIMEOUT = 60.0
_FIGURE = re.compile(r"<figure\b.*?</figure>\s*", re.DOTALL | re.IGNORECASE)


@dataclass
class Sample:
    submit_ms: float  # request sent -> 201 received
    visible_ms: float  # 201 received -> first feed response that holds the entry
    polls: int


def article_payload(counter: int) -> bytes:
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    article = {key: value for key, value in seed.items() if key != "published_at"}
    article["title"] = f"{seed['title']} #{counter}"
    article["body"] = _FIGURE.sub("", seed["body"])
    return json.dumps(article, ensure_ascii=False).encode("utf-8")


def submit(api: str, key: str, payload: bytes) -> str:
    request = urllib.request.Request(
        f"{api}/articles",
        data=payload,
        method="POST",
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        if response.status != 201:
            raise RuntimeError(f"POST /api/articles answered {response.status}")
        return str(json.loads(response.read())["id"])


def feed_has(url: str, article_id: str) -> bool:
    with urllib.request.urlopen(url, timeout=30) as response:
        text = response.read().decode("utf-8")
    return re.search(r"<id>[^<]*" + re.escape(article_id) + r"</id>", text) is not None


def one_run(base: str, key: str, counter: int) -> Sample:
    payload = article_payload(counter)
    sent = time.perf_counter()
    article_id = submit(base + "/api", key, payload)
    accepted = time.perf_counter()
    polls = 0
    while True:
        polls += 1
        if feed_has(base + "/feeds/atom.xml", article_id):
            seen = time.perf_counter()
            break
        if time.perf_counter() - accepted > TIMEOUT:
            raise RuntimeError(f"article {article_id} not in the feed after {TIMEOUT:.0f} s")
        time.sleep(POLL_INTERVAL)
    return Sample((accepted - sent) * 1000, (seen - accepted) * 1000, polls)


def measure(runs: int, warmup: int) -> tuple[list[Sample], float]:
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    from infra.local.stack import LocalStack, load_site_overrides

    # Powertools warns on every invocation that publishes no metric; not what is measured here.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    with tempfile.TemporaryDirectory(prefix="presswire-bench-") as state:
        started = time.perf_counter()
        stack = LocalStack(state_dir=Path(state), port=0, site_overrides=load_site_overrides(SITE)).start()
        startup_s = time.perf_counter() - started
        # The handlers log every request at INFO; keep the terminal for the results.
        logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "presswire")).setLevel(logging.WARNING)
        try:
            assert stack.bootstrap_key is not None
            samples = []
            for index in range(warmup + runs):
                # Let the previous publish finish its tail (other listings, archive, sitemaps) so
                # each run measures one submit's way to the feed, not a queue behind the last one.
                time.sleep(GAP_SECONDS)
                samples.append(one_run(stack.url, stack.bootstrap_key, index))
        finally:
            stack.stop()
    return samples[warmup:], startup_s


def render(samples: list[Sample], startup_s: float, warmup: int) -> str:
    visible = [sample.visible_ms for sample in samples]
    submits = [sample.submit_ms for sample in samples]
    end_to_end = [sample.submit_ms + sample.visible_ms for sample in samples]
    rows = [
        [
            "201 -> entry in /feeds/atom.xml",
            f"{median(visible):.0f}",
            f"{percentile(visible, 0.9):.0f}",
            f"{max(visible):.0f}",
        ],
        [
            "POST /api/articles -> 201 (submit latency)",
            f"{median(submits):.0f}",
            f"{percentile(submits, 0.9):.0f}",
            f"{max(submits):.0f}",
        ],
        [
            "POST sent -> entry in feed (end to end)",
            f"{median(end_to_end):.0f}",
            f"{percentile(end_to_end, 0.9):.0f}",
            f"{max(end_to_end):.0f}",
        ],
    ]
    polls = [sample.polls for sample in samples]
    half = max(1, len(samples) // 2)
    lines = [
        "## Submit to feed (local stack)",
        "",
        f"Measured {today()} on {machine()}.",
        f"`LocalStack` in-process (moto, stream poller every 50 ms), {len(samples)} runs after",
        f"{warmup} warm-up runs, {GAP_SECONDS} s apart; feed polled every {POLL_INTERVAL * 1000:.0f} ms; "
        "p90 is nearest-rank.",
        f"Stack start-up took {startup_s:.1f} s (not included). Feed polls per run: median",
        f"{median(polls):.0f}, max {max(polls)}. Client, gateway, handlers, poller and moto share one",
        "process (and its GIL).",
        f"Trend: 201 -> feed median of the first half of the runs {median(visible[:half]):.0f} ms,",
        f"of the second half {median(visible[half:]):.0f} ms (each publish re-renders the home page and",
        "feeds from every listed article, up to FEED_SIZE, so the figure depends on how many exist).",
        "",
        table(["interval (ms)", "median", "p90", "max"], rows),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--write-docs", action="store_true", help="refresh docs/benchmarks.md")
    args = parser.parse_args(argv)
    samples, startup_s = measure(args.runs, args.warmup)
    section = render(samples, startup_s, args.warmup)
    print(section)
    if args.write_docs:
        print(f"\nwrote {write_section('submit_to_feed', section)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
