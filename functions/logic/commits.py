"""One accepted change of an article, written as its next revision: a new S3 version of the
canonical JSON plus one DynamoDB transaction (article item, revision item, listing items)
conditional on the record the change was based on. Shared by the edit and lifecycle routes
(functions.logic.edit_article) and the scheduler, which needs nothing else of editing (body
rendering, media, the API's request models).
"""

from __future__ import annotations

from datetime import datetime

from functions.dal.protocol import ArticleStore, ArticleVersionConflict
from functions.logic.records import listing_ids, partner_visibility, record_for
from functions.models.article import Article, ArticleRecord, Revision, RevisionAction
from functions.models.errors import PreconditionFailed
from functions.models.keys import ApiKeyRecord
from functions.observability import logger, metrics

# Fields whose change a revision reports (the rest follow from them or are bookkeeping).
_TRACKED = (
    "title",
    "summary",
    "body",
    "body_format",
    "author",
    "section",
    "tags",
    "language",
    "published_at",
    "embargo_until",
    "status",
    "corrections",
    "retraction",
)


def changed_fields(before: Article, after: Article) -> list[str]:
    old, new = before.model_dump(include=set(_TRACKED)), after.model_dump(include=set(_TRACKED))
    return [name for name in _TRACKED if old.get(name) != new.get(name)]


def commit_change(
    store: ArticleStore,
    actor: ApiKeyRecord,
    before: ArticleRecord,
    current: Article,
    updated: Article,
    action: RevisionAction,
    note: str | None,
    now: datetime,
) -> ArticleRecord:
    bookkeeping: dict[str, object] = {"revision": before.revision + 1, "last_action": action}
    if updated.status == "published" and updated.sequence is None:
        bookkeeping["sequence"] = store.next_sequence()
    updated = updated.model_copy(update=bookkeeping)
    stored = store.put_canonical(updated)
    after = record_for(updated, stored)
    revision = Revision(
        revision=updated.revision,
        version_id=stored.version_id,
        at=now,
        by=actor.name,
        by_key_id=actor.key_id,
        action=action,
        changed=changed_fields(current, updated),
        note=note,
        visible_at=partner_visibility(current.status, updated, now),
    )
    try:
        store.save_change(before, after, revision, listing_ids(before), listing_ids(after))
    except ArticleVersionConflict as conflict:
        raise PreconditionFailed(
            "another change was saved while yours was in flight; GET the article and retry", field="If-Match"
        ) from conflict
    with logger.append_context_keys(article_id=after.id):
        logger.info(
            "article changed",
            extra={
                "action": action,
                "revision": after.revision,
                "status": after.status,
                "changed": revision.changed,
            },
        )
    metrics.add_metric(name=f"Articles{action.capitalize()}", unit="Count", value=1)
    return after
