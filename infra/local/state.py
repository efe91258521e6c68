"""Where a running `presswire serve` tells other commands how to reach it (no moto imports)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STACK_FILE = "stack.json"


def running_stack(state_dir: Path) -> dict[str, Any] | None:
    """What the running `presswire serve` of this state directory wrote to stack.json, or None."""
    path = state_dir / STACK_FILE
    if not path.exists():
        return None
    info = json.loads(path.read_text(encoding="utf-8"))
    try:
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return dict(info)
