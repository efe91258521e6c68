"""What the publisher and the scheduler tell the notifier, through its queue: one "change"
message per public change (parked until its embargo ends) and the feeds to ping WebSub hubs for.

Apart from functions.logic.notify (the notifier's side: fan-out, signed webhooks, hub pings), so
that enqueueing a message does not load what delivering one needs (ninjs, which renders with
functions.render, and the HTTP client).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from functions.dal.protocol import ArticleStore, NotificationStore
from functions.logic.changes import ArticleChange
from functions.models.article import EventType, RevisionAction
from functions.models.site import Site

EVENT_OF_ACTION: dict[RevisionAction, EventType] = {
    "create": "article.published",
    "publish": "article.published",
    "reinstate": "article.published",
    "update": "article.updated",
    "correct": "article.corrected",
    "retract": "article.retracted",
}


class AnnouncerStore(ArticleStore, NotificationStore, Protocol):
    pass


def public_event(change: ArticleChange) -> EventType | None:
    """The webhook event of a change partners may know about, or None (drafts, schedules)."""
    after, before = change.after, change.before
    was_public = before is not None and before.status == "published"
    if after.status == "retracted" and not was_public:
        return None
    if after.status not in ("published", "retracted"):
        return None
    if after.status == "published" and not was_public:
        return "article.published"
    return EVENT_OF_ACTION.get(after.last_action)


def announce_changes(changes: Iterable[ArticleChange], store: NotificationStore, now: datetime) -> int:
    """Enqueue the public changes; an embargoed one waits (the scheduler releases it)."""
    sent = 0
    for change in changes:
        event = public_event(change)
        if event is None:
            continue
        record = change.after
        if record.embargo_until is not None and record.embargo_until > now and record.status == "published":
            store.put_pending_notification(record.id, record.revision, record.embargo_until)
            continue
        store.send_notification(change_message(record.id, record.revision, event))
        sent += 1
    return sent


def change_message(article_id: str, revision: int, event: EventType) -> dict[str, Any]:
    return {"kind": "change", "article_id": article_id, "revision": revision, "event": event}


def announce_feeds(feed_urls: Iterable[str], site: Site, store: NotificationStore) -> None:
    urls = sorted(set(feed_urls))
    if urls and site.websub_hubs:
        store.send_notification({"kind": "websub", "urls": urls})


def release_embargoes(store: AnnouncerStore, now: datetime) -> list[str]:
    """Run by the scheduler: notifications whose embargo has ended go out now."""
    released: list[str] = []
    for article_id, revision in store.due_pending_notifications(now):
        record = store.get_record(article_id)
        if record is not None and record.status == "published" and record.revision == revision:
            event: EventType = (
                "article.published"
                if revision == 1
                else EVENT_OF_ACTION.get(record.last_action, "article.updated")
            )
            store.send_notification(change_message(article_id, revision, event))
            released.append(article_id)
        store.delete_pending_notification(article_id, revision)
    return released
