"""EventBridge schedules, as `presswire serve` runs them: the handler on a timer."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from infra.cfn import resources_of_type
from infra.local.lambda_runtime import Handler, invoke

log = logging.getLogger("presswire.local.schedule")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours)\)$")


def schedule_seconds(template: dict[str, Any], function_logical_id: str) -> float:
    """The period of the function's Schedule event in template.yaml (rate expressions only)."""
    function = resources_of_type(template, "AWS::Serverless::Function")[function_logical_id]
    for event in (function.get("Events") or {}).values():
        if event.get("Type") in {"Schedule", "ScheduleV2"}:
            match = _RATE.match(
                event["Properties"]["Schedule" if event["Type"] == "Schedule" else "ScheduleExpression"]
            )
            if match:
                return int(match.group(1)) * (3600 if match.group(2).startswith("hour") else 60)
    raise ValueError(f"{function_logical_id} has no rate() schedule in template.yaml")


def scheduled_event(now: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/local"],
        "detail": {},
    }


class ScheduleRunner:
    def __init__(self, handler: Handler, function_name: str, every_seconds: float) -> None:
        self._handler = handler
        self._function_name = function_name
        self._every = every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"schedule-{function_name}", daemon=True)

    def start(self) -> ScheduleRunner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def run_once(self) -> Any:
        return invoke(self._handler, self._function_name, scheduled_event(datetime.now(UTC)))

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self.run_once()
            except Exception:  # a failed run is retried at the next tick, as EventBridge would
                log.exception("%s failed", self._function_name)
