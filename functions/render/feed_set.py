"""A listing's three feeds (RSS, Atom, JSON Feed) rendered together, as the publisher writes them."""

from __future__ import annotations

from collections.abc import Sequence

from functions.models.article import Article
from functions.models.feeds import SITE_FEED, ArchiveLinks, FeedSpec
from functions.models.paths import FeedFormat
from functions.models.site import Site
from functions.render.feeds import entry_fields, latest, render_rss_and_atom
from functions.render.json_feed import render_json_feed_entries

__all__ = ["render_feed_set"]


def render_feed_set(
    articles: Sequence[Article],
    site: Site,
    feed: FeedSpec = SITE_FEED,
    archive: ArchiveLinks | None = None,
) -> dict[FeedFormat, bytes]:
    """The bytes of render_rss, render_atom (with a head feed's `archive` links) and
    render_json_feed, for the price of one: each article's entry is prepared once for the three
    formats, and RSS and Atom come from one feedgen generator."""
    entries = [entry_fields(article, site) for article in latest(articles, site)]
    rss, atom = render_rss_and_atom(entries, site, feed, archive)
    return {"rss": rss, "atom": atom, "json": render_json_feed_entries(entries, site, feed)}
