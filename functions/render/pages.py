"""HTML pages: pure functions of the articles and the site, rendered through the one environment."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup

from functions.models.article import Article, ArticleSummary
from functions.models.paths import (
    FEED_TYPES,
    HOME_PATH,
    FeedFormat,
    ListingKind,
    feed_path,
    listing_month_path,
    listing_path,
)
from functions.models.site import Site
from functions.render.environment import (
    LISTING_LABELS,
    get_environment,
    iso,
    listing_heading,
    month_label,
)

__all__ = [
    "HOME_PATH",
    "FeedLink",
    "feed_links",
    "json_for_script",
    "render_article_page",
    "render_home_page",
    "render_listing_page",
    "render_month_page",
    "render_not_found_page",
    "render_preview_page",
    "render_retraction_page",
]

Month = tuple[int, int]  # (year, month) in the site's zone
# An edit within this long of publication is part of publishing it, not an update worth showing.
_UPDATE_SHOWN_AFTER = timedelta(minutes=1)
_OG_LOCALES = {"vi": "vi_VN", "en": "en_US"}


@dataclass(frozen=True, slots=True)
class PageLink:
    """A link to another page of a listing: a month page (named by its month) or the front page."""

    href: str
    month: Month | None = None


# How each feed format is named in a link title ("Thể thao (RSS)"); the same in every language.
_FEED_LABELS: dict[FeedFormat, str] = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}


@dataclass(frozen=True, slots=True)
class FeedLink:
    """One <link rel="alternate"> that lets browsers and readers discover a feed."""

    href: str
    type: str
    title: str
    label: str


def feed_links(site: Site, kind: ListingKind = "home", slug: str = "", name: str = "") -> list[FeedLink]:
    """The three feeds (RSS, Atom, JSON Feed) of the site or of one section, tag or author."""
    title = site.name if kind == "home" else f"{site.name} – {listing_heading(kind, name, site.language)}"
    return [
        FeedLink(
            href=feed_path(kind, slug, fmt),
            type=FEED_TYPES[fmt],
            title=f"{title} ({_FEED_LABELS[fmt]})",
            label=_FEED_LABELS[fmt],
        )
        for fmt in FEED_TYPES
    ]


# Inside <script> the HTML parser ends the element at the first "</script" whatever JSON thinks,
# so these become JSON escapes, which parse back to the same string. U+2028/U+2029 are escaped
# too, for older JavaScript parsers that treat them as line ends inside string literals.
_SCRIPT_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def json_for_script(data: Any) -> Markup:
    """JSON that is safe to place verbatim inside a <script> element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # str.replace, not str.translate: translate walks a non-ASCII (Vietnamese) string one
    # character at a time through a dict, several times slower for the same result, and no
    # replacement brings back a character a later one looks for.
    for character, escaped in _SCRIPT_ESCAPES:
        if character in text:
            text = text.replace(character, escaped)
    return Markup(text)  # noqa: S704 - escaped just above  # nosec B704


def render_article_page(article: Article, site: Site, related: Sequence[ArticleSummary] = ()) -> str:
    """The article's own page, at article.path, with its corrections and NewsArticle JSON-LD;
    `related`: the articles of its section to suggest (see related_articles in the publisher)."""
    return _render_article(article, site, preview_expires_at=None, related=related)


def render_preview_page(article: Article, site: Site, expires_at: datetime) -> str:
    """The article page as it will look, marked as an unpublished preview that search engines skip."""
    return _render_article(article, site, preview_expires_at=expires_at, related=())


def render_retraction_page(article: Article, site: Site) -> str:
    """What replaces a retracted article's page (served with 410): headline, date and reason only."""
    if article.retraction is None:
        raise ValueError(f"article {article.id} has not been retracted")
    return _render(
        "retraction.html",
        site,
        canonical=None,
        lang=site.language,
        description="",
        robots="noindex",
        article=article,
    )


def render_home_page(articles: Sequence[ArticleSummary], site: Site, older: Month | None = None) -> str:
    """The front page: the given articles, newest first; `older`: the month of the next older
    article, whose month page the page links to."""
    return _render(
        "index.html",
        site,
        canonical=site.absolute(HOME_PATH),
        lang=site.language,
        description=site.description,
        current_path=HOME_PATH,
        articles=_newest_first(articles),
        older=_month_link("home", "", older),
    )


def render_listing_page(
    kind: ListingKind,
    name: str,
    slug: str,
    articles: Sequence[ArticleSummary],
    site: Site,
    older: Month | None = None,
) -> str:
    """A section, tag or author page at listing_path(kind, slug): the given articles, newest first;
    `older` as on the front page."""
    if kind not in LISTING_LABELS:
        raise ValueError(f"no listing page of kind {kind!r}; the home page has render_home_page")
    heading = listing_heading(kind, name, site.language)
    return _render(
        "listing.html",
        site,
        canonical=site.absolute(listing_path(kind, slug)),
        lang=site.language,
        description=f"{heading} - {site.name}",
        current_path=listing_path(kind, slug),
        kind=kind,
        slug=slug,
        heading=heading,
        month=None,
        articles=_newest_first(articles),
        older=_month_link(kind, slug, older),
        newer=None,
        # The listing's own feeds, after the site's: what a reader subscribes to from this page.
        extra_feeds=feed_links(site, kind, slug, name),
    )


