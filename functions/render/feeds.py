"""RSS 2.0 and Atom 1.0 feeds, built with feedgen: pure functions of the articles and the site.

What the output is held to (tests/unit/test_feed_validity.py checks the machine-checkable part):
- Atom: RFC 4287, validated against its Appendix B RELAX NG schema; RFC 5005 (fh:archive and the
  current / prev-archive / next-archive links) and RFC 6721 (at:deleted-entry) for archive pages.
- RSS: the RSS 2.0 specification (RSS Board), with the RSS Advisory Board's best practices.
- The W3C Feed Validation Service's usual warnings, avoided by construction: every feed has an
  atom:link rel="self" whose href is the URL it is published at (RSS and Atom); RSS dates are
  RFC 822 with a numeric zone; RSS bylines are dc:creator (RSS <author> wants an e-mail address)
  and no managingEditor/webMaster without one; guids are tag URIs marked isPermaLink="false";
  every Atom entry has its own author (and the feed one too); item content is in
  content:encoded with absolute URLs only (absolutize_urls); enclosures carry a length; ids are
  ASCII; XML-illegal control characters never reach the document (clean_text).
- WebSub (W3C Recommendation): rel="hub" links beside rel="self", in Atom and in RSS (atom:link).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal
from urllib.parse import quote

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree
from markupsafe import escape

from functions.models.article import Article, Image
from functions.models.feeds import SITE_FEED, ArchiveLinks, FeedSpec, Tombstone
from functions.models.paths import ATOM_PATH, FEED_TYPES, RSS_PATH, archive_path
from functions.models.site import Site
from functions.render.environment import listing_heading
from functions.text import clean_text, strip_xml_illegal

# RSS_PATH and ATOM_PATH live in functions.models.paths; they stay importable from here for
# the callers that predate it.
__all__ = [
    "ATOM_PATH",
    "EMPTY_FEED_UPDATED",
    "GENERATOR",
    "RSS_PATH",
    "EntryFields",
    "absolutize_urls",
    "clear_caches",
    "entry_fields",
    "entry_id",
    "feed_id",
    "feed_subtitle",
    "feed_title",
    "feed_updated",
    "latest",
    "local_time",
    "media_images",
    "render_atom",
    "render_rss",
    "render_rss_and_atom",
    "rights",
    "uri",
]

# What "updated" means for a feed with no entries: any fixed instant will do, as long as it is
# never the wall clock (which would make every rebuild a new object).
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)

# feedgen's default generator string embeds its version: a library upgrade would change every
# feed's bytes without any content change.
GENERATOR = "presswire"

_ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# RFC 5005 (feed history) and RFC 6721 (tombstones).
_FH_NS = "http://purl.org/syndication/history/1.0"
_AT_NS = "http://purl.org/atompub/tombstones/1.0"

# src/href/poster values that are site-relative ("/media/..."), but not protocol-relative ("//cdn"):
# what follows the "=" of such an attribute, and the attribute's name right before that "=" (its
# spaces aside). One pattern for the whole attribute, led by \s, made the regex engine try every
# position of a body, about ten times slower than finding the "=" first and looking back.
_RELATIVE_URL_VALUE = re.compile(r"""=\s*["']?/(?!/)""")
_URL_ATTRIBUTE_NAME = re.compile(r"\s(?:src|href|poster)\Z", re.I)
_LONGEST_NAME = len(" poster")

# A listing's articles are in its three feeds, most of them also in the site's feeds and in their
# section's, tag's and author's, and again at the next publish: each time every text is cleaned,
# every URL escaped and every body's URLs made absolute. Those are pure functions of strings, so
# a warm publisher keeps the results for the strings it met lately: bounded, the bodies to what
# one publish renders (the site's feeds and those of a few listings) and no more, as a body may be
# large.
_TEXT_CACHE_SIZE = 8192
_BODY_CACHE_SIZE = 256

