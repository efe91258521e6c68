"""The one source of "now", so tests can drive time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
