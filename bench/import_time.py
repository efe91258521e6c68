"""Fresh-process import time of each Lambda handler, as a ratio of `import boto3`.

Each sample is the wall clock of `python -c "import X"` minus that of a bare `python -c pass`
measured right next to it; the candidates are interleaved (round-robin, order rotated each round)
so drift on a shared machine hits all of them alike. Reports medians and same-run ratios, and the
heaviest cumulative entries of `python -X importtime` for each handler.

    .venv/bin/python bench/import_time.py [--runs 15] [--write-docs]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, machine, median, table, today, write_section

BASELINE = "pass"
CANDIDATES: dict[str, str] = {
    "import boto3": "import boto3",
    "import functions.handlers.api": "import functions.handlers.api",
    "import functions.handlers.publisher": "import functions.handlers.publisher",
}
HANDLERS = ("functions.handlers.api", "functions.handlers.publisher")
TOP = 12


def child_environment() -> dict[str, str]:
    """The handlers validate their settings at import; any valid values do."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(
        {
            "CONTENT_BUCKET": "bench-content",
            "SITE_BUCKET": "bench-site",
            "TABLE_NAME": "bench-articles",
            "SITE_URL": "https://news.example.com",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }
    )
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_once(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True)
    return time.perf_counter() - started


@dataclass
class Result:
    label: str
    samples_ms: list[float]  # each: candidate minus the baseline run next to it
    ratios: list[float]  # each: candidate / boto3, same round

    @property
    def median_ms(self) -> float:
        return median(self.samples_ms)


def measure(runs: int) -> tuple[dict[str, Result], list[float]]:
    env = child_environment()
    # Warm the OS page cache and __pycache__ once, so the first round is not an outlier.
    for code in [BASELINE, *CANDIDATES.values()]:
        run_once(code, env)
    labels = list(CANDIDATES)
    net: dict[str, list[float]] = {label: [] for label in labels}
    baselines: list[float] = []
    ratios: dict[str, list[float]] = {label: [] for label in labels}
    for round_index in range(runs):
        order = labels[round_index % len(labels) :] + labels[: round_index % len(labels)]
        this_round: dict[str, float] = {}
        for label in order:
            base = run_once(BASELINE, env)
            baselines.append(base * 1000)
            this_round[label] = (run_once(CANDIDATES[label], env) - base) * 1000
        for label in labels:
            net[label].append(this_round[label])
            ratios[label].append(this_round[label] / this_round["import boto3"])
    return {label: Result(label, net[label], ratios[label]) for label in labels}, baselines


def importtime_top(
    module: str, env: dict[str, str], top: int = TOP
) -> tuple[list[tuple[int, int, str]], int]:
    """(cumulative us, self us, module) of the heaviest entries, and the total cumulative us."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    entries: list[tuple[int, int, str]] = []
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line[len("import time:") :].split("|", 2))
        entries.append((int(cumulative_us), int(self_us), name.rstrip()))
    total = next((cum for cum, _, name in entries if name.strip() == module), 0)
    entries.sort(key=lambda entry: entry[0], reverse=True)
    return entries[:top], total


def render(results: dict[str, Result], baselines: list[float], runs: int, tops: dict[str, str]) -> str:
    rows = []
    for label, result in results.items():
        ratio = "1.00 (reference)" if label == "import boto3" else f"{median(result.ratios):.2f}x"
        rows.append(
            [
                f"`{label}`",
                f"{result.median_ms:.0f}",
                f"{min(result.samples_ms):.0f}",
                f"{max(result.samples_ms):.0f}",
                ratio,
            ]
        )
    summary = table(["Statement", "median ms", "min ms", "max ms", "ratio to boto3 (median)"], rows)
    lines = [
        "## Import time (cold start)",
        "",
        f"Measured {today()} on {machine()}; {runs} interleaved rounds; each sample is a fresh",
        f'`python -c "import X"` minus a bare `python -c pass` run next to it (baseline median '
        f"{median(baselines):.0f} ms). The ratio is the median of per-round ratios.",
        "",
        summary,
        "",
    ]
    for module, block in tops.items():
        lines += [
            f'Top {TOP} cumulative entries of `python -X importtime -c "import {module}"`:',
            "",
            block,
            "",
        ]
    return "\n".join(lines)


def render_top(entries: list[tuple[int, int, str]], total: int) -> str:
    rows = [
        [f"`{name.strip()}`", f"{cumulative / 1000:.1f}", f"{self_us / 1000:.1f}"]
        for cumulative, self_us, name in entries
    ]
    note = f"(single run, one process, total for the handler {total / 1000:.0f} ms; nested entries overlap)"
    return table(["module", "cumulative ms", "self ms"], rows) + "\n\n" + note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="interleaved rounds (at least 9)")
    parser.add_argument("--write-docs", action="store_true", help="refresh docs/benchmarks.md")
    args = parser.parse_args(argv)
    runs = max(9, args.runs)
    results, baselines = measure(runs)
    env = child_environment()
    tops = {module: render_top(*importtime_top(module, env)) for module in HANDLERS}
    section = render(results, baselines, runs, tops)
    print(section)
    if args.write_docs:
        print(f"\nwrote {write_section('import_time', section)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