# Re-reads feedgen's own output (archive pages only: their extensions need the Atom namespace
# resolved; other feeds keep feedgen's tree), so it is trusted: huge_tree only lifts libxml2's
# 10 MB text-node cap, which a feed of long articles could otherwise hit; entities and network
# stay off regardless. Blank text is dropped so that pretty-printing indents the elements added
# afterwards too.
_SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, remove_blank_text=True
)

# Characters a URI may carry unescaped, plus "%" so already-escaped URLs are left alone.
_URI_SAFE = ":/?#[]@!$&'()*+,;=%~"

FeedFormat = Literal["rss", "atom"]

# An archive page's own URL, when the caller does not say it: pages are numbered from 1 upwards.
_ARCHIVE_PAGE = re.compile(re.escape(archive_path(0)).replace("0", r"(?P<page>\d+)", 1) + "$")


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
class EntryFields:
    """One article as every feed format shows it: its text cleaned and its URLs made absolute
    once, so that a listing's RSS, Atom and JSON Feed share that work (and never disagree)."""

    article: Article
    id: str
    title: str
    published: datetime
    updated: datetime
    summary: str
    content_html: str
    author: str
    categories: tuple[tuple[str, str], ...]  # (term, label): the section, then the tags
    links: tuple[_Link, ...]  # the page (alternate), then the lead image (enclosure) if typed
    media: tuple[tuple[Image, str], ...]  # media_images() with each one's absolute URI
    language: str | None  # only where the article's differs from the site's

    @property
    def url(self) -> str:
        return self.links[0].href


def entry_fields(article: Article, site: Site) -> EntryFields:
    """The feed entry of an article (every text through clean_text, every URL absolute)."""
    links = [_Link(href=uri(site.absolute(article.path)), rel="alternate", type="text/html")]
    lead = article.image
    if lead is not None and lead.content_type:
        links.append(
            _Link(
                href=uri(site.absolute(lead.src)),
                rel="enclosure",
                type=lead.content_type,
                # RSS requires a length; the RSS Board's advice for an unknown size is 0.
                length=str(lead.length or 0),
            )
        )
    return EntryFields(
        article=article,
        id=entry_id(article, site),
        title=_clean(article.title),
        published=local_time(article.published_at, site),
        updated=local_time(article.updated_at, site),
        summary=_clean(article.summary),
        content_html=_feed_html(article.body_html, site.url),
        author=_clean(article.author.name),
        categories=tuple(
            (_clean(taxon.slug), _clean(taxon.name)) for taxon in (article.section, *article.tags)
        ),
        links=tuple(links),
        media=tuple((image, uri(site.absolute(image.src))) for image in media_images(article)),
        language=article.language if article.language != site.language else None,
    )


def render_rss(articles: Sequence[Article], site: Site, feed: FeedSpec = SITE_FEED) -> bytes:
    """RSS 2.0 with content:encoded, dc:creator and media:content; newest first, at most feed_size."""
    entries = [entry_fields(article, site) for article in latest(articles, site)]
    fg = _generator(entries, site, feed)
    return _rss(fg, site, feed)


def render_rss_and_atom(
    entries: Sequence[EntryFields],
    site: Site,
    feed: FeedSpec = SITE_FEED,
    archive: ArchiveLinks | None = None,
) -> tuple[bytes, bytes]:
    """The same bytes as render_rss and render_atom (a head feed's `archive` links, not an archive
    page's), from entries already prepared and ordered (entry_fields of latest()): one feedgen
    generator serves both documents, so each entry is cleaned and handed to feedgen once."""
    if archive is not None and archive.is_archive:
        raise ValueError("an archive page is Atom only: use render_atom")
    fg = _generator(entries, site, feed)
    atom = _atom(fg, entries, site, feed, site.absolute(feed.path("atom")), archive)
    return _rss(fg, site, feed), atom


