"""Sitemaps (sitemaps.org 0.9, with Google's image and news extensions) and robots.txt.

Pure functions of the articles and the site: the same input gives the same bytes, and no date
here ever comes from the wall clock.

The site's /sitemap.xml is always a sitemap index that lists one urlset per month with published
articles (/sitemaps/YYYY-MM.xml), so a publish only rewrites the month it touched and the index,
never a document that grows with the whole archive. /sitemap-news.xml is the Google News sitemap
of the last two days, measured from the newest article it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from urllib.parse import quote

from lxml import etree

from functions.models.article import ArticleSummary
from functions.models.paths import NEWS_SITEMAP_PATH, SITEMAP_PATH, sitemap_month_path
from functions.models.site import Site
from functions.text import clean_text

__all__ = [
    "IMAGE_NS",
    "MAX_NEWS_URLS",
    "MAX_SITEMAP_BYTES",
    "MAX_SITEMAP_URLS",
    "NEWS_NS",
    "NEWS_WINDOW",
    "ROBOTS_CONTENT_TYPE",
    "SITEMAP_CONTENT_TYPE",
    "SITEMAP_NS",
    "SitemapMonth",
    "news_language",
    "render_news_sitemap",
    "render_robots",
    "render_sitemap_index",
    "render_sitemap_month",
    "sitemap_month_of",
    "sitemap_months",
]

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"

SITEMAP_CONTENT_TYPE = "application/xml"
ROBOTS_CONTENT_TYPE = "text/plain; charset=utf-8"

# sitemaps.org: at most 50,000 URLs (or sitemaps, in an index) and 50 MiB uncompressed per file.
MAX_SITEMAP_URLS = 50_000
MAX_SITEMAP_BYTES = 52_428_800
# Google News: at most 1,000 <news:news> per sitemap, only articles of the last two days.
MAX_NEWS_URLS = 1_000
NEWS_WINDOW = timedelta(days=2)

# Characters a URI may carry unescaped, plus "%" so already-escaped URLs are left alone
# (the same set the feeds use).
_URI_SAFE = ":/?#[]@!$&'()*+,;=%~"

# Google News wants ISO 639 codes, except for Chinese: zh-cn (Simplified) and zh-tw (Traditional).
_TRADITIONAL_CHINESE = frozenset({"hant", "tw", "hk", "mo"})


@dataclass(frozen=True, slots=True)
class SitemapMonth:
    """One entry of the sitemap index: the month's urlset and when any of its articles last changed."""

    year: int
    month: int
    lastmod: datetime

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, got {self.month}")
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year must be 1..9999, got {self.year}")
        _require_aware(self.lastmod)

    @property
    def path(self) -> str:
        return sitemap_month_path(self.year, self.month)


def sitemap_month_of(article: ArticleSummary, site: Site) -> tuple[int, int]:
    """The (year, month) whose urlset lists the article: its publication month in the site's zone,
    the same calendar its URL (/YYYY/MM/DD/slug/) is built from."""
    local = _require_aware(article.published_at).astimezone(site.zone)
    return local.year, local.month


def sitemap_months(articles: Iterable[ArticleSummary], site: Site) -> list[SitemapMonth]:
    """The index entries for the given published articles: one per month, lastmod the newest
    updated_at in it, oldest month first. Callers with a per-month store pass that instead."""
    latest: dict[tuple[int, int], datetime] = {}
    for article in articles:
        if article.status != "published":
            continue
        key = sitemap_month_of(article, site)
        updated = _require_aware(article.updated_at)
        if key not in latest or updated > latest[key]:
            latest[key] = updated
    return [SitemapMonth(year, month, lastmod) for (year, month), lastmod in sorted(latest.items())]


def render_sitemap_index(months: Sequence[SitemapMonth], site: Site) -> bytes:
    """/sitemap.xml: a <sitemapindex> with one <sitemap> per month, oldest first."""
    ordered = sorted(months, key=lambda m: (m.year, m.month))
    _check_count(len(ordered), MAX_SITEMAP_URLS, "sitemaps in the index")
    for previous, current in pairwise(ordered):
        if (previous.year, previous.month) == (current.year, current.month):
            raise ValueError(f"month {current.year:04d}-{current.month:02d} is listed twice")
    root = etree.Element(_q(SITEMAP_NS, "sitemapindex"), nsmap={None: SITEMAP_NS})
    for month in ordered:
        entry = etree.SubElement(root, _q(SITEMAP_NS, "sitemap"))
        _text(entry, SITEMAP_NS, "loc", _uri(site.absolute(month.path)))
        _text(entry, SITEMAP_NS, "lastmod", _w3c(month.lastmod, site))
    return _serialize(root)


