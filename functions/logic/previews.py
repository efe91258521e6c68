"""Time-limited, unguessable links to a draft's page, for editors to share before publication."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from functions.dal.protocol import ArticleStore, PreviewStore
from functions.logic.permissions import require_editor
from functions.models.article import Preview
from functions.models.errors import ArticleNotFound, InvalidTransition, PreviewNotFound
from functions.models.keys import ApiKeyRecord
from functions.models.site import Site


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_preview(
    store: PreviewStore,
    articles: ArticleStore,
    principal: ApiKeyRecord,
    article_id: str,
    *,
    lifetime: timedelta,
    now: datetime,
) -> tuple[str, Preview]:
    """The token is returned once; only its hash is stored."""
    require_editor(principal, "open a preview")
    record = articles.get_record(article_id)
    if record is None:
        raise ArticleNotFound(f"there is no article with id {article_id}", field="id")
    if record.status not in ("draft", "scheduled"):
        raise InvalidTransition(f"the article is {record.status}; previews are for unpublished articles")
    token = secrets.token_urlsafe(32)
    preview = Preview(
        token_hash=token_hash(token),
        article_id=article_id,
        expires_at=now + lifetime,
        created_by=principal.key_id,
    )
    store.put_preview(preview)
    return token, preview


def render_preview(store: PreviewStore, articles: ArticleStore, token: str, site: Site, now: datetime) -> str:
    """The draft's page as it stands now; unknown and expired tokens look the same (404)."""
    preview = store.get_preview(token_hash(token))
    # DynamoDB's TTL deletes expired items only eventually, so expiry is checked here.
    if preview is None or preview.expires_at <= now:
        raise PreviewNotFound("this preview link is unknown or has expired; ask an editor for a new one")
    record = articles.get_record(preview.article_id)
    if record is None or record.status not in ("draft", "scheduled"):
        raise PreviewNotFound("the article is no longer a draft; see the published page instead")
    from functions.render.pages import render_preview_page  # Jinja only on this route

    return render_preview_page(articles.get_canonical(record), site, preview.expires_at)