def render_atom(
    articles: Sequence[Article],
    site: Site,
    feed: FeedSpec = SITE_FEED,
    archive: ArchiveLinks | None = None,
    deleted: Sequence[Tombstone] = (),
    *,
    self_path: str | None = None,
) -> bytes:
    """Atom 1.0 (RFC 4287); newest first, at most feed_size entries.

    With `archive`, the RFC 5005 links; an archive page (archive.is_archive) is marked fh:archive,
    holds every article it is given (never cut to feed_size) and is identified as the feed it
    archives. Its rel="self" is `self_path` or, by default, the archive_path() page that sits
    between its prev-archive and next-archive links. `deleted` become RFC 6721 at:deleted-entry
    tombstones.
    """
    is_archive = archive is not None and archive.is_archive
    if self_path is None:
        self_path = _archive_self_path(archive) if archive is not None and is_archive else feed.path("atom")
    entries = [entry_fields(article, site) for article in latest(articles, site, limit=not is_archive)]
    fg = _generator(entries, site, feed, deleted)
    return _atom(fg, entries, site, feed, site.absolute(self_path), archive, deleted)


def feed_id(site: Site, feed: FeedSpec = SITE_FEED) -> str:
    """The Atom feed id: a tag URI (RFC 4151) that never changes with the site's URL scheme or path.

    The site's feed keeps the id it has always had; a listing's is distinct per kind and slug.
    """
    base = f"tag:{site.tag_authority},2000:feed"
    if feed.kind == "home":
        return base
    return f"{base}:{feed.kind}:{quote(feed.slug, safe='-._~')}"


def feed_title(site: Site, feed: FeedSpec = SITE_FEED) -> str:
    """The site name, or "<site> – Chuyên mục: <name>" (in the site's language) for a listing."""
    if feed.kind == "home":
        return clean_text(site.name)
    return clean_text(f"{site.name} – {listing_heading(feed.kind, feed.name or feed.slug, site.language)}")


def feed_subtitle(site: Site, feed: FeedSpec = SITE_FEED) -> str:
    """The site description, or for a listing the description its HTML page carries."""
    if feed.kind == "home":
        return clean_text(site.description or site.name)
    heading = listing_heading(feed.kind, feed.name or feed.slug, site.language)
    return clean_text(f"{heading} - {site.name}")


def rights(site: Site) -> str:
    """Atom <rights> / RSS <copyright>: the rights holder and the usage terms, when the site has them."""
    parts = [f"© {site.rights_holder.strip().rstrip('.')}"] if site.rights_holder.strip() else []
    if site.usage_terms.strip():
        parts.append(site.usage_terms.strip())
    return clean_text(". ".join(parts))


def feed_updated(entries: Sequence[Article], site: Site, deleted: Sequence[Tombstone] = ()) -> datetime:
    """The latest change among the entries (and tombstones): never the wall clock."""
    instants = [a.updated_at for a in entries] + [t.when for t in deleted]
    return local_time(max(instants, default=EMPTY_FEED_UPDATED), site)


def entry_id(article: Article, site: Site) -> str:
    """The entry id / RSS guid: an ASCII tag URI dated by the (local) publication day.

    It stays stable as long as published_at does not move to another day once published; in
    particular a correction (which moves only updated_at) keeps it, so readers see an update of
    the same item rather than a new one.
    """
    minted = local_time(article.published_at, site).date().isoformat()
    return f"tag:{site.tag_authority},{minted}:{article.id}"


def absolutize_urls(html: str, site: Site) -> str:
    """Make site-relative src/href URLs absolute: feed readers have no page URL to resolve them against."""
    return _absolutize(html, site.url)


@lru_cache(maxsize=_TEXT_CACHE_SIZE)
def _clean(text: str) -> str:
    return clean_text(text)


@lru_cache(maxsize=_BODY_CACHE_SIZE)
def _feed_html(body_html: str, base_url: str) -> str:
    """A body as feeds carry it. Serialized HTML gets XML hygiene only: NFC over markup can
    rewrite it (strip_xml_illegal)."""
    return strip_xml_illegal(_absolutize(body_html, base_url))


