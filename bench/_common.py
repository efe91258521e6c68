"""Shared by the benchmark scripts: statistics, tables, the machine line, docs/benchmarks.md sections."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "benchmarks.md"
SECTIONS = ("import_time", "aws_calls", "submit_to_feed")

HEADER = """# Benchmarks

Numbers measured on a shared, noisy machine: read them as orders of magnitude and as ratios
measured in the same run, never as guarantees. Every figure is a median of repeated runs unless
marked otherwise. No test asserts any of these timings.

Machine: {machine}
Last header refresh: {date}

How to run (from the repository root; each prints a table, `--write-docs` also refreshes its
section below):

- Import time: `.venv/bin/python bench/import_time.py [--runs 15] [--write-docs] [--compare DIR]`
  (each handler's fresh-process import, and import + first request, as a ratio of `import boto3`)
- AWS calls: `.venv/bin/python bench/aws_calls.py [--write-docs]`
  (AWS API calls made by one submit and by its publish, cold and warm, under moto)
- Submit to feed: `.venv/bin/python bench/submit_to_feed.py [--runs 20] [--write-docs]`
  (POST /api/articles until the entry shows in /feeds/atom.xml, on the in-process local stack)
- Publish cost: `.venv/bin/python bench/publish_cost.py [--write-docs]`
  (AWS calls and time of one publish into archives of 10, 1,000 and 10,000 articles, under moto)
- Feed regeneration: `.venv/bin/python bench/feed_regeneration.py [--runs 15] [--write-docs]`
  (one 50-entry feed set, RSS + Atom + JSON Feed, against feedgen alone on the same entries)
- Full rebuild: `.venv/bin/python bench/rebuild_vs_hugo.py [--articles 10000] [--runs 3] [--workers 2]
  [--profile] [--write-docs]` (`presswire rebuild --out` against Hugo on the same synthetic corpus,
  seeded into moto in bulk first; needs Debian's `hugo`)
- Local stack under load: `.venv/bin/python bench/load.py [--seconds 60] [--runs 5] [--write-docs]`
  (20 editors submitting against `presswire serve`: errors, submit latency, 201 -> Atom feed)
- Memory: `.venv/bin/python bench/memory.py [--articles 1000] [--json PATH] [--write-docs]`
  (peak RSS of each handler on its workload, each in a fresh process, moto in another; MemorySize)
- Cost: `.venv/bin/python bench/cost.py [--memory-json PATH] [--write-docs]`
  (AWS request cost of 10,000 articles a month at list prices, from counted calls and bench/memory.py)

"""


REGION = "us-east-1"


def fake_aws_environment(**extra: str) -> None:
    """Credentials and region for moto, and nothing that could reach a real account."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            **extra,
        }
    )


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}, "
        f"Python {platform.python_version()} ({sys.platform})"
    )


def today() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: with 20 samples p90 is the 18th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-int(fraction * 100) * len(ordered) // 100)))
    return ordered[rank - 1]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None) -> str:
    """A Markdown table (also readable on a terminal). align: one of 'l'/'r' per column."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)

    def line(row: Sequence[str]) -> str:
        padded = [
            cell.ljust(widths[i]) if align[i] == "l" else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        ("-" * (w + 1) + ":" if align[i] == "r" else "-" * (w + 2)) for i, w in enumerate(widths)
    )
    return "\n".join([line(cells[0]), rule + "|", *(line(row) for row in cells[1:])])


def write_section(name: str, body: str) -> Path:
    """Replace the text between <!-- bench:NAME --> and <!-- /bench:NAME --> in docs/benchmarks.md
    (creating the file or appending the section when missing) and refresh the header."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    header = HEADER.format(machine=machine(), date=today())
    first_marker = text.find("<!-- bench:")
    rest = text[first_marker:] if first_marker >= 0 else ""
    # Every section has its place (in SECTIONS order) even before it is first measured.
    for section in (*SECTIONS, name):
        if f"<!-- bench:{section} -->" not in rest:
            placeholder = f"<!-- bench:{section} -->\n_Not measured yet._\n<!-- /bench:{section} -->"
            rest = (rest.rstrip() + "\n\n" if rest.strip() else "") + placeholder
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    rest = pattern.sub(lambda _: f"{start}\n{body.strip()}\n{end}", rest, count=1)
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(header + rest.rstrip() + "\n", encoding="utf-8")
    return DOCS
