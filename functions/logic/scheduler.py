"""Publish the scheduled articles whose time has come (run every minute by the scheduler)."""

from __future__ import annotations

from datetime import datetime

from functions.dal.protocol import ArticleStore
from functions.logic.commits import commit_change
from functions.logic.listings import HOME
from functions.models.errors import PreconditionFailed
from functions.models.keys import ApiKeyRecord
from functions.observability import logger

SCHEDULER = ApiKeyRecord(
    key_id="scheduler", key_hash="-", role="editor", name="scheduler", created_at=datetime(2000, 1, 1)
)
BATCH = 100


def publish_due(store: ArticleStore, now: datetime) -> list[str]:
    """Ids of the articles published in this run. Idempotent: a second run finds nothing due."""
    published: list[str] = []
    cursor: str | None = None
    while True:
        due, cursor = store.list_listing(HOME.id, "scheduled", BATCH, cursor, published_before=now)
        for candidate in due:
            # The index lags the table: re-read the item itself before acting on it.
            record = store.get_record(candidate.id)
            if record is None or record.status != "scheduled" or record.published_at > now:
                continue
            current = store.get_canonical(record)
            updated = current.model_copy(update={"status": "published", "updated_at": record.published_at})
            try:
                commit_change(store, SCHEDULER, record, current, updated, "publish", None, now)
            except PreconditionFailed:
                logger.info(
                    "scheduled article changed meanwhile; next run retries", extra={"article_id": record.id}
                )
                continue
            published.append(record.id)
        if cursor is None:
            return published