def clear_caches() -> None:
    """Forget every cleaned text, URI and body (a benchmark's first render; never needed for
    correctness: what is cached is a pure function of its key)."""
    for cache in (_clean, _feed_html, uri):
        cache.cache_clear()


def _absolutize(html: str, base_url: str) -> str:
    parts: list[str] = []
    copied = 0
    for value in _RELATIVE_URL_VALUE.finditer(html):
        name_end = value.start()
        while name_end and html[name_end - 1].isspace():  # str.isspace() is exactly re's \s
            name_end -= 1
        if _URL_ATTRIBUTE_NAME.search(html, max(0, name_end - _LONGEST_NAME), name_end):
            slash = value.end() - 1
            parts += (html[copied:slash], base_url)
            copied = slash
    if not parts:
        return html
    parts.append(html[copied:])
    return "".join(parts)


def local_time(value: datetime, site: Site) -> datetime:
    """The instant in the site's zone; a naive datetime is refused, never guessed."""
    # astimezone() would read a naive datetime as the server's local time and shift it silently.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing to put a naive datetime in a feed: {value!r}")
    return value.astimezone(site.zone)


@lru_cache(maxsize=_TEXT_CACHE_SIZE)
def uri(url: str) -> str:
    """A URL as an ASCII URI (percent-encoded), its XML-illegal characters dropped."""
    # XML would carry a non-ASCII file name happily, but enclosure/media URLs go to clients that
    # expect URIs, not IRIs.
    return quote(clean_text(url), safe=_URI_SAFE)


def latest(articles: Sequence[Article], site: Site, *, limit: bool = True) -> list[Article]:
    """Newest first (ties by id), at most site.feed_size unless limit is False."""
    # Callers pass newest first already; sorting again is cheap and makes the output independent
    # of the order a query happened to return (ties broken by id, so it stays deterministic).
    ordered = sorted(articles, key=lambda a: (a.published_at, a.id), reverse=True)
    return ordered[: site.feed_size] if limit else ordered


def _archive_self_path(archive: ArchiveLinks) -> str:
    """The archive_path() page between an archive page's prev-archive and next-archive links."""
    for link, step in ((archive.prev_archive, 1), (archive.next_archive, -1)):
        match = _ARCHIVE_PAGE.search(link or "")
        if match:
            return archive_path(int(match["page"]) + step)
    if archive.prev_archive or archive.next_archive:
        raise ValueError("cannot tell this archive page's own URL from its links: pass self_path")
    return archive_path(1)  # the only archive page there is


def _generator(
    entries: Sequence[EntryFields], site: Site, feed: FeedSpec, deleted: Sequence[Tombstone] = ()
) -> FeedGenerator:
    """A generator holding what RSS and Atom share; _rss and _atom add what differs."""
    fg = FeedGenerator()
    fg.load_extension("media", atom=True, rss=True)
    # Atom has <author><name>; dc:creator is only the RSS answer to <author> wanting an e-mail.
    fg.load_extension("dc", atom=False, rss=True)

    # An archive page is a piece of the site's feed, so it carries that feed's id (RFC 5005 §4).
    fg.id(feed_id(site, feed))
    fg.title(feed_title(site, feed))
    fg.language(site.language)
    fg.generator(GENERATOR)
    if rights(site):
        fg.rights(rights(site))
    # Atom requires a feed-level author when an entry might lack one (and an empty feed has none);
    # without an e-mail feedgen rightly leaves RSS's managingEditor out.
    fg.author(name=clean_text(site.name))
    # feedgen defaults this to datetime.now(); it sets both Atom <updated> and RSS <lastBuildDate>.
    fg.updated(feed_updated([entry.article for entry in entries], site, deleted))
    for entry in entries:
        _add_entry(fg.add_entry(order="append"), entry)
    return fg


