"""The storage layer, built once per process from settings."""

from __future__ import annotations

from functools import lru_cache

from functions.config import get_settings
from functions.dal.aws import AwsStorage


@lru_cache(maxsize=1)
def get_storage() -> AwsStorage:
    settings = get_settings()
    return AwsStorage(
        table_name=settings.table_name,
        content_bucket=settings.content_bucket,
        site_bucket=settings.site_bucket,
        notify_queue_url=settings.notify_queue_url,
    )
