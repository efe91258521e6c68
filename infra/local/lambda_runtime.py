"""Invoke a handler in-process the way Lambda would: a context object and a JSON round trip."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalContext:
    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 30
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


# One execution environment per function: a Lambda environment serves one event at a time, and the
# handlers rely on it (Powertools' resolver keeps the current event and its routing context on the
# app, shared by every thread of this process). Reentrant, so a test may call a function from
# inside that function's own call.
_ENVIRONMENTS: dict[str, threading.RLock] = {}
_ENVIRONMENTS_GUARD = threading.Lock()


def _environment(function_name: str) -> threading.RLock:
    with _ENVIRONMENTS_GUARD:
        return _ENVIRONMENTS.setdefault(function_name, threading.RLock())


def invoke(handler: Handler, function_name: str, event: dict[str, Any]) -> Any:
    with _environment(function_name):
        return _invoke(handler, function_name, event)


def _invoke(handler: Handler, function_name: str, event: dict[str, Any]) -> Any:
    # Lambda delivers the event as JSON and serializes the result as JSON: do the same, so a
    # handler that returns something Lambda could not send back fails here too.
    payload = json.loads(json.dumps(event))
    return json.loads(json.dumps(handler(payload, LocalContext(function_name=function_name))))
