"""Where things live on the public site: one place for every URL pattern and its object key."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

ListingKind = Literal["home", "section", "tag", "author"]

HOME_PATH = "/"
RSS_PATH = "/feeds/rss.xml"
ATOM_PATH = "/feeds/atom.xml"
NOT_FOUND_KEY = "404.html"


def article_path(published_at: datetime, slug: str, zone: ZoneInfo) -> str:
    return f"/{published_at.astimezone(zone):%Y/%m/%d}/{slug}/"


def listing_path(kind: ListingKind, slug: str = "") -> str:
    """/ for home; /section/<slug>/, /tag/<slug>/, /author/<slug>/ for the others (slugs are ASCII)."""
    return HOME_PATH if kind == "home" else f"/{kind}/{slug}/"


def page_key(path: str) -> str:
    """The site-bucket key of a URL path: /a/b/ -> a/b/index.html, / -> index.html."""
    return path.lstrip("/") + "index.html" if path.endswith("/") else path.lstrip("/")