def render_month_page(
    kind: ListingKind,
    name: str,
    slug: str,
    month: Month,
    articles: Sequence[ArticleSummary],
    site: Site,
    older: Month | None = None,
    newer: Month | None = None,
) -> str:
    """One month of a listing (the site's for kind "home") at listing_month_path: that month's
    articles, newest first, linked to the nearest older and newer months that have any (the
    front page when no newer month has)."""
    label = month_label(month, site.language)
    heading = label if kind == "home" else f"{listing_heading(kind, name, site.language)} – {label}"
    return _render(
        "listing.html",
        site,
        canonical=site.absolute(listing_month_path(kind, slug, *month)),
        lang=site.language,
        description=f"{heading} - {site.name}",
        current_path=None,
        kind=kind,
        slug=slug,
        heading=heading,
        month=month,
        articles=_newest_first(articles),
        older=_month_link(kind, slug, older),
        newer=_month_link(kind, slug, newer) or PageLink(listing_path(kind, slug)),
        extra_feeds=feed_links(site, kind, slug, name) if kind != "home" else (),
    )


def _month_link(kind: ListingKind, slug: str, month: Month | None) -> PageLink | None:
    return PageLink(listing_month_path(kind, slug, *month), month) if month is not None else None


def render_not_found_page(site: Site) -> str:
    """The 404 page; it is served at whatever URL was missing, so it has no canonical URL."""
    return _render(
        "not_found.html",
        site,
        canonical=None,
        lang=site.language,
        description="",
        robots="noindex",
    )


def _render_article(
    article: Article,
    site: Site,
    *,
    preview_expires_at: datetime | None,
    related: Sequence[ArticleSummary],
) -> str:
    preview = preview_expires_at is not None
    return _render(
        "article.html",
        site,
        canonical=None if preview else site.absolute(article.path),
        lang=article.language or site.language,
        description=article.summary,
        robots="noindex, nofollow" if preview else None,
        article=article,
        updated=article.updated_at - article.published_at > _UPDATE_SHOWN_AFTER,
        related=[item for item in _newest_first(related) if item.id != article.id],
        preview_expires_at=preview_expires_at,
        # Structured data would advertise the public URL, which a preview must not do yet.
        json_ld=None if preview else json_for_script(_news_article(article, site)),
        corrections=sorted(article.corrections, key=lambda correction: correction.at),
        credits=_photo_credits(article),
        extra_feeds=feed_links(site, "section", article.section.slug, article.section.name),
    )


def _news_article(article: Article, site: Site) -> dict[str, Any]:
    """schema.org NewsArticle; dates carry the site offset, like the visible ones."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": article.summary,
        "datePublished": iso(article.published_at, site.timezone),
        "dateModified": iso(article.updated_at, site.timezone),
        "author": {
            "@type": "Person",
            "name": article.author.name,
            "url": site.absolute(listing_path("author", article.author.slug)),
        },
        "publisher": {"@type": "Organization", "name": site.name, "url": site.absolute(HOME_PATH)},
        "mainEntityOfPage": site.absolute(article.path),
        "inLanguage": article.language or site.language,
        "articleSection": article.section.name,
    }
    if article.image is not None:
        data["image"] = site.absolute(article.image.src)
    return data


def _photo_credits(article: Article) -> list[str]:
    # Body images come from body_html, where a credit has no element of its own, so credits are
    # listed once under the body instead, in image order and without repeats.
    credits: list[str] = []
    for image in ([article.image] if article.image else []) + list(article.images):
        if image.credit and image.credit not in credits:
            credits.append(image.credit)
    return credits


def _newest_first(articles: Sequence[ArticleSummary]) -> list[ArticleSummary]:
    # Ties broken by id so two articles published in the same second keep a stable order.
    return sorted(articles, key=lambda a: (a.published_at, a.id), reverse=True)


def _render(
    template_name: str,
    site: Site,
    *,
    canonical: str | None,
    lang: str,
    description: str,
    robots: str | None = None,
    extra_feeds: Sequence[FeedLink] = (),
    current_path: str | None = None,
    **context: Any,
) -> str:
    # Everything base.html needs is supplied here, so StrictUndefined catches a page that forgets one.
    template = get_environment().get_template(template_name)
    return template.render(
        site=site,
        lang=lang,
        description=description,
        canonical=canonical,
        robots=robots,
        og_locale=_OG_LOCALES.get(lang.split("-")[0].lower(), lang.replace("-", "_")),
        current_path=current_path,
        # Every page advertises the site's feeds first, then those of what it shows (if any).
        site_feeds=feed_links(site),
        feeds=[*feed_links(site), *extra_feeds],
        **context,
    )
