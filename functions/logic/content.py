"""Turning submitted text into stored content: sanitized HTML, resolved images, slugs of names."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from functions.dal.protocol import MediaStore
from functions.logic.media import media_key_for_url
from functions.models.api import check_http_url
from functions.models.article import BodyFormat, Image, Taxon
from functions.models.errors import BodyTooDeep, InvalidImage, MediaNotFound
from functions.text import body_to_html, extract_images


def taxon(name: str) -> Taxon:
    return Taxon.named(name)


def _external_image_url(src: str, number: int) -> str:
    """An image not uploaded here: an absolute http(s) URL the pages and feeds can point at. The
    problem names the image by its place, not its URL, which may carry credentials (and is logged)."""
    if src.startswith("/") and not src.startswith("//"):
        raise InvalidImage(
            f"image {number} of the body is neither an uploaded image (/media/...) nor an absolute "
            "http(s) URL"
        )
    try:
        check_http_url("https:" + src if src.startswith("//") else src)
    except ValueError as error:
        raise InvalidImage(f"the URL of image {number} of the body {error}") from error
    return src


def resolve_images(body_html: str, store: MediaStore) -> list[Image]:
    """Every image in the body; ours must have been uploaded (we record type, size and credit)."""
    images: list[Image] = []
    for number, found in enumerate(extract_images(body_html), start=1):
        if not urlsplit(found.src).scheme and not found.src.startswith("/"):
            raise MediaNotFound(
                f"the body references {found.src}, a path relative to your computer; upload it with "
                "POST /media (presswire submit does this) and reference the URL it returns",
                field="body",
            )
        media_key = media_key_for_url(found.src)
        if media_key is None:
            src = _external_image_url(found.src, number)
            images.append(Image(src=src, alt=found.alt, caption=found.caption))
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


# Elements that never stay open (void) or that the next sibling closes (optional end tags).
_NOT_NESTING = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    | {"p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup"}
    | {"rb", "rt", "rp", "rtc"}
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
MAX_HTML_DEPTH = 256


def check_html_depth(html: str) -> None:
    """Refuse HTML nested deeper than MAX_HTML_DEPTH before the sanitizer sees it: html5ever's
    time grows with the square of the depth (100,000 nested <div>s take minutes, 256 a
    millisecond). A tag scan, not a parse: it can only overestimate (a tag in a comment counts),
    never miss an element that stays open."""
    depth = 0
    still_open: dict[str, int] = {}
    for match in _TAG.finditer(html):
        name = match.group(2).lower()
        if name in _NOT_NESTING:
            continue
        if match.group(1):
            if still_open.get(name):
                still_open[name] -= 1
                depth -= 1
            continue
        depth += 1
        still_open[name] = still_open.get(name, 0) + 1
        if depth > MAX_HTML_DEPTH:
            raise BodyTooDeep(
                f"the body's HTML nests elements more than {MAX_HTML_DEPTH} deep (are end tags missing?)"
            )


def render_body(body: str, body_format: BodyFormat, store: MediaStore) -> tuple[str, list[Image]]:
    if body_format == "html":
        check_html_depth(body)
    body_html = body_to_html(body, body_format)
    return body_html, resolve_images(body_html, store)
