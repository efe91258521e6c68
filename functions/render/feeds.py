"""RSS 2.0 and Atom 1.0 feeds, built with feedgen: pure functions of the articles and the site."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree
from markupsafe import escape

from functions.models.article import Article, Image
from functions.models.paths import ATOM_PATH, RSS_PATH
from functions.models.site import Site
from functions.text import clean_text

# RSS_PATH and ATOM_PATH live in functions.models.paths; they stay importable from here for
# the callers that predate it.
__all__ = [
    "ATOM_PATH",
    "EMPTY_FEED_UPDATED",
    "GENERATOR",
    "RSS_PATH",
    "absolutize_urls",
    "entry_id",
    "feed_id",
    "render_atom",
    "render_rss",
]

# What "updated" means for a feed with no entries: any fixed instant will do, as long as it is
# never the wall clock (which would make every rebuild a new object).
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)

# feedgen's default generator string embeds its version: a library upgrade would change every
# feed's bytes without any content change.
GENERATOR = "presswire"

_ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# src/href/poster values that are site-relative ("/media/..."), but not protocol-relative ("//cdn").
_RELATIVE_URL_ATTR = re.compile(r"""(?P<lead>\s(?:src|href|poster)\s*=\s*)(?P<quote>["']?)/(?!/)""", re.I)

# Re-reads feedgen's own output, so it is trusted: huge_tree only lifts libxml2's 10 MB text-node
# cap, which a feed of long articles could otherwise hit; entities and network stay off regardless.
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)

# Characters a URI may carry unescaped, plus "%" so already-escaped URLs are left alone.
_URI_SAFE = ":/?#[]@!$&'()*+,;=%~"

FeedFormat = Literal["rss", "atom"]


@dataclass(frozen=True, slots=True)
class _Link:
    href: str
    rel: str
    type: str | None = None
    length: str | None = None

    def as_feedgen(self) -> dict[str, str]:
        data = {"href": self.href, "rel": self.rel}
        if self.type:
            data["type"] = self.type
        if self.length:
            data["length"] = self.length
        return data


@dataclass(frozen=True, slots=True)
class _EntryExtras:
    """What the Atom post-processing needs per entry, in feed order."""

    links: tuple[_Link, ...]
    language: str | None


def render_rss(articles: Sequence[Article], site: Site) -> bytes:
    """RSS 2.0 with content:encoded, dc:creator and media:content; newest first, at most feed_size."""
    fg, _ = _build(articles, site, "rss")
    return bytes(fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True))


def render_atom(articles: Sequence[Article], site: Site) -> bytes:
    """Atom 1.0 (RFC 4287); newest first, at most feed_size entries."""
    fg, extras = _build(articles, site, "atom")
    raw = fg.atom_str(pretty=False, encoding="UTF-8", xml_declaration=True)
    return _repair_atom_entries(raw, extras)


def feed_id(site: Site) -> str:
    """The Atom feed id: a tag URI (RFC 4151) that never changes with the site's URL scheme or path."""
    return f"tag:{site.tag_authority},2000:feed"


def entry_id(article: Article, site: Site) -> str:
    """The entry id / RSS guid: an ASCII tag URI dated by the (local) publication day.

    It stays stable as long as published_at does not move to another day once published; in
    particular a correction (which moves only updated_at) keeps it, so readers see an update of
    the same item rather than a new one.
    """
    minted = _local(article.published_at, site).date().isoformat()
    return f"tag:{site.tag_authority},{minted}:{article.id}"


def absolutize_urls(html: str, site: Site) -> str:
    """Make site-relative src/href URLs absolute: feed readers have no page URL to resolve them against."""
    return _RELATIVE_URL_ATTR.sub(lambda m: f"{m['lead']}{m['quote']}{site.url}/", html)


def _local(value: datetime, site: Site) -> datetime:
    # astimezone() would read a naive datetime as the server's local time and shift it silently.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing to put a naive datetime in a feed: {value!r}")
    return value.astimezone(site.zone)


def _uri(url: str) -> str:
    # XML would carry a non-ASCII file name happily, but enclosure/media URLs go to clients that
    # expect URIs, not IRIs.
    return quote(clean_text(url), safe=_URI_SAFE)


def _latest(articles: Sequence[Article], site: Site) -> list[Article]:
    # Callers pass newest first already; sorting again is cheap and makes the output independent
    # of the order a query happened to return (ties broken by id, so it stays deterministic).
    ordered = sorted(articles, key=lambda a: (a.published_at, a.id), reverse=True)
    return ordered[: site.feed_size]


