"""The partner API: a change feed and single items in IPTC ninjs 2.0, and webhook subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Protocol

from functions.dal.protocol import ArticleStore, PartnerStore
from functions.logic.read_articles import article_at
from functions.logic.records import in_utc
from functions.models.api import PartnerRequest
from functions.models.article import Article, Delivery, Partner, check_plausible_time
from functions.models.errors import (
    ArticleNotFound,
    FieldError,
    InvalidRequest,
    PartnerNotFound,
    ValidationFailed,
)
from functions.models.keys import ApiKeyRecord
from functions.models.site import Site
from functions.syndication.addresses import RefusedAddress, check_webhook_url

# Commits stamp their time before they land; a change is served only once every commit that
# could sort before it has had time to land, so a reader's cursor never skips one.
SETTLE = timedelta(seconds=5)


class SyndicationStore(ArticleStore, PartnerStore, Protocol):
    pass


def _to_ninjs(article: Article, site: Site) -> dict[str, Any]:
    # ninjs takes entry ids and absolute URLs from functions.render.feeds (feedgen, lxml, Jinja2):
    # loaded by the two routes that serve items, not by every cold start of the API.
    from functions.syndication.ninjs import to_ninjs

    return to_ninjs(article, site)


def parse_since(since: str | None, site: Site) -> tuple[str | None, datetime | None]:
    """?since= is either a cursor this API issued or an RFC 3339 time (one without an offset is
    the site's local time, as everywhere in this API)."""
    if not since:
        return None, None
    try:
        moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        return since, None
    try:
        check_plausible_time(moment)
    except ValueError as error:
        raise InvalidRequest(f"since {error}", field="since") from error
    return None, in_utc(moment, site)


def change_feed(
    store: ArticleStore, site: Site, *, since: str | None, limit: int, now: datetime
) -> tuple[list[dict[str, Any]], str | None]:
    """Public changes oldest first, as the article stood at each change (pubstatus "canceled"
    for a retraction), embargoed ones only once their embargo has ended."""
    cursor, moment = parse_since(since, site)
    try:
        changes, next_cursor = store.list_changes(
            cursor=cursor, since=moment, until=now - SETTLE, limit=limit
        )
    except InvalidRequest as error:
        raise InvalidRequest(
            "since is neither a next_cursor this API issued nor an RFC 3339 time", field="since"
        ) from error
    return [
        _to_ninjs(article_at(store, change.article_id, change.revision), site) for change in changes
    ], next_cursor


def syndicated_item(store: ArticleStore, site: Site, article_id: str, now: datetime) -> dict[str, Any]:
    record = store.get_record(article_id)
    embargoed = record is not None and record.embargo_until is not None and record.embargo_until > now
    if record is None or record.status not in ("published", "retracted") or embargoed:
        raise ArticleNotFound(f"there is no syndicated article with id {article_id}", field="id")
    return _to_ninjs(store.get_canonical(record), site)


def register_partner(
    store: PartnerStore,
    principal: ApiKeyRecord,
    request: PartnerRequest,
    now: datetime,
    *,
    allow_private_webhooks: bool,
) -> Partner:
    try:
        check_webhook_url(request.url, allow_private=allow_private_webhooks)
    except RefusedAddress as refused:
        error = FieldError(field="url", location="body", message=str(refused))
        raise ValidationFailed.from_errors([error]) from refused
    from functions.syndication.webhooks import new_secret  # its module loads ninjs (see _to_ninjs)

    partner = Partner(
        id=uuid.uuid4().hex[:16],
        url=request.url,
        events=sorted(set(request.events)),
        sections=sorted(set(request.sections)),
        tags=sorted(set(request.tags)),
        secret=new_secret(),
        created_at=now,
        created_by=principal.key_id,
    )
    store.put_partner(partner)
    return partner


def partner_deliveries(store: PartnerStore, partner_id: str, limit: int) -> list[Delivery]:
    if store.get_partner(partner_id) is None:
        raise PartnerNotFound(f"there is no partner with id {partner_id}", field="id")
    return store.list_deliveries(partner_id, limit)


def remove_partner(store: PartnerStore, partner_id: str) -> None:
    if store.get_partner(partner_id) is None:
        raise PartnerNotFound(f"there is no partner with id {partner_id}", field="id")
    store.delete_partner(partner_id)
