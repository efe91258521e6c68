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
from functions.render.feeds import EntryFields, entry_fields, feed_subtitle, feed_title, latest, uri
from functions.text import clean_text

__all__ = ["JSON_FEED_VERSION", "render_json_feed", "render_json_feed_entries"]

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

# "<", ">" and "&" become JSON escapes, which parse back to the same strings: the document stays
# exact JSON, and a client that sniffs it as HTML finds no markup in it. U+2028/U+2029 are escaped
# for JavaScript parsers older than ES2019, which end a string literal there.
_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def render_json_feed(articles: Sequence[Article], site: Site, feed: FeedSpec = SITE_FEED) -> bytes:
    """JSON Feed 1.1 (application/feed+json), UTF-8; newest first, at most feed_size items.

    Keys follow the order of the specification's field lists, so the bytes are deterministic
    without sorting (and the document reads like the specification's examples).
    """
    entries = [entry_fields(article, site) for article in latest(articles, site)]
    return render_json_feed_entries(entries, site, feed)


def render_json_feed_entries(entries: Sequence[EntryFields], site: Site, feed: FeedSpec = SITE_FEED) -> bytes:
    """render_json_feed from entries already prepared and ordered (entry_fields of latest()), as
    the RSS and Atom feeds of the same listing use them."""
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
    document["items"] = [_item(entry, site) for entry in entries]
    text = json.dumps(document, ensure_ascii=False, indent=2)
    # One str.replace per character, not str.translate: translate looks every character of a
    # 200 KB document up in a dict (about 40 ms for a 50-entry feed), replace scans in C. No
    # replacement contains a character replaced after it, so the order does not matter.
    for character, escape in _ESCAPES:
        text = text.replace(character, escape)
    return (text + "\n").encode("utf-8")


def _item(entry: EntryFields, site: Site) -> dict[str, Any]:
    article = entry.article
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.url,
        "title": entry.title,
        # XML-style hygiene only, as in the feeds: NFC over markup can rewrite it (strip_xml_illegal).
        "content_html": entry.content_html,
    }
    if entry.summary:
        item["summary"] = entry.summary
    if article.image is not None:
        item["image"] = entry.media[0][1]  # media_images() puts the lead image first
    item["date_published"] = entry.published.isoformat()
    item["date_modified"] = entry.updated.isoformat()
    item["authors"] = [
        {
            "name": entry.author,
            "url": site.absolute(listing_path("author", article.author.slug)),
        }
    ]
    item["tags"] = [label for _term, label in entry.categories]
    # Like Atom's xml:lang: only where an article differs from the feed.
    if entry.language is not None:
        item["language"] = entry.language
    attachments = [
        {
            "url": url,
            "mime_type": image.content_type,
            **({"title": clean_text(image.caption)} if image.caption else {}),
            **({"size_in_bytes": image.length} if image.length else {}),
        }
        for image, url in entry.media
        # mime_type is required for an attachment; an image of unknown type is still in `image`.
        if image.content_type
    ]
    if attachments:
        item["attachments"] = attachments
    return item
