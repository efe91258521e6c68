"""Every change after creation: edits, corrections, publishing, retraction, reinstatement.

Each accepted change is a new S3 version of the canonical JSON plus one DynamoDB transaction
(article item, revision item, listing items) conditional on the ETag the change was based on,
so of two racing editors exactly one wins and the other gets 412.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from functions.dal.protocol import ArticleStore, MediaStore
from functions.logic.commits import commit_change
from functions.logic.content import render_body, taxon
from functions.logic.permissions import require_can_edit, require_editor
from functions.logic.records import in_utc, status_at
from functions.models.article import (
    Article,
    ArticlePatch,
    ArticleRecord,
    ArticleReplacement,
    Correction,
    Retraction,
    RevisionAction,
)
from functions.models.errors import (
    ArticleNotFound,
    Forbidden,
    InvalidTransition,
    PreconditionFailed,
    PreconditionRequired,
)
from functions.models.keys import ApiKeyRecord
from functions.models.paths import article_path
from functions.models.site import Site


class EditStore(ArticleStore, MediaStore, Protocol):
    pass


def etag_matches(if_match: str, etag: str) -> bool:
    candidates = {candidate.strip() for candidate in if_match.split(",")}
    return "*" in candidates or etag in candidates


def load_for_change(
    store: ArticleStore, article_id: str, if_match: str | None, *, required: bool
) -> tuple[ArticleRecord, Article]:
    record = store.get_record(article_id)
    if record is None:
        raise ArticleNotFound(f"there is no article with id {article_id}", field="id")
    if if_match is None:
        if required:
            raise PreconditionRequired("send If-Match with the ETag from your last GET of this article")
    elif not etag_matches(if_match, record.etag):
        raise PreconditionFailed(
            f"the article is at revision {record.revision} now; GET it again and reapply your change",
            field="If-Match",
        )
    return record, store.get_canonical(record)


def edit_article(
    store: EditStore,
    principal: ApiKeyRecord,
    article_id: str,
    change: ArticleReplacement | ArticlePatch,
    *,
    if_match: str | None,
    site: Site,
    now: datetime,
) -> ArticleRecord:
    record, current = load_for_change(store, article_id, if_match, required=True)
    require_can_edit(principal, record)
    if current.status == "retracted":
        raise InvalidTransition("a retracted article cannot be edited; reinstate it first")
    if change.correction and principal.role not in ("editor", "admin"):
        raise Forbidden("only an editor may publish a correction", field="correction")

    if isinstance(change, ArticleReplacement):
        given: dict[str, Any] = change.model_dump(exclude={"status", "correction"})
    else:
        given = change.model_dump(exclude_unset=True, exclude={"correction"})
    updates: dict[str, Any] = {}
    for name in ("title", "summary", "language"):
        if name in given and given[name] is not None:
            updates[name] = given[name]
    if isinstance(change, ArticleReplacement) and change.language is None:
        updates["language"] = current.language
    if "author" in given and given["author"] is not None:
        updates["author"] = taxon(given["author"])
    if "section" in given and given["section"] is not None:
        updates["section"] = taxon(given["section"])
    if "tags" in given and given["tags"] is not None:
        updates["tags"] = [taxon(tag) for tag in given["tags"]]
    if "embargo_until" in given:
        updates["embargo_until"] = in_utc(given["embargo_until"], site)
    body = given.get("body") or current.body
    body_format = given.get("body_format") or current.body_format
    if body != current.body or body_format != current.body_format:
        body_html, images = render_body(body, body_format, store)
        updates.update(
            body=body,
            body_format=body_format,
            body_html=body_html,
            images=images,
            image=images[0] if images else None,
        )

    published_at = in_utc(given.get("published_at"), site)
    if published_at is not None and published_at != current.published_at:
        if current.status == "published":
            raise InvalidTransition(
                "a published article keeps its publication time (its URL and feed entries depend on it)",
                field="published_at",
            )
        updates["published_at"] = published_at
        updates["path"] = article_path(published_at, current.slug, site.zone)
        if current.status == "scheduled":
            updates["status"] = status_at(published_at, now)
            if updates["status"] == "published":
                require_editor(principal, "publish an article")
                updates["updated_at"] = published_at

    action: RevisionAction = "update"
    if change.correction:
        updates["corrections"] = [*current.corrections, Correction(at=now, note=change.correction)]
        action = "correct"
    updates.setdefault("updated_at", now)
    updated = current.model_copy(update=updates)
    return commit_change(store, principal, record, current, updated, action, change.correction, now)


def publish_article(
    store: ArticleStore,
    principal: ApiKeyRecord,
    article_id: str,
    when: datetime | None,
    *,
    if_match: str | None,
    site: Site,
    now: datetime,
) -> ArticleRecord:
    """A draft (or a scheduled article) goes live now, or is scheduled for `when`."""
    require_editor(principal, "publish an article")
    record, current = load_for_change(store, article_id, if_match, required=False)
    if current.status not in ("draft", "scheduled"):
        raise InvalidTransition(f"the article is already {current.status}")
    published_at = in_utc(when, site) or now
    status = status_at(published_at, now)
    updated = current.model_copy(
        update={
            "status": status,
            "published_at": published_at,
            "path": article_path(published_at, current.slug, site.zone),
            "updated_at": published_at if status == "published" else now,
        }
    )
    action: RevisionAction = "publish" if status == "published" else "schedule"
    return commit_change(store, principal, record, current, updated, action, None, now)


def retract_article(
    store: ArticleStore,
    principal: ApiKeyRecord,
    article_id: str,
    reason: str,
    *,
    if_match: str | None,
    now: datetime,
) -> ArticleRecord:
    """The page becomes a retraction notice and the article leaves every feed and listing;
    the canonical record and its history stay."""
    require_editor(principal, "retract an article")
    record, current = load_for_change(store, article_id, if_match, required=False)
    if current.status not in ("published", "scheduled"):
        raise InvalidTransition(
            f"only a published or scheduled article can be retracted; it is {current.status}"
        )
    updated = current.model_copy(
        update={"status": "retracted", "retraction": Retraction(at=now, reason=reason), "updated_at": now}
    )
    return commit_change(store, principal, record, current, updated, "retract", reason, now)


def reinstate_article(
    store: ArticleStore,
    principal: ApiKeyRecord,
    article_id: str,
    *,
    if_match: str | None,
    now: datetime,
) -> ArticleRecord:
    require_editor(principal, "reinstate an article")
    record, current = load_for_change(store, article_id, if_match, required=False)
    if current.status != "retracted":
        raise InvalidTransition(f"only a retracted article can be reinstated; it is {current.status}")
    updated = current.model_copy(
        update={"status": status_at(current.published_at, now), "retraction": None, "updated_at": now}
    )
    return commit_change(store, principal, record, current, updated, "reinstate", None, now)
