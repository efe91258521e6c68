"""Accept a new article: clean it, resolve its images, store it canonically, then index it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from functions.dal.protocol import ArticleStore, MediaStore, SlugTaken
from functions.logic.content import render_body, taxon
from functions.logic.permissions import is_editor
from functions.logic.records import in_utc, listing_ids, partner_visibility, record_for, status_at
from functions.models.article import (
    Article,
    ArticleRecord,
    ArticleStatus,
    ArticleSubmission,
    Revision,
)
from functions.models.errors import Forbidden, SlugUnavailable
from functions.models.keys import ApiKeyRecord
from functions.models.paths import article_path
from functions.models.site import Site
from functions.observability import logger, metrics
from functions.text import slugify, unique_slug

MAX_SLUG_ATTEMPTS = 50
FALLBACK_SLUG = "bai-viet"


class SubmitStore(ArticleStore, MediaStore, Protocol):
    pass


def submit_article(
    submission: ArticleSubmission,
    principal: ApiKeyRecord,
    store: SubmitStore,
    site: Site,
    now: datetime,
) -> ArticleRecord:
    wants = submission.status or ("published" if is_editor(principal) else "draft")
    if wants == "published" and not is_editor(principal):
        raise Forbidden("reporters file drafts; an editor publishes them", field="status")
    body_html, images = render_body(submission.body, submission.body_format, store)
    published_at = in_utc(submission.published_at, site) or now
    status: ArticleStatus = status_at(published_at, now) if wants == "published" else "draft"
    article_id = str(uuid.uuid4())
    base_slug = slugify(submission.title) or FALLBACK_SLUG
    logger.append_keys(article_id=article_id)

    for attempt in range(MAX_SLUG_ATTEMPTS):
        slug = unique_slug(base_slug, attempt)
        if not store.is_slug_free(slug):
            continue
        article = Article(
            id=article_id,
            slug=slug,
            path=article_path(published_at, slug, site.zone),
            title=submission.title,
            summary=submission.summary,
            body=submission.body,
            body_format=submission.body_format,
            body_html=body_html,
            author=taxon(submission.author),
            section=taxon(submission.section),
            tags=[taxon(tag) for tag in submission.tags],
            language=submission.language or site.language,
            status=status,
            published_at=published_at,
            created_at=now,
            # An import or backdated article was last modified when it was published.
            updated_at=published_at if status == "published" else now,
            revision=1,
            image=images[0] if images else None,
            images=images,
            embargo_until=in_utc(submission.embargo_until, site),
            created_by=principal.key_id,
            sequence=store.next_sequence() if status == "published" else None,
        )
        # S3 first, then the item that points at it: a crash in between leaves an unreferenced
        # S3 version (invisible), never a visible article without its canonical source.
        stored = store.put_canonical(article)
        record = record_for(article, stored)
        revision = Revision(
            revision=1,
            version_id=stored.version_id,
            at=now,
            by=principal.name,
            by_key_id=principal.key_id,
            action="create",
            changed=sorted(submission.model_fields_set),
            visible_at=partner_visibility("draft", article, now),
        )
        try:
            store.create_article(record, revision, listing_ids(record))
        except SlugTaken:
            logger.info("slug taken concurrently, trying the next", extra={"slug": slug})
            continue
        logger.info("article accepted", extra={"slug": slug, "status": status, "revision": 1})
        metrics.add_metric(name="ArticlesSubmitted", unit="Count", value=1)
        return record
    raise SlugUnavailable(f"every slug from '{base_slug}' to its {MAX_SLUG_ATTEMPTS}th variant is taken")
