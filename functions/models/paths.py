"""Where things live on the public site: one place for every URL pattern and its object key."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

ListingKind = Literal["home", "section", "tag", "author"]
FeedFormat = Literal["rss", "atom", "json"]

HOME_PATH = "/"
RSS_PATH = "/feeds/rss.xml"
ATOM_PATH = "/feeds/atom.xml"
JSON_FEED_PATH = "/feeds/feed.json"
NOT_FOUND_KEY = "404.html"
ROBOTS_PATH = "/robots.txt"
SITEMAP_PATH = "/sitemap.xml"
NEWS_SITEMAP_PATH = "/sitemap-news.xml"
FEED_FILES: dict[FeedFormat, str] = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
FEED_TYPES: dict[FeedFormat, str] = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}


def article_path(published_at: datetime, slug: str, zone: ZoneInfo) -> str:
    return f"/{published_at.astimezone(zone):%Y/%m/%d}/{slug}/"


def listing_path(kind: ListingKind, slug: str = "") -> str:
    """/ for home; /section/<slug>/, /tag/<slug>/, /author/<slug>/ for the others (slugs are ASCII)."""
    return HOME_PATH if kind == "home" else f"/{kind}/{slug}/"


def listing_month_path(kind: ListingKind, slug: str, year: int, month: int) -> str:
    """A listing's articles of one month, its older pages: /2023/10/ for the site (the same
    calendar as article URLs), /section/<slug>/2023/10/ and the like for the others."""
    return f"{listing_path(kind, slug)}{year:04d}/{month:02d}/"


def month_bounds(year: int, month: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The first and the last instant (inclusive) of a calendar month in the site's zone."""
    start = datetime(year, month, 1, tzinfo=zone)
    after = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, after - timedelta(microseconds=1)


def feed_path(kind: ListingKind, slug: str, fmt: FeedFormat) -> str:
    """/feeds/rss.xml for the site; /feeds/section/<slug>/rss.xml and the like for a listing."""
    return f"/feeds/{FEED_FILES[fmt]}" if kind == "home" else f"/feeds/{kind}/{slug}/{FEED_FILES[fmt]}"


def archive_path(page: int) -> str:
    """RFC 5005 archive page `page` (1 = the oldest 50 articles) of the site's Atom feed."""
    return f"/feeds/archive/{page}.xml"


def sitemap_month_path(year: int, month: int) -> str:
    return f"/sitemaps/{year:04d}-{month:02d}.xml"


def page_key(path: str) -> str:
    """The site-bucket key of a URL path: /a/b/ -> a/b/index.html, / -> index.html."""
    return path.lstrip("/") + "index.html" if path.endswith("/") else path.lstrip("/")
