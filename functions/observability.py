"""The one Logger, Tracer and Metrics of the service (configured by POWERTOOLS_* variables)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Generator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.shared.functions import strtobool
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

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


class _Untraced(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class NoTracing(BaseProvider):
    """The provider of a disabled Tracer. Powertools' default provider is the X-Ray recorder, and
    importing it costs a cold start about as much as boto3 (outside Lambda it even builds a
    botocore X-Ray client), though a disabled Tracer never sends anything."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _Untraced()

    @asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> Any:
        yield _Untraced()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def tracing_enabled(environ: Mapping[str, str]) -> bool:
    """Powertools' own rule (Tracer._is_tracer_disabled), applied before any Tracer exists since
    Powertools imports the X-Ray recorder first and decides after: on in Lambda unless
    POWERTOOLS_TRACE_DISABLED is true; off outside Lambda, under `sam local` and Chalice."""
    if strtobool(environ.get("POWERTOOLS_TRACE_DISABLED", "false")):
        return False
    in_lambda = bool(environ.get("LAMBDA_TASK_ROOT"))
    return in_lambda and not (environ.get("AWS_SAM_LOCAL") or environ.get("AWS_CHALICE_CLI_MODE"))


def _make_tracer() -> Tracer:
    if not tracing_enabled(os.environ):
        return Tracer(disabled=True, provider=NoTracing())
    # boto3 is the only client of ours X-Ray can trace (webhooks go through http.client, which
    # patch_all leaves alone); patch_all would also import and patch requests and sqlite3.
    return Tracer(patch_modules=["botocore"])


logger = _make_logger()
tracer = _make_tracer()
metrics = Metrics()
