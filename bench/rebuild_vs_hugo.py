"""Full rebuild: `presswire rebuild --out DIR` against Hugo building the same articles, same run.

The corpus is bench/corpus.py's (synthetic Vietnamese articles, deterministic). presswire's copy
is stored through the storage layer into moto, served over HTTP on 127.0.0.1 by this process (as
`presswire serve` serves its own; a stack.json in a scratch state directory points the command at
it); Hugo's copy is Markdown with front matter, built with bench/hugo_site (article pages, home,
section, tag and author pages with an RSS feed each, a sitemap). Each round runs both, in
alternating order, into emptied output directories; each time is the wall clock of the whole
command (process start included). Pages are the HTML files each one wrote; pages/s is pages over
the median time. `--profile` adds a cProfile of one shard and of the final step, in this process.

    .venv/bin/python bench/rebuild_vs_hugo.py [--articles 10000] [--runs 3] [--workers 2]
        [--profile] [--write-docs]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from _common import REPO, machine, median, table, today
from _section import write_own_section

HUGO_SITE = REPO / "bench" / "hugo_site"
PRESSWIRE = REPO / ".venv" / "bin" / "presswire"
SITE_URL = "https://news.example.vn"
PROFILE_LINES = 40
QUIET = {
    "LOG_FORMAT": "text",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def hugo_version() -> str | None:
    hugo = shutil.which("hugo")
    if hugo is None:
        return None
    answer = subprocess.run([hugo, "version"], capture_output=True, text=True, check=False)
    return answer.stdout.strip().split(" BuildDate")[0] or "hugo"


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def start_presswire(articles: list[corpus.CorpusArticle], state_dir: Path) -> tuple[Any, Any, Any, float]:
    """moto over HTTP with template.yaml's resources, the corpus seeded, and a stack.json that
    makes `presswire rebuild --state-dir` use them."""
    from functions.config import ENVIRONMENT_VARIABLES
    from infra.cfn import resolved_environment
    from infra.local.aws import LocalAws
    from infra.local.reconcile import connect

    local = LocalAws(state_dir=None).start()
    environment = resolved_environment(
        local.template,
        local.names,
        {"SiteUrl": SITE_URL, "SiteName": "Cổng thông tin quận Ô Môn", "FeedIdAuthority": "news.example.vn"},
    )
    running = {
        "pid": os.getpid(),
        "aws_endpoint": local.endpoint_url,
        "environment": {name: environment[name] for name in ENVIRONMENT_VARIABLES if name in environment},
    }
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "stack.json").write_text(json.dumps(running), encoding="utf-8")
    storage, site = connect(running)
    started = time.perf_counter()
    corpus.seed_presswire(articles, site, storage, log)
    seeded = time.perf_counter() - started
    log(f"seeded {len(articles)} articles into moto in {seeded:.0f} s")
    return local, storage, site, seeded


def pages_in(directory: Path) -> tuple[int, int]:
    files = [path for path in directory.rglob("*") if path.is_file()]
    return sum(1 for path in files if path.suffix == ".html"), len(files)


def run_hugo(content: Path, public: Path) -> float:
    shutil.rmtree(public, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [
            "hugo",
            "--quiet",
            "--source",
            str(HUGO_SITE),
            "--contentDir",
            str(content),
            "--destination",
            str(public),
        ],
        check=True,
        # Its resource cache goes next to the output, not into bench/hugo_site.
        env={**os.environ, "HUGO_RESOURCEDIR": str(public.parent / "hugo-resources")},
    )
    return time.perf_counter() - started


def run_presswire(state_dir: Path, out: Path, workers: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, **QUIET}
    started = time.perf_counter()
    subprocess.run(
        [
            str(PRESSWIRE),
            "rebuild",
            "--state-dir",
            str(state_dir),
            "--out",
            str(out),
            "--workers",
            str(workers),
            "--restart",
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def profile_one_shard(storage: Any, site: Any, scratch: Path) -> str:
    """cProfile of what one worker does for a shard of 500 (with the command's archive snapshot)
    and of the final step, in this process (moto answering over HTTP from its own thread)."""
    from functions.logic.rebuild import (
        DirectorySink,
        RebuildPlan,
        archive_snapshot,
        finish_rebuild,
        render_shard,
    )

    plan = RebuildPlan(run="profile", last_sequence=storage.last_sequence())
    sink = DirectorySink(scratch / "profile")
    text = io.StringIO()
    started = time.perf_counter()
    snapshot = archive_snapshot(plan, storage)
    text.write(f"archive snapshot: {len(snapshot)} records in {time.perf_counter() - started:.1f} s\n")

    def profiled(name: str, call: Callable[[], Any]) -> Any:
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        answer = call()
        profiler.disable()
        text.write(f"\n{name}: {time.perf_counter() - started:.1f} s\n")
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(PROFILE_LINES)
        return answer

    shard = profiled("one shard", lambda: render_shard(plan, plan.shards[0], storage, site, sink, snapshot))
    profiled(
        "final step (that shard's listings)",
        lambda: finish_rebuild(plan, [shard], storage, site, sink, snapshot=snapshot),
    )
    return text.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    version = hugo_version()
    if version is None:
        print(
            "rebuild_vs_hugo: `hugo` is not installed; install it "
            "(Debian: apt-get install -y hugo) and run again",
            file=sys.stderr,
        )
        return 2
    articles = corpus.generate(args.articles)
    with tempfile.TemporaryDirectory(prefix="presswire-bench-") as scratch_name:
        scratch = Path(scratch_name)
        corpus.write_hugo_content(articles, scratch / "content")
        local, storage, site, seeded = start_presswire(articles, scratch / "state")
        times: dict[str, list[float]] = {"hugo": [], "presswire": []}
        counts: dict[str, tuple[int, int]] = {}
        loads = [load_average()]
        try:
            for number in range(args.runs):
                order = ["hugo", "presswire"] if number % 2 == 0 else ["presswire", "hugo"]
                for tool in order:
                    if tool == "hugo":
                        times[tool].append(run_hugo(scratch / "content", scratch / "public"))
                        counts[tool] = pages_in(scratch / "public")
                    else:
                        times[tool].append(run_presswire(scratch / "state", scratch / "out", args.workers))
                        counts[tool] = pages_in(scratch / "out")
                    log(f"run {number + 1}: {tool} {times[tool][-1]:.1f} s (load {load_average()})")
                loads.append(load_average())
            profile = profile_one_shard(storage, site, scratch) if args.profile else ""
        finally:
            local.stop()
    section = render(args, version, times, counts, seeded, loads)
    print(section)
    if profile:
        print(profile)
    if args.write_docs:
        print(f"\nwrote {write_own_section('rebuild', section)}")
    return 0


def render(
    args: argparse.Namespace,
    version: str,
    times: dict[str, list[float]],
    counts: dict[str, tuple[int, int]],
    seeded: float,
    loads: list[str],
) -> str:
    rates = {tool: counts[tool][0] / median(times[tool]) for tool in times}
    rows = [
        [
            label,
            f"{counts[tool][0]:,}",
            f"{counts[tool][1]:,}",
            f"{median(times[tool]):.1f}",
            f"{min(times[tool]):.1f}",
            f"{max(times[tool]):.1f}",
            f"{rates[tool]:,.0f}",
        ]
        for tool, label in (
            ("hugo", f"Hugo ({version})"),
            ("presswire", f"`presswire rebuild --out` ({args.workers} workers)"),
        )
    ]
    ratio = rates["presswire"] / rates["hugo"]
    return "\n".join(
        [
            "## Full rebuild against Hugo",
            "",
            f"Measured {today()} on {machine()}; {args.articles:,} synthetic Vietnamese articles "
            f"(bench/corpus.py), {args.runs} rounds, both tools in each round in alternating order; "
            "times are wall clock of the whole command, medians.",
            "Run: `.venv/bin/python bench/rebuild_vs_hugo.py [--articles 10000] [--runs 3] [--workers 2] "
            "[--profile] [--write-docs]` (needs `hugo`, Debian package `hugo`).",
            "",
            table(["Build", "HTML pages", "files", "median s", "min s", "max s", "pages/s"], rows),
            "",
            f"presswire / Hugo, pages per second: **{ratio:.2f}x** (goal: 1.5x).",
            "",
            f"Load average (1, 5, 15 min) before the rounds and after each: {'; '.join(loads)} "
            "(the 2 CPUs are shared with other engineers' runs). Seeding the corpus into moto (not "
            f"timed above): {seeded:.0f} s.",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
