"""The one Logger, Tracer and Metrics of the service (configured by POWERTOOLS_* variables)."""

from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from functions.config import get_settings


class ReadableFormatter(LambdaPowertoolsFormatter):
    """One human line per record, for `presswire serve`; Lambda keeps structured JSON."""

    _SKIP = frozenset(
        {
            "level",
            "location",
            "message",
            "timestamp",
            "service",
            "xray_trace_id",
            "function_arn",
            "function_memory_size",
            "function_request_id",
            "cold_start",
        }
    )

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = json.loads(super().format(record))
        extras = " ".join(f"{key}={value}" for key, value in fields.items() if key not in self._SKIP)
        time = fields.get("timestamp", "")[11:23]
        return f"{time} {fields.get('level', ''):<7} {fields.get('message', '')}  {extras}".rstrip()


def _make_logger() -> Logger:
    if get_settings().log_format == "text":
        return Logger(logger_formatter=ReadableFormatter())
    return Logger()


logger = _make_logger()
tracer = Tracer()
metrics = Metrics()
