"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1): a pure function of the articles and the site.

It carries what the RSS and Atom feeds carry (same ids, titles, dates, links, content, images,
categories and bylines, from the same helpers), so the three formats never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from functions.models.article import Article
from functions.models.feeds import SITE_FEED, FeedSpec
from functions.models.paths import listing_path
from functions.models.site import Site
from functions.render.feeds import (
    absolutize_urls,
    entry_id,
    feed_subtitle,
    feed_title,
    latest,
    local_time,
    media_images,
    uri,
)
from functions.text import clean_text, strip_xml_illegal

__all__ = ["JSON_FEED_VERSION", "render_json_feed"]

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

# "<", ">" and "&" become JSON escapes, which parse back to the same strings: the document stays
# exact JSON, and a client that sniffs it as HTML finds no markup in it. U+2028/U+2029 are escaped
# for JavaScript parsers older than ES2019, which end a string literal there.
_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def render_json_feed(articles: Sequence[Article], site: Site, feed: FeedSpec = SITE_FEED) -> bytes:
    """JSON Feed 1.1 (application/feed+json), UTF-8; newest first, at most feed_size items.

    Keys follow the order of the specification's field lists, so the bytes are deterministic
    without sorting (and the document reads like the specification's examples).
    """
    document: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": feed_title(site, feed),
        "home_page_url": site.absolute(feed.page_path),
        "feed_url": site.absolute(feed.path("json")),
        "description": feed_subtitle(site, feed),
        "authors": [{"name": clean_text(site.name), "url": site.absolute(listing_path("home"))}],
        "language": site.language,
    }
    if site.websub_hubs:
        document["hubs"] = [{"type": "WebSub", "url": uri(hub)} for hub in site.websub_hubs]
    document["items"] = [_item(article, site) for article in latest(articles, site)]
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return (text.translate(_ESCAPES) + "\n").encode("utf-8")


def _item(article: Article, site: Site) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry_id(article, site),
        "url": uri(site.absolute(article.path)),
        "title": clean_text(article.title),
        # XML-style hygiene only, as in the feeds: NFC over markup can rewrite it (strip_xml_illegal).
        "content_html": strip_xml_illegal(absolutize_urls(article.body_html, site)),
    }
    summary = clean_text(article.summary)
    if summary:
        item["summary"] = summary
    if article.image is not None:
        item["image"] = uri(site.absolute(article.image.src))
    item["date_published"] = local_time(article.published_at, site).isoformat()
    item["date_modified"] = local_time(article.updated_at, site).isoformat()
    item["authors"] = [
        {
            "name": clean_text(article.author.name),
            "url": site.absolute(listing_path("author", article.author.slug)),
        }
    ]
    item["tags"] = [clean_text(taxon.name) for taxon in (article.section, *article.tags)]
    # Like Atom's xml:lang: only where an article differs from the feed.
    if article.language != site.language:
        item["language"] = article.language
    attachments = [
        {
            "url": uri(site.absolute(image.src)),
            "mime_type": image.content_type,
            **({"title": clean_text(image.caption)} if image.caption else {}),
            **({"size_in_bytes": image.length} if image.length else {}),
        }
        for image in media_images(article)
        # mime_type is required for an attachment; an image of unknown type is still in `image`.
        if image.content_type
    ]
    if attachments:
        item["attachments"] = attachments
    return item