def _build(
    articles: Sequence[Article], site: Site, fmt: FeedFormat
) -> tuple[FeedGenerator, list[_EntryExtras]]:
    entries = _latest(articles, site)
    updated = _local(max((a.updated_at for a in entries), default=EMPTY_FEED_UPDATED), site)

    fg = FeedGenerator()
    fg.load_extension("media", atom=True, rss=True)
    # Atom has <author><name>; dc:creator is only the RSS answer to <author> wanting an e-mail.
    fg.load_extension("dc", atom=False, rss=True)

    fg.id(feed_id(site))
    fg.title(clean_text(site.name))
    fg.subtitle(clean_text(site.description or site.name))
    fg.language(site.language)
    fg.generator(GENERATOR)
    # Atom requires a feed-level author when an entry might lack one (and an empty feed has none);
    # without an e-mail feedgen rightly leaves RSS's managingEditor out.
    fg.author(name=clean_text(site.name))
    # feedgen defaults this to datetime.now(); it sets both Atom <updated> and RSS <lastBuildDate>.
    fg.updated(updated)
    if fmt == "rss":
        fg.pubDate(updated)

    self_url = site.absolute(RSS_PATH if fmt == "rss" else ATOM_PATH)
    self_type = "application/rss+xml" if fmt == "rss" else "application/atom+xml"
    # Order matters: feedgen makes the LAST link the RSS channel <link>, which must be the site.
    fg.link(href=self_url, rel="self", type=self_type)
    fg.link(href=site.absolute("/"), rel="alternate", type="text/html")

    extras: list[_EntryExtras] = []
    for article in entries:
        fe = fg.add_entry(order="append")
        links = _fill_entry(fe, article, site)
        language = article.language if article.language != site.language else None
        extras.append(_EntryExtras(links=tuple(links), language=language))
    return fg, extras


def _fill_entry(fe: FeedEntry, article: Article, site: Site) -> list[_Link]:
    fe.id(entry_id(article, site))
    fe.title(clean_text(article.title))
    fe.published(_local(article.published_at, site))
    # FeedEntry.updated defaults to now as well.
    fe.updated(_local(article.updated_at, site))

    summary = clean_text(article.summary)
    # Atom <summary> is plain text; RSS <description> is read as HTML, so escape it once more
    # or a "<script>" typed into a summary would reach readers as markup. The call order matters:
    # description() also overwrites the Atom content, so content() must come last.
    fe.summary(summary)
    fe.description(str(escape(summary)))
    fe.content(clean_text(absolutize_urls(article.body_html, site)), type="html")

    author = clean_text(article.author.name)
    fe.author(name=author)
    fe.dc.dc_creator(author)

    for taxon in (article.section, *article.tags):
        fe.category(term=clean_text(taxon.slug), label=clean_text(taxon.name))

    links = [_Link(href=_uri(site.absolute(article.path)), rel="alternate", type="text/html")]
    lead = article.image
    if lead is not None and lead.content_type:
        links.append(
            _Link(
                href=_uri(site.absolute(lead.src)),
                rel="enclosure",
                type=lead.content_type,
                # RSS requires a length; the RSS Board's advice for an unknown size is 0.
                length=str(lead.length or 0),
            )
        )
    # feedgen derives the RSS <link> and <enclosure> from these; Atom gets them repaired later.
    fe.link([link.as_feedgen() for link in links])

    for image in _media_images(article):
        media: dict[str, str] = {"url": _uri(site.absolute(image.src)), "medium": "image"}
        if image.content_type:
            media["type"] = image.content_type
        if image.length:
            media["fileSize"] = str(image.length)
        # Image.credit is not emitted as media:credit: feedgen 1.0's media extension only knows
        # media:content and media:thumbnail, and the credit already shows on the page.
        # group=None puts media:content straight under the item instead of a media:group.
        fe.media.content(media, group=None)
    return links


def _media_images(article: Article) -> list[Image]:
    seen: set[str] = set()
    unique: list[Image] = []
    for image in ([article.image] if article.image else []) + list(article.images):
        if image.src not in seen:
            seen.add(image.src)
            unique.append(image)
    return unique


def _repair_atom_entries(raw: bytes, extras: list[_EntryExtras]) -> bytes:
    """Rewrite each entry's <link> elements from the data we gave feedgen, and mark its language.

    feedgen 1.0's FeedEntry.atom_entry rebinds its loop variable to the new element before reading
    rel/type/length from it, so every entry link comes out as a bare <link href>: the enclosure
    turns into a second (implicit) alternate link. Rebuilding the links here keeps the output
    right whether or not a later feedgen fixes that.
    """
    root = etree.fromstring(raw, _SAFE_PARSER)
    entries = root.findall(f"{{{_ATOM_NS}}}entry")
    if len(entries) != len(extras):
        raise RuntimeError("feedgen emitted a different number of Atom entries than were added")
    for entry, extra in zip(entries, extras, strict=True):
        # feedgen has no per-entry xml:lang; it matters when one article differs from the site.
        if extra.language:
            entry.set(_XML_LANG, extra.language)
        old = entry.findall(f"{{{_ATOM_NS}}}link")
        position = entry.index(old[0]) if old else len(entry)
        for element in old:
            entry.remove(element)
        for offset, link in enumerate(extra.links):
            element = etree.Element(f"{{{_ATOM_NS}}}link", href=link.href, rel=link.rel)
            if link.type:
                element.set("type", link.type)
            if link.length:
                element.set("length", link.length)
            entry.insert(position + offset, element)
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True))
