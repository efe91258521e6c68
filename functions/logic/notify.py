"""Telling the outside world: partner webhooks (Standard Webhooks) and WebSub hub pings.

The publisher enqueues one "change" message per public change (or parks it until its embargo
ends: functions.logic.announce). The notifier fans a change out into one "delivery" message per
matching partner, so each partner's retries, backoff and dead-lettering are its own, and posts
deliveries and pings.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from functions.dal.protocol import ArticleStore, NotificationStore, PartnerStore
from functions.logic.read_articles import article_at
from functions.models.article import Article, Delivery, EventType, Partner
from functions.models.site import Site
from functions.observability import logger, metrics
from functions.syndication import outbound, webhooks
from functions.syndication.addresses import RefusedAddress

# NotifyQueue's RedrivePolicy maxReceiveCount in template.yaml (a test keeps them equal): the
# attempt that fails for the last time records the failure, then SQS moves the message to the DLQ.
MAX_ATTEMPTS = 8
HTTP_TIMEOUT_SECONDS = 10

# (url, body, headers) -> HTTP status; raises OSError for a network failure or timeout, and
# RefusedAddress (nothing sent) for a URL the notifier may not reach.
Send = Callable[[str, bytes, Mapping[str, str]], int]


class RetryLater(Exception):
    """The attempt failed in a way worth retrying (5xx, 408, 429, network); SQS redelivers it."""


class NotifierStore(ArticleStore, NotificationStore, PartnerStore, Protocol):
    pass


def sender(allow_private: bool) -> Send:
    """The transport the settings call for: public addresses only, unless ALLOW_PRIVATE_WEBHOOKS."""
    return send_http if allow_private else send_http_to_public


def send_http(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    """POST to whatever address the URL's host resolves to, private ones included: only where
    ALLOW_PRIVATE_WEBHOOKS says so (the local stack, whose partners are on 127.0.0.1)."""
    return outbound.post(url, body, headers, allow_private=True, timeout=HTTP_TIMEOUT_SECONDS)


def send_http_to_public(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    """POST only if every address the URL's host resolves to is public, and to one of those."""
    return outbound.post(url, body, headers, allow_private=False, timeout=HTTP_TIMEOUT_SECONDS)


def backoff_seconds(attempt: int) -> int:
    """Exponential: 2, 4, 8 ... seconds after attempts 1, 2, 3 ... (about 8 minutes in all)."""
    return int(2 ** min(attempt, 12))


# -- the notifier -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Received:
    body: dict[str, Any]
    attempt: int  # SQS ApproximateReceiveCount: 1 on the first delivery
    receipt_handle: str


def partner_wants(partner: Partner, event: EventType, article: Article) -> bool:
    if event not in partner.events:
        return False
    if partner.sections and article.section.slug not in partner.sections:
        return False
    return not partner.tags or bool({tag.slug for tag in article.tags} & set(partner.tags))


def fan_out(message: Mapping[str, Any], store: NotifierStore, site: Site) -> int:
    """One delivery message per partner that wants this event for this article."""
    event: EventType = message["event"]
    article = article_at(store, message["article_id"], int(message["revision"]))
    revision = store.get_revision(article.id, article.revision)
    occurred_at = revision.at if revision else article.updated_at
    payload = webhooks.encode_payload(webhooks.event_payload(event, article, site, occurred_at)).decode(
        "utf-8"
    )
    # Stable across retries and redrives, so partners can drop duplicates (Standard Webhooks).
    message_id = f"msg_{article.id.replace('-', '')}_{article.revision}_{event.split('.')[1]}"
    count = 0
    for partner in store.list_partners():
        if partner_wants(partner, event, article):
            store.send_notification(
                {
                    "kind": "delivery",
                    "partner_id": partner.id,
                    "message_id": message_id,
                    "event": event,
                    "article_id": article.id,
                    "payload": payload,
                }
            )
            count += 1
    return count


def deliver(
    message: Mapping[str, Any], attempt: int, store: NotifierStore, send: Send, now: datetime
) -> None:
    """POST one signed webhook. 2xx: delivered; 3xx (not followed) and other 4xx: failed for
    good; 5xx, 408, 429 and network errors: RetryLater, until the last attempt, which is recorded
    as failed. A URL that may not be reached (a private address) fails at once: it would on every
    attempt."""
    partner = store.get_partner(message["partner_id"])
    if partner is None:
        return  # unsubscribed since: nothing to deliver
    body = message["payload"].encode("utf-8")
    headers = webhooks.headers(partner.secret, message["message_id"], int(now.timestamp()), body)
    status: int | None = None
    error = ""
    refused = False
    try:
        status = send(partner.url, body, headers)
    except RefusedAddress as refusal:
        refused = True
        error = f"refused: {refusal}"[:300]
    except OSError as failure:
        error = f"{type(failure).__name__}: {failure}"[:300]
    if status is not None and 300 <= status < 400:
        error = f"HTTP {status}: redirects are not followed; register the final URL"
    retryable = not refused and (status is None or status >= 500 or status in (408, 429))
    delivered = status is not None and 200 <= status < 300
    outcome: Literal["delivered", "retrying", "failed"] = (
        "delivered" if delivered else "retrying" if retryable and attempt < MAX_ATTEMPTS else "failed"
    )
    store.put_delivery(
        Delivery(
            partner_id=partner.id,
            message_id=message["message_id"],
            event=message["event"],
            article_id=message["article_id"],
            attempts=attempt,
            status=outcome,
            last_attempt_at=now,
            response_status=status,
            error=error,
        )
    )
    metrics.add_metric(name=f"Webhooks{outcome.capitalize()}", unit="Count", value=1)
    if refused:
        metrics.add_metric(name="WebhooksRefused", unit="Count", value=1)
    (logger.warning if refused else logger.info)(
        "webhook attempt",
        extra={
            "partner_id": partner.id,
            "status": status,
            "outcome": outcome,
            "attempt": attempt,
            "message_id": message["message_id"],
            "error": error,
        },
    )
    if not delivered and retryable:
        raise RetryLater(error or f"HTTP {status}")


def ping_hubs(message: Mapping[str, Any], site: Site, send: Send) -> None:
    """WebSub publish pings: hub.mode=publish&hub.url=<feed> to every configured hub."""
    failures: list[str] = []
    for hub in site.websub_hubs:
        for url in message["urls"]:
            body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": url}).encode()
            try:
                status = send(hub, body, {"Content-Type": "application/x-www-form-urlencoded"})
            except RefusedAddress as refusal:
                # No retry can help: the hub's address is the operator's to fix (WebSubHubs).
                logger.error("WebSub hub refused", extra={"hub": hub, "error": str(refusal)})
                continue
            except OSError as failure:
                failures.append(f"{hub}: {failure}")
                continue
            if status >= 300:
                failures.append(f"{hub}: HTTP {status}")
    if failures:
        raise RetryLater("; ".join(failures)[:500])


def handle(received: Received, store: NotifierStore, site: Site, send: Send, now: datetime) -> None:
    """One queue message. RetryLater asks SQS for the message again after a backoff."""
    kind = received.body.get("kind")
    try:
        if kind == "change":
            fan_out(received.body, store, site)
        elif kind == "delivery":
            deliver(received.body, received.attempt, store, send, now)
        elif kind == "websub":
            ping_hubs(received.body, site, send)
        else:
            logger.error("unknown notification dropped", extra={"body": json.dumps(received.body)[:500]})
    except RetryLater:
        store.postpone_notification(received.receipt_handle, backoff_seconds(received.attempt))
        raise
