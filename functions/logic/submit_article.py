"""Accept a new article: clean it, resolve its images, store it canonically, then index it."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

from functions.dal.aws import canonical_bytes
from functions.dal.protocol import ArticleStore, MediaStore, SlugTaken, StoredVersion
from functions.logic.media import media_key_for_url
from functions.models.api import ApiKeyRecord
from functions.models.article import (
    Article,
    ArticleRecord,
    ArticleStatus,
    ArticleSubmission,
    ArticleSummary,
    Image,
    Taxon,
)
from functions.models.errors import MediaNotFound, SlugUnavailable
from functions.models.site import Site
from functions.observability import logger, metrics
from functions.text import body_to_html, extract_images, slugify, unique_slug

MAX_SLUG_ATTEMPTS = 50
FALLBACK_SLUG = "bai-viet"


class SubmitStore(ArticleStore, MediaStore, Protocol):
    pass


def taxon(name: str) -> Taxon:
    return Taxon(name=name, slug=slugify(name) or hashlib.sha256(name.encode()).hexdigest()[:12])


def article_path(published_at: datetime, slug: str, site: Site) -> str:
    return f"/{published_at.astimezone(site.zone):%Y/%m/%d}/{slug}/"


def entity_tag(article: Article) -> str:
    return '"' + hashlib.sha256(canonical_bytes(article)).hexdigest()[:32] + '"'


def record_for(article: Article, stored: StoredVersion) -> ArticleRecord:
    summary = article.model_dump(include=set(ArticleSummary.model_fields))
    return ArticleRecord(
        **summary, content_key=stored.key, content_version=stored.version_id, etag=entity_tag(article)
    )


def resolve_images(body_html: str, store: MediaStore) -> list[Image]:
    """Every image in the body; ours must have been uploaded (we record type and size)."""
    images: list[Image] = []
    for found in extract_images(body_html):
        if not urlsplit(found.src).scheme and not found.src.startswith("/"):
            raise MediaNotFound(
                f"the body references {found.src}, a path relative to your computer; upload it with "
                "POST /media (presswire submit does this) and reference the URL it returns",
                field="body",
            )
        media_key = media_key_for_url(found.src)
        content_type: str | None = None
        length: int | None = None
        if media_key is not None:
            stored = store.head_media(media_key)
            if stored is None:
                raise MediaNotFound(
                    f"the body references {found.src}, which was never uploaded; POST it to /media first",
                    field="body",
                )
            content_type, length = stored.content_type, stored.length
        images.append(
            Image(
                src=found.src, alt=found.alt, caption=found.caption, content_type=content_type, length=length
            )
        )
    return images


def publication_time(submission: ArticleSubmission, site: Site, now: datetime) -> datetime:
    """When the article counts as published, in UTC; a time without offset is the site's local time."""
    published_at = submission.published_at or now
    if published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=site.zone)
    return published_at.astimezone(UTC)


def submit_article(
    submission: ArticleSubmission,
    principal: ApiKeyRecord,
    store: SubmitStore,
    site: Site,
    now: datetime,
) -> ArticleRecord:
    body_html = body_to_html(submission.body, submission.body_format)
    images = resolve_images(body_html, store)
    published_at = publication_time(submission, site, now)
    status: ArticleStatus = "published" if published_at <= now else "scheduled"
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
            path=article_path(published_at, slug, site),
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
            updated_at=published_at if published_at <= now else now,
            revision=1,
            image=images[0] if images else None,
            images=images,
        )
        # S3 first, then the item that points at it: a crash in between leaves an unreferenced
        # S3 version (invisible), never a visible article without its canonical source.
        stored = store.put_canonical(article)
        record = record_for(article, stored)
        try:
            store.create_article(record)
        except SlugTaken:
            logger.info("slug taken concurrently, trying the next", extra={"slug": slug})
            continue
        logger.info("article accepted", extra={"slug": slug, "status": status, "revision": 1})
        metrics.add_metric(name="ArticlesSubmitted", unit="Count", value=1)
        return record
    raise SlugUnavailable(f"every slug from '{base_slug}' to its {MAX_SLUG_ATTEMPTS}th variant is taken")
