"""Turning submitted text into stored content: sanitized HTML, resolved images, slugs of names."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from functions.dal.protocol import MediaStore
from functions.logic.media import media_key_for_url
from functions.models.article import BodyFormat, Image, Taxon
from functions.models.errors import MediaNotFound
from functions.text import body_to_html, extract_images, slugify


def taxon(name: str) -> Taxon:
    return Taxon(name=name, slug=slugify(name) or hashlib.sha256(name.encode()).hexdigest()[:12])


def resolve_images(body_html: str, store: MediaStore) -> list[Image]:
    """Every image in the body; ours must have been uploaded (we record type, size and credit)."""
    images: list[Image] = []
    for found in extract_images(body_html):
        if not urlsplit(found.src).scheme and not found.src.startswith("/"):
            raise MediaNotFound(
                f"the body references {found.src}, a path relative to your computer; upload it with "
                "POST /media (presswire submit does this) and reference the URL it returns",
                field="body",
            )
        media_key = media_key_for_url(found.src)
        if media_key is None:
            images.append(Image(src=found.src, alt=found.alt, caption=found.caption))
            continue
        stored = store.head_media(media_key)
        if stored is None:
            raise MediaNotFound(
                f"the body references {found.src}, which was never uploaded; POST it to /media first",
                field="body",
            )
        info = store.get_media_info(media_key)
        images.append(
            Image(
                src=found.src,
                alt=found.alt or (info.alt if info else ""),
                caption=found.caption or (info.caption if info else ""),
                credit=info.credit if info else "",
                content_type=stored.content_type,
                length=stored.length,
            )
        )
    return images


def render_body(body: str, body_format: BodyFormat, store: MediaStore) -> tuple[str, list[Image]]:
    body_html = body_to_html(body, body_format)
    return body_html, resolve_images(body_html, store)