def render_sitemap_month(articles: Sequence[ArticleSummary], site: Site) -> bytes:
    """/sitemaps/YYYY-MM.xml: a <urlset> of the month's published articles, oldest first, each
    with its lead image (Google's image extension) when it has one."""
    ordered = sorted(_published(articles), key=lambda a: (a.published_at, a.id))
    _check_count(len(ordered), MAX_SITEMAP_URLS, "URLs in a sitemap")
    root = etree.Element(_q(SITEMAP_NS, "urlset"), nsmap={None: SITEMAP_NS, "image": IMAGE_NS})
    for article in ordered:
        url = etree.SubElement(root, _q(SITEMAP_NS, "url"))
        _text(url, SITEMAP_NS, "loc", _uri(site.absolute(article.path)))
        _text(url, SITEMAP_NS, "lastmod", _w3c(article.updated_at, site))
        if article.image is not None and article.image.src:
            image = etree.SubElement(url, _q(IMAGE_NS, "image"))
            _text(image, IMAGE_NS, "loc", _uri(site.absolute(article.image.src)))
    return _serialize(root)


def render_news_sitemap(articles: Sequence[ArticleSummary], site: Site) -> bytes:
    """/sitemap-news.xml: published articles of the two days up to the newest one's publication
    (boundary included), newest first, at most 1,000. Empty when there are none (Google accepts
    an empty news sitemap)."""
    ordered = sorted(_published(articles), key=lambda a: (a.published_at, a.id), reverse=True)
    recent: list[ArticleSummary] = []
    if ordered:
        cutoff = ordered[0].published_at - NEWS_WINDOW
        recent = [a for a in ordered if a.published_at >= cutoff][:MAX_NEWS_URLS]
    root = etree.Element(_q(SITEMAP_NS, "urlset"), nsmap={None: SITEMAP_NS, "news": NEWS_NS})
    publication_name = clean_text(site.name)
    for article in recent:
        url = etree.SubElement(root, _q(SITEMAP_NS, "url"))
        _text(url, SITEMAP_NS, "loc", _uri(site.absolute(article.path)))
        news = etree.SubElement(url, _q(NEWS_NS, "news"))
        publication = etree.SubElement(news, _q(NEWS_NS, "publication"))
        _text(publication, NEWS_NS, "name", publication_name)
        _text(publication, NEWS_NS, "language", news_language(article.language or site.language))
        _text(news, NEWS_NS, "publication_date", _w3c(article.published_at, site))
        _text(news, NEWS_NS, "title", clean_text(article.title))
    return _serialize(root)


def render_robots(site: Site) -> bytes:
    """/robots.txt: everything may be crawled except the API; both sitemaps are announced."""
    lines = [
        "User-agent: *",
        "Disallow: /api/",
        "",
        f"Sitemap: {_uri(site.absolute(SITEMAP_PATH))}",
        f"Sitemap: {_uri(site.absolute(NEWS_SITEMAP_PATH))}",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def news_language(tag: str) -> str:
    """The <news:language> of a BCP 47 tag: "vi-VN" -> "vi", "zh-Hant"/"zh-TW" -> "zh-tw",
    other Chinese -> "zh-cn"."""
    subtags = [part.lower() for part in tag.replace("_", "-").split("-") if part]
    if not subtags:
        raise ValueError("empty language tag")
    if subtags[0] == "zh":
        return "zh-tw" if _TRADITIONAL_CHINESE.intersection(subtags[1:]) else "zh-cn"
    return subtags[0]


def _published(articles: Iterable[ArticleSummary]) -> list[ArticleSummary]:
    # Drafts, scheduled and retracted articles have no public page to list (a retraction is a 410).
    return [a for a in articles if a.status == "published"]


def _require_aware(value: datetime) -> datetime:
    # astimezone() would read a naive datetime as the server's local time and shift it silently.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing to put a naive datetime in a sitemap: {value!r}")
    return value


def _w3c(value: datetime, site: Site) -> str:
    """W3C Datetime with seconds and the site's offset, e.g. 2023-05-10T16:30:00+07:00."""
    return _require_aware(value).astimezone(site.zone).isoformat(timespec="seconds")


def _uri(url: str) -> str:
    # Sitemaps want RFC 3986 URIs: non-ASCII (a Vietnamese file name, say) is percent-encoded as
    # UTF-8; "&" stays as is and becomes &amp; in the XML.
    return quote(clean_text(url), safe=_URI_SAFE)


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _text(parent: etree._Element, namespace: str, name: str, value: str) -> None:
    etree.SubElement(parent, _q(namespace, name)).text = value


def _check_count(count: int, limit: int, what: str) -> None:
    if count > limit:
        raise ValueError(f"{count} {what}; the sitemaps protocol allows at most {limit}")


def _serialize(root: etree._Element) -> bytes:
    body = bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True))
    if len(body) > MAX_SITEMAP_BYTES:
        raise ValueError(f"sitemap of {len(body)} bytes; the protocol allows at most {MAX_SITEMAP_BYTES}")
    return body
