"""Start the real local stack (`presswire serve`) as a subprocess on a free port."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from infra.local.aws import free_port
from tests.conftest import REPO_ROOT, SEED_DIR

pytestmark = pytest.mark.e2e

# `presswire serve` gives its workers 15 s to stop; a loaded 2-core machine may stretch that.
STOP_TIMEOUT_SECONDS = 60


@dataclass
class ServedStack:
    process: subprocess.Popen[str]
    url: str
    state_dir: Path
    output: list[str] = field(default_factory=list)

    @property
    def api(self) -> str:
        return self.url + "/api"

    @property
    def key(self) -> str:
        return (self.state_dir / "bootstrap-key").read_text(encoding="utf-8").strip()

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; its exit code, or the kill's if it hangs (a test
        that needs a clean stop asserts 0)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def _environment() -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "POWERTOOLS_"))
        and name not in {"CONTENT_BUCKET", "SITE_BUCKET", "TABLE_NAME", "SITE_URL"}
    }
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


def start_stack(state_dir: Path, port: int | None = None, *extra_args: str) -> ServedStack:
    port = port or free_port()
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
            str(SEED_DIR / "seed-site.json"),
            *extra_args,
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_environment(),
    )
    stack = ServedStack(process=process, url=f"http://127.0.0.1:{port}", state_dir=state_dir)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            stack.output.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if process.poll() is not None:
                raise RuntimeError("presswire serve exited:\n" + "".join(stack.output)) from None
            continue
        if line.strip().startswith("site:"):
            return stack
    process.kill()
    raise RuntimeError("presswire serve did not start:\n" + "".join(stack.output))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedStack]:
    stack = start_stack(tmp_path / "state")
    yield stack
    if stack.process.poll() is None:
        stack.stop()


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