def _set_links(
    fg: FeedGenerator,
    site: Site,
    fmt: FeedFormat,
    feed: FeedSpec,
    self_url: str,
    archive: ArchiveLinks | None = None,
) -> None:
    # Order matters: feedgen makes the LAST link the RSS channel <link>, which must be the page
    # the feed mirrors; RSS gets only the self link from feedgen, its hubs are added afterwards.
    fg.link(href=self_url, rel="self", type=FEED_TYPES[fmt], replace=True)
    for hub in site.websub_hubs:
        fg.link(href=uri(hub), rel="hub")
    if archive is not None:
        for rel, target in (
            ("current", archive.current),
            ("prev-archive", archive.prev_archive),
            ("next-archive", archive.next_archive),
        ):
            if target:
                fg.link(href=uri(site.absolute(target)), rel=rel, type=FEED_TYPES["atom"])
    fg.link(href=site.absolute(feed.page_path), rel="alternate", type="text/html")


def _rss(fg: FeedGenerator, site: Site, feed: FeedSpec) -> bytes:
    # Atom <subtitle> is plain text, but RSS <description> (channel and item alike) is read as
    # HTML: a listing's subtitle holds a section, tag or author name, which must not reach
    # readers as markup, so it is escaped once more (as the item descriptions are).
    fg.subtitle(str(escape(feed_subtitle(site, feed))))
    fg.pubDate(fg.updated())
    _set_links(fg, site, "rss", feed, site.absolute(feed.path("rss")))
    # feedgen's tree itself (what rss_str serializes), not its bytes parsed back: the same
    # document, without serializing and parsing the whole feed once more.
    root, _document = fg._create_rss()
    return _finish_rss(root, site)


def _atom(
    fg: FeedGenerator,
    entries: Sequence[EntryFields],
    site: Site,
    feed: FeedSpec,
    self_url: str,
    archive: ArchiveLinks | None,
    deleted: Sequence[Tombstone] = (),
) -> bytes:
    fg.subtitle(feed_subtitle(site, feed))
    _set_links(fg, site, "atom", feed, self_url, archive)
    is_archive = archive is not None and archive.is_archive
    if not is_archive and not deleted:
        # As for RSS, feedgen's tree itself rather than its bytes parsed back. Its elements have
        # no namespace (feedgen writes xmlns="...Atom" as a plain attribute of <feed>), which
        # serializes to the same bytes; the fh: and at: extensions below need the parsed tree.
        root, _document = fg._create_atom()
        _repair_atom_entries(root, entries, namespace="")
        return _serialize(root)
    raw = fg.atom_str(pretty=False, encoding="UTF-8", xml_declaration=True)
    return _finish_atom(raw, entries, site, is_archive=is_archive, deleted=deleted)


def _add_entry(fe: FeedEntry, entry: EntryFields) -> None:
    fe.id(entry.id)
    fe.title(entry.title)
    fe.published(entry.published)
    # FeedEntry.updated defaults to now as well.
    fe.updated(entry.updated)

    # Atom <summary> is plain text; RSS <description> is read as HTML, so escape it once more
    # or a "<script>" typed into a summary would reach readers as markup. The call order matters:
    # description() also overwrites the Atom content, so content() must come last.
    fe.summary(entry.summary)
    fe.description(str(escape(entry.summary)))
    fe.content(entry.content_html, type="html")

    fe.author(name=entry.author)
    fe.dc.dc_creator(entry.author)

    for term, label in entry.categories:
        fe.category(term=term, label=label)

    # feedgen derives the RSS <link> and <enclosure> from these; Atom gets them repaired later.
    fe.link([link.as_feedgen() for link in entry.links])

    for image, url in entry.media:
        media: dict[str, str] = {"url": url, "medium": "image"}
        if image.content_type:
            media["type"] = image.content_type
        if image.length:
            media["fileSize"] = str(image.length)
        # Image.credit is not emitted as media:credit: feedgen 1.0's media extension only knows
        # media:content and media:thumbnail, and the credit already shows on the page.
        # group=None puts media:content straight under the item instead of a media:group.
        fe.media.content(media, group=None)


def media_images(article: Article) -> list[Image]:
    """The lead image then the body images, each once."""
    seen: set[str] = set()
    unique: list[Image] = []
    for image in ([article.image] if article.image else []) + list(article.images):
        if image.src not in seen:
            seen.add(image.src)
            unique.append(image)
    return unique


def _finish_rss(root: etree._Element, site: Site) -> bytes:
    """Add the WebSub hubs (atom:link rel="hub", next to rel="self"), which feedgen's RSS omits."""
    channel = root.find("channel")
    if channel is None:
        raise RuntimeError("feedgen emitted RSS without a channel")
    self_link = channel.find(f"{{{_ATOM_NS}}}link[@rel='self']")
    position = channel.index(self_link) + 1 if self_link is not None else len(channel)
    for offset, hub in enumerate(site.websub_hubs):
        link = etree.Element(f"{{{_ATOM_NS}}}link", href=uri(hub), rel="hub")
        channel.insert(position + offset, link)
    return _serialize(root)


def _finish_atom(
    raw: bytes,
    entries: Sequence[EntryFields],
    site: Site,
    *,
    is_archive: bool,
    deleted: Sequence[Tombstone],
) -> bytes:
    root = etree.fromstring(raw, _SAFE_PARSER)
    _repair_atom_entries(root, entries, namespace=f"{{{_ATOM_NS}}}")
    # RFC 4287's schema admits foreign elements in a feed only among its metadata, before the
    # first entry, so fh:archive and the tombstones go there (RFC 6721 allows any position).
    first_entry = root.find(f"{{{_ATOM_NS}}}entry")
    position = root.index(first_entry) if first_entry is not None else len(root)
    extensions: list[etree._Element] = []
    if is_archive:
        extensions.append(etree.Element(f"{{{_FH_NS}}}archive"))
    for tombstone in sorted(deleted, key=lambda t: (t.when, t.ref), reverse=True):
        element = etree.Element(
            f"{{{_AT_NS}}}deleted-entry",
            ref=clean_text(tombstone.ref),
            when=local_time(tombstone.when, site).isoformat(),
        )
        if tombstone.comment:
            comment = etree.SubElement(element, f"{{{_AT_NS}}}comment")
            comment.text = clean_text(tombstone.comment)
        extensions.append(element)
    for offset, element in enumerate(extensions):
        root.insert(position + offset, element)
    if extensions:
        # Declare fh:/at: once on <feed> rather than on every element that uses them.
        used = {"fh": _FH_NS} if is_archive else {}
        if deleted:
            used["at"] = _AT_NS
        etree.cleanup_namespaces(root, top_nsmap=used)
    return _serialize(root)


def _serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True))


def _repair_atom_entries(root: etree._Element, extras: Sequence[EntryFields], *, namespace: str) -> None:
    """Rewrite each entry's <link> elements from the data we gave feedgen, and mark its language.

    feedgen 1.0's FeedEntry.atom_entry rebinds its loop variable to the new element before reading
    rel/type/length from it, so every entry link comes out as a bare <link href>: the enclosure
    turns into a second (implicit) alternate link. Rebuilding the links here keeps the output
    right whether or not a later feedgen fixes that. `namespace` is how the tree names Atom
    elements: "{http://www.w3.org/2005/Atom}" once parsed, "" in feedgen's own tree.
    """
    entries = root.findall(f"{namespace}entry")
    if len(entries) != len(extras):
        raise RuntimeError("feedgen emitted a different number of Atom entries than were added")
    for entry, extra in zip(entries, extras, strict=True):
        # feedgen has no per-entry xml:lang; it matters when one article differs from the site.
        if extra.language:
            entry.set(_XML_LANG, extra.language)
        old = entry.findall(f"{namespace}link")
        position = entry.index(old[0]) if old else len(entry)
        for element in old:
            entry.remove(element)
        for offset, link in enumerate(extra.links):
            element = etree.Element(f"{namespace}link", href=link.href, rel=link.rel)
            if link.type:
                element.set("type", link.type)
            if link.length:
                element.set("length", link.length)
            entry.insert(position + offset, element)
