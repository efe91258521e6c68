"""Hostile input in every text field, checked in everything a reader or partner receives.

Two halves:

- Text hygiene, end to end: text goes in through the real entry points (the request models,
  the media upload, submit_article, the correction and retraction models) and every output is
  checked byte for byte: NFC, no XML-illegal characters, bidi controls and invisible characters
  handled as functions/text/normalize.py decides, emoji and Vietnamese byte-exact.
- Active content: every payload of tests/unit/data/xss_payloads.txt goes into every text field
  of a stored article at once (title, summary, body, lead image caption/credit/alt, author,
  section, tag, correction note, retraction reason), and every output is parsed (lxml for HTML
  and XML, including the HTML carried inside feeds and JSON; json for JSON) and searched for
  anything a browser, feed reader or partner could execute.

The payloads are put into the stored document directly, past the request models' cleaning and
length limits: the renderers must be safe for any document the store can hold, including those
written by older code.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any, Literal, cast

import pytest
from lxml import etree
from lxml import html as lxml_html

from functions.dal.protocol import MediaStore, StoredMedia, StoredVersion
from functions.logic.content import taxon
from functions.logic.media import media_url, upload_media
from functions.logic.publish_articles import tombstone
from functions.logic.submit_article import SubmitStore, submit_article
from functions.models.api import ApiKeyRecord
from functions.models.article import (
    Article,
    ArticlePatch,
    ArticleRecord,
    ArticleSubmission,
    BodyFormat,
    Correction,
    Image,
    MediaInfo,
    Retraction,
    RetractRequest,
    Revision,
    Taxon,
)
from functions.models.feeds import ArchiveLinks, FeedSpec
from functions.models.paths import ATOM_PATH, ListingKind, archive_path
from functions.models.site import Site
from functions.render.assets import asset_path
from functions.render.feeds import render_atom, render_rss
from functions.render.json_feed import render_json_feed
from functions.render.pages import (
    render_article_page,
    render_home_page,
    render_listing_page,
    render_preview_page,
    render_retraction_page,
)
from functions.render.sitemaps import render_news_sitemap, render_sitemap_month
from functions.syndication.ninjs import to_ninjs
from functions.syndication.webhooks import encode_payload, event_payload
from functions.text import (
    body_to_html,
    clean_line,
    clean_text,
    extract_images,
    html_to_text,
    sanitize_html,
)
from functions.text.html import ALLOWED_TAGS
from tests.unit.conftest import ArticleFactory

CORPUS = Path(__file__).parent / "data" / "xss_payloads.txt"
# split("\n"), not splitlines(): a payload may hold U+2028 or U+0085, which splitlines() breaks on.
PAYLOADS: list[str] = [line for line in CORPUS.read_text(encoding="utf-8").split("\n") if line]

CORRECTED_AT = datetime(2023, 5, 11, 2, 0, tzinfo=UTC)
RETRACTED_AT = datetime(2023, 5, 12, 3, 0, tzinfo=UTC)
PREVIEW_EXPIRES = datetime(2023, 5, 10, 10, 30, tzinfo=UTC)
LEAD_SRC = "/media/seed/quang-canh-lop-tap-huan.jpg"

VIETNAMESE = "Ô Môn tập huấn nghiệp vụ công tác Mặt trận năm 2023"
# Mathematical double-struck V (astral, and NFKC would turn it into "V"), a ZWJ family, a flag.
EMOJI = "𝕍 👩\u200d👩\u200d👧 🇻🇳"

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
XML_NS = "http://www.w3.org/XML/1998/namespace"
# Every namespace an XML output may use; anything else (XHTML, SVG, XSLT...) would be injected.
XML_NAMESPACES = {
    None,
    ATOM_NS,
    CONTENT_NS,
    NEWS_NS,
    "http://purl.org/dc/elements/1.1/",
    "http://search.yahoo.com/mrss/",
    "http://purl.org/syndication/history/1.0",
    "http://purl.org/atompub/tombstones/1.0",
    "http://www.sitemaps.org/schemas/sitemap/0.9",
    "http://www.google.com/schemas/sitemap-image/1.1",
}
STRICT_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=False)

# The elements and attributes the templates write, plus what the body sanitizer lets through.
# Anything else in a page came from input.
PAGE_TAGS = frozenset(
    {"html", "head", "meta", "title", "link", "script", "body", "header", "nav", "main", "footer"}
    | {"article", "aside", "div", "span", "time", "h1", "h2", "p", "a", "ul", "ol", "li", "img"}
    | ALLOWED_TAGS
)
PAGE_ATTRIBUTES = frozenset(
    {"lang", "charset", "name", "content", "property", "rel", "href", "type", "title", "class"}
    | {"src", "alt", "loading", "datetime", "role", "id", "tabindex"}
    | {"aria-label", "aria-labelledby", "aria-current", "aria-hidden"}
)
FRAGMENT_ATTRIBUTES = frozenset({"href", "src", "alt", "rel"})
URL_ATTRIBUTES = frozenset({"href", "src", "url"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# A tag as the HTML tokenizer sees one: "<" and an ASCII letter start it, the name runs to
# whitespace, "/" or ">". Checked on the raw text because a browser is not lxml: "<em≯ on...>"
# is an element named "em≯" to a browser. Every "<" in our text and attribute values is escaped,
# so this sees exactly the tags.
RAW_TAG = re.compile(r"<(/?)([A-Za-z][^\t\n\f\r />]*)")
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")

# What a template engine would make of the template payloads if it evaluated them.
EVALUATED = {
    "{{7*7}}": "49",
    "{{ 7*'7' }}": "7777777",
    "{{ 1337*1001 }}": "1338337",
    "{% for i in range(3) %}LOOP{% endfor %}": "LOOPLOOP",
}

RenderedKind = Literal["page", "xml", "json"]


@dataclass(frozen=True)
class Rendered:
    name: str
    kind: RenderedKind
    body: bytes


# --- the articles and what is rendered from them ---------------------------------------------


def hostile_articles(
    make_article: ArticleFactory, text: str, body_format: BodyFormat = "html"
) -> list[Article]:
    """The published article with ``text`` in every text field, and the same article retracted.

    Built as the publisher reads a canonical document (model_validate), so the stored models'
    own validators apply, but nothing of the request models does.
    """
    body_html = body_to_html(text, body_format)
    lead = Image(src=LEAD_SRC, alt=text, caption=text, credit=text, content_type="image/jpeg", length=1)
    # As resolve_images records images that are not ours: src, alt and caption from the body.
    found = [
        Image(src=image.src, alt=image.alt, caption=image.caption) for image in extract_images(body_html)
    ]
    document = make_article().model_dump() | {
        "title": text,
        "summary": text,
        "body": text,
        "body_format": body_format,
        "body_html": body_html,
        "author": taxon(text),
        "section": taxon(text),
        "tags": [taxon(text), taxon("Ô Môn")],
        "image": lead,
        "images": [lead, *found],
        "corrections": [Correction(at=CORRECTED_AT, note=text)],
    }
    published = Article.model_validate(document)
    retracted = Article.model_validate(
        document
        | {
            "status": "retracted",
            "updated_at": RETRACTED_AT,
            "retraction": Retraction(at=RETRACTED_AT, reason=text),
        }
    )
    return [published, retracted]


def render_everything(published: Article, retracted: Article, site: Site) -> list[Rendered]:
    """Every document a reader or partner receives that carries the article's text."""
    tag = published.tags[0]
    listing = FeedSpec(kind="tag", slug=tag.slug, name=tag.name)
    archive = ArchiveLinks(current=ATOM_PATH, next_archive=archive_path(2), is_archive=True)

    def page(name: str, text: str) -> Rendered:
        return Rendered(name, "page", text.encode())

    def data(name: str, document: dict[str, Any]) -> Rendered:
        return Rendered(name, "json", json.dumps(document, ensure_ascii=False, allow_nan=False).encode())

    listings: list[tuple[ListingKind, Taxon]] = [
        ("section", published.section),
        ("tag", tag),
        ("author", published.author),
    ]
    return [
        page("article page", render_article_page(published, site)),
        page("preview page", render_preview_page(published, site, PREVIEW_EXPIRES)),
        page("retraction page", render_retraction_page(retracted, site)),
        page("home page", render_home_page([published], site)),
        *(
            page(f"{kind} page", render_listing_page(kind, taxon_.name, taxon_.slug, [published], site))
            for kind, taxon_ in listings
        ),
        Rendered("RSS", "xml", render_rss([published], site, listing)),
        Rendered("Atom", "xml", render_atom([published], site, listing)),
        Rendered(
            "Atom archive",
            "xml",
            render_atom([published], site, archive=archive, deleted=[tombstone(retracted, site)]),
        ),
        Rendered("JSON Feed", "json", render_json_feed([published], site, listing)),
        Rendered("news sitemap", "xml", render_news_sitemap([published], site)),
        Rendered("monthly sitemap", "xml", render_sitemap_month([published], site)),
        data("ninjs", to_ninjs(published, site)),
        data("ninjs retracted", to_ninjs(retracted, site)),
        Rendered(
            "webhook",
            "json",
            encode_payload(event_payload("article.corrected", published, site, CORRECTED_AT)),
        ),
        Rendered(
            "webhook retracted",
            "json",
            encode_payload(event_payload("article.retracted", retracted, site, RETRACTED_AT)),
        ),
    ]


# --- what "no active content" means, output by output ----------------------------------------


def assert_safe_url(value: str, where: str) -> None:
    # Browsers drop tab and newline anywhere in a URL and C0 controls and spaces around it, so
    # "java\tscript:" is javascript:. mailto: is the one scheme the sanitizer allows beyond the web
    # ones: it opens a mail client with the address and executes nothing.
    url = re.sub("[\t\n\r]", "", value).strip("".join(map(chr, range(0x21))))
    scheme = SCHEME.match(url)
    assert scheme is None or scheme[1].lower() in SAFE_SCHEMES, f"{where}: unsafe URL {value!r}"


def assert_no_tokenized_tags(markup: str, allowed: frozenset[str], where: str) -> None:
    for _, name in RAW_TAG.findall(markup):
        assert name.lower() in allowed, f"{where}: a browser reads a <{name}> tag"


def assert_inert_fragment(markup: str, where: str) -> None:
    """Article HTML (a body, or HTML inside a feed or JSON): only the sanitizer's allowlist."""
    assert_no_tokenized_tags(markup, ALLOWED_TAGS, where)
    if not markup.strip():
        return
    root = lxml_html.fragment_fromstring(markup, create_parent="div")
    for element in root.iterdescendants():
        assert isinstance(element.tag, str), f"{where}: a comment or processing instruction survived"
        assert element.tag in ALLOWED_TAGS, f"{where}: <{element.tag}> element"
        for name, value in element.attrib.items():
            assert name in FRAGMENT_ATTRIBUTES, f"{where}: <{element.tag} {name}={value!r}>"
            if name in URL_ATTRIBUTES:
                assert_safe_url(value, f"{where} <{element.tag} {name}>")


def assert_inert_page(page: str, site_assets: frozenset[str], where: str) -> lxml_html.HtmlElement:
    """A whole page: the template's elements and attributes only, and nothing executable.

    No <style> at all: the one stylesheet and the icon are links to the site's own hashed assets
    (`site_assets`). The one element that could carry active content is the JSON-LD <script>,
    which browsers do not execute (type application/ld+json) and whose text must parse as JSON
    (its "<" are escaped, so no input can close it early).
    """
    assert_no_tokenized_tags(page, PAGE_TAGS, where)
    doc = lxml_html.document_fromstring(page)
    scripts = 0
    for element in doc.iter():
        assert isinstance(element.tag, str), f"{where}: a comment or processing instruction survived"
        assert element.tag in PAGE_TAGS, f"{where}: <{element.tag}> element"
        if element.tag == "script":
            parents = [ancestor.tag for ancestor in element.iterancestors()]
        if element.tag == "script":
            scripts += 1
            assert element.get("type") == "application/ld+json", f"{where}: executable <script>"
            assert "head" in parents, f"{where}: <script> outside <head>"
            json.loads(element.text or "")
        elif element.tag == "meta":
            assert element.get("http-equiv") is None, f"{where}: <meta http-equiv>"
            if element.get("property") in ("og:url", "og:image"):
                assert_safe_url(element.get("content", ""), f"{where} <meta {element.get('property')}>")
        elif element.tag == "link":
            assert element.get("rel") in ("canonical", "alternate", "stylesheet", "icon"), (
                f"{where}: <link rel={element.get('rel')}>"
            )
            if element.get("rel") in ("stylesheet", "icon"):
                assert element.get("href") in site_assets, f"{where}: foreign {element.get('rel')}"
        for name, value in element.attrib.items():
            assert name in PAGE_ATTRIBUTES, f"{where}: <{element.tag} {name}={value!r}>"
            if name in URL_ATTRIBUTES:
                assert_safe_url(value, f"{where} <{element.tag} {name}>")
    assert scripts <= 1, f"{where}: {scripts} scripts"
    return doc


def assert_inert_xml(raw: bytes, where: str) -> etree._Element:
    """Well-formed for a strict parser, nothing but the expected vocabularies, HTML payloads inert.

    HTML is looked for where the formats put it: RSS <description> and <content:encoded>, Atom
    text constructs of type "html". Other text (RSS <title>, dc:creator, categories, Atom text
    constructs without a type) is plain text by the RSS 2.0 specification and RFC 4287: its "<"
    are escaped once, so it never becomes markup in the XML, and readers show it as text.
    """
    root = etree.fromstring(raw, STRICT_XML)
    assert root.getroottree().docinfo.doctype == "", f"{where}: a DOCTYPE"
    for element in root.iter():
        assert isinstance(element.tag, str), f"{where}: a comment, processing instruction or entity"
        name = etree.QName(element)
        assert name.namespace in XML_NAMESPACES, f"{where}: element {name}"
        for attribute, value in element.attrib.items():
            qname = etree.QName(attribute)
            assert qname.namespace in (None, XML_NS), f"{where}: attribute {attribute}"
            assert not qname.localname.lower().startswith("on"), f"{where}: attribute {attribute}"
            if qname.localname in URL_ATTRIBUTES:
                assert_safe_url(value, f"{where} <{name.localname} {qname.localname}>")
        assert element.get("type") != "xhtml", f"{where}: inline XHTML in <{name.localname}>"
        carries_html = element.get("type") == "html" or (
            name.namespace in (None, CONTENT_NS) and name.localname in ("description", "encoded")
        )
        if carries_html:
            assert len(element) == 0, f"{where}: markup elements inside <{name.localname}>"
            assert_inert_fragment(element.text or "", f"{where} <{name.localname}>")
        if name.localname in ("link", "loc") and name.namespace != ATOM_NS:
            assert_safe_url(element.text or "", f"{where} <{name.localname}>")
    return root


def assert_inert_json(raw: bytes, where: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{where}: {constant} is not JSON")

    document = json.loads(raw, parse_constant=refuse)
    for path, key, value in _walk(document):
        here = f"{where} {path}"
        if isinstance(value, dict) and "contenttype" in value and "value" in value:
            # ninjs text objects say what they hold: HTML ones must be inert, the rest plain text.
            if value["contenttype"] == "text/html":
                assert_inert_fragment(value["value"], here)
            else:
                assert value["contenttype"] == "text/plain", f"{here}: {value['contenttype']}"
        if not isinstance(value, str):
            continue
        if key == "content_html":
            assert_inert_fragment(value, here)
        elif key in ("url", "feed_url", "home_page_url", "image", "href", "external_url"):
            assert value.startswith(("https://", "http://")), f"{here}: {value!r}"
        elif key == "uri":
            # ninjs item ids are tag URIs (RFC 4151): names, never fetched or run.
            assert value.startswith(("https://", "http://", "tag:")), f"{here}: {value!r}"
    return document


def _walk(value: Any, path: str = "$", key: str = "") -> Iterator[tuple[str, str, Any]]:
    yield path, key, value
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from _walk(child, f"{path}.{child_key}", child_key)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, f"{path}[{index}]", key)


def titles_in(output: Rendered, parsed: Any) -> list[str]:
    """Where each output shows the article's title, as its reader gets it (decoded)."""
    if output.kind == "page":
        if output.name == "retraction page":
            return [parsed.find_class("headline")[0].text_content()]
        if output.name in ("article page", "preview page"):
            return [parsed.find(".//h1").text_content()]
        return [heading.text_content() for heading in parsed.iter("h2")]
    if output.kind == "xml":
        return [
            element.text or ""
            for element in parsed.iter(f"{{{ATOM_NS}}}title", "title", f"{{{NEWS_NS}}}title")
            if element.getparent() is not None
            and etree.QName(element.getparent()).localname in ("entry", "item", "news")
        ]
    if "items" in parsed:
        return [item["title"] for item in parsed["items"]]
    if "headlines" in parsed:
        return [headline["value"] for headline in parsed["headlines"]]
    if "data" in parsed:
        return [parsed["data"]["title"], parsed["data"]["ninjs"]["headlines"][0]["value"]]
    return []


@pytest.fixture(scope="module")
def site_assets() -> frozenset[str]:
    """The hashed stylesheet and icon every page links to: the only files it may load."""
    return frozenset({asset_path("site.css"), asset_path("icon.svg")})


def check_everything(outputs: list[Rendered], site_assets: frozenset[str], title: str) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for output in outputs:
        if output.kind == "page":
            parsed[output.name] = assert_inert_page(output.body.decode(), site_assets, output.name)
        elif output.kind == "xml":
            parsed[output.name] = assert_inert_xml(output.body, output.name)
        else:
            parsed[output.name] = assert_inert_json(output.body, output.name)
        if output.name not in ("retraction page", "monthly sitemap", "Atom archive", "ninjs retracted"):
            shown = titles_in(output, parsed[output.name])
            # The title arrives as text, whole: not evaluated, not eaten as markup. (Whitespace and
            # invisible characters may legitimately differ: some outputs clean text on the way.)
            assert shown, f"{output.name}: no title found"
            assert {clean_line(text) for text in shown} == {clean_line(title)}, f"{output.name}: {shown!r}"
    return parsed


# --- the corpus --------------------------------------------------------------------------------


def test_the_payload_corpus_is_large_distinct_and_covers_every_family() -> None:
    assert len(PAYLOADS) >= 80
    assert len(set(PAYLOADS)) == len(PAYLOADS)
    corpus = "\n".join(PAYLOADS).lower()
    families = [
        "<script", "onerror=", "onload=", "javascript:", "vbscript:", "data:text/html", "&#x6a;",
        "java&#x09;script", "<svg", "<math", "xlink:href", "expression(", "url(javascript:",
        "@import", "<iframe", "srcdoc", "<object", "<embed", "<form", "formaction", "<base",
        "http-equiv=\"refresh\"", "<!--", "<![cdata[", "]]>", "<!doctype", "{{7*7}}", "{%", "\u0338",
    ]  # fmt: skip
    assert [family for family in families if family not in corpus] == []


# --- active content ----------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"payload{index:03d}" for index in range(len(PAYLOADS))])
def test_no_payload_in_any_text_field_yields_active_content_in_any_output(
    payload: str, make_article: ArticleFactory, site: Site, site_assets: frozenset[str]
) -> None:
    published, retracted = hostile_articles(make_article, payload)
    outputs = render_everything(published, retracted, site)
    check_everything(outputs, site_assets, payload)
    for output in outputs:
        text = output.body.decode()
        # The template payloads stay text; evaluated, they would print their result.
        for template, result in EVALUATED.items():
            if template in payload:
                assert result not in text, f"{output.name}: {template} was evaluated"


@pytest.mark.parametrize("body_format", ["html", "markdown", "text"])
def test_no_payload_as_a_body_in_any_format_is_stored_as_active_html(body_format: BodyFormat) -> None:
    # What the sanitizer stores, before the stored model's own check (see the "damaged" test
    # below) gets a chance to repair anything.
    for payload in PAYLOADS:
        assert_inert_fragment(body_to_html(payload, body_format), f"{body_format} body {payload!r}")


def test_sanitized_bodies_survive_normalization_and_sanitizing_again_unchanged() -> None:
    # Renderers, feed readers and partners may NFC-normalize what they get, or sanitize it again;
    # neither may turn the stored body into something else (let alone something active).
    for payload in PAYLOADS:
        body = body_to_html(payload, "html")
        assert unicodedata.normalize("NFC", body) == body, payload
        assert sanitize_html(body) == body, payload


def test_the_template_payloads_are_listed_with_their_evaluated_results() -> None:
    assert set(EVALUATED) <= set(PAYLOADS)


def test_a_body_that_normalization_would_turn_active_stays_inert_in_feeds_and_ninjs(
    make_article: ArticleFactory, site: Site
) -> None:
    # No sanitizer output looks like this any more (a combining mark right after a tag), but a
    # renderer must not make active HTML out of it by normalizing the serialized markup: NFC
    # composes ">" + U+0338 into "≯", and "<em≯ onmouseover=...>" is an element with a handler.
    article = make_article(body_html="<p><em>\u0338 onmouseover=alert(1) x</em></p>")
    assert_inert_xml(render_rss([article], site), "RSS")
    assert_inert_xml(render_atom([article], site), "Atom")
    assert_inert_json(render_json_feed([article], site), "JSON Feed")
    assert_inert_json(json.dumps(to_ninjs(article, site)).encode(), "ninjs")


def test_a_body_damaged_by_the_old_sanitizer_is_sanitized_again_when_read(
    make_article: ArticleFactory,
) -> None:
    # What sanitize_html stored for "<p><em>&#x338; onmouseover=alert(1) x</em></p>" before it
    # normalized text node by node: the tag's ">" composed into "≯".
    damaged = make_article().model_dump() | {"body_html": "<p><em\u226f onmouseover=alert(1) x</em></p>"}
    body_html = Article.model_validate(damaged).body_html
    assert "onmouseover" not in re.findall(r"<[^>]*>", body_html)[0]
    assert_inert_fragment(body_html, "read back")


def test_an_intact_body_is_read_back_unchanged(seed_article: Article) -> None:
    document = seed_article.model_dump() | {"body_html": seed_article.body_html + "<p>5 ≯ 3, 2 ≠ 3</p>"}
    assert Article.model_validate(document).body_html == document["body_html"]


# --- text hygiene, end to end --------------------------------------------------------------------

JPEG = b"\xff\xd8\xff\xe0" + bytes(64)


class Newsroom:
    """Just enough storage for the real submit path: media, slugs, and a canonical store that
    hands back what a JSON round trip through S3 would."""

    def __init__(self) -> None:
        self.media: dict[str, StoredMedia] = {}
        self.info: dict[str, MediaInfo] = {}
        self.documents: dict[str, str] = {}

    def put_media(self, key: str, body: bytes, content_type: str) -> StoredMedia:
        self.media[key] = StoredMedia(key=key, content_type=content_type, length=len(body))
        return self.media[key]

    def head_media(self, key: str) -> StoredMedia | None:
        return self.media.get(key)

    def put_media_info(self, info: MediaInfo) -> None:
        self.info[info.key] = info

    def get_media_info(self, key: str) -> MediaInfo | None:
        return self.info.get(key)

    def is_slug_free(self, slug: str) -> bool:
        return True

    def next_sequence(self) -> int:
        return 1

    def put_canonical(self, article: Article) -> StoredVersion:
        self.documents[article.id] = article.model_dump_json()
        return StoredVersion(key=f"articles/{article.id}.json", version_id="1")

    def create_article(self, record: ArticleRecord, revision: Revision, listings: list[str]) -> None:
        pass

    def get_canonical(self, record: ArticleRecord) -> Article:
        return Article.model_validate_json(self.documents[record.id])


EDITOR = ApiKeyRecord(
    key_id="k1",
    key_hash="0" * 64,
    role="editor",
    name="Biên tập",
    created_at=datetime(2023, 1, 1, tzinfo=UTC),
)


def ingest(text: str, site: Site, *, tag: str | None = None) -> list[Article]:
    """``text`` in every field, through every real entry point; the article and its retraction."""
    store = Newsroom()
    photo = upload_media(
        cast(MediaStore, store),
        filename="anh.jpg",
        content_type="image/jpeg",
        body=JPEG,
        caption=text,
        credit=text,
        alt=text,
    )
    submission = ArticleSubmission.model_validate(
        {
            "title": text,
            "summary": text,
            # alt and caption come from the media upload (the body's figure leaves them empty).
            "body": f'<p>{escape(text)}</p><figure><img src="{media_url(photo.key)}"></figure>',
            "author": text,
            "section": text,
            "tags": [tag or text],
            "published_at": "2023-05-10T16:30:00+07:00",
        }
    )
    # The fake has only the methods this path calls, not the whole storage protocol.
    record = submit_article(
        submission, EDITOR, cast(SubmitStore, store), site, datetime(2023, 5, 10, 10, 0, tzinfo=UTC)
    )
    article = store.get_canonical(record)
    note = ArticlePatch.model_validate({"correction": text}).correction
    reason = RetractRequest.model_validate({"reason": text}).reason
    assert note is not None
    published = article.model_copy(update={"corrections": [Correction(at=CORRECTED_AT, note=note)]})
    retracted = published.model_copy(
        update={"status": "retracted", "retraction": Retraction(at=RETRACTED_AT, reason=reason)}
    )
    return [published, retracted]


def everything_as_text(text: str, site: Site, **ingest_options: str) -> dict[str, str]:
    published, retracted = ingest(text, site, **ingest_options)
    return {output.name: output.body.decode() for output in render_everything(published, retracted, site)}


def stored_fields(article: Article) -> dict[str, str]:
    assert article.image is not None and article.retraction is None
    return {
        "title": article.title,
        "summary": article.summary,
        "body": html_to_text(article.body_html),
        "author": article.author.name,
        "section": article.section.name,
        "tag": article.tags[0].name,
        "caption": article.image.caption,
        "credit": article.image.credit,
        "alt": article.image.alt,
        "correction": article.corrections[0].note,
    }


def test_nfd_vietnamese_in_every_field_is_stored_and_published_as_exact_nfc(site: Site) -> None:
    nfd = unicodedata.normalize("NFD", VIETNAMESE)
    assert nfd != VIETNAMESE
    published, retracted = ingest(nfd, site)
    assert set(stored_fields(published).values()) == {VIETNAMESE}
    assert retracted.retraction is not None and retracted.retraction.reason == VIETNAMESE
    for name, text in everything_as_text(nfd, site).items():
        if name != "monthly sitemap":  # URLs and dates only
            assert VIETNAMESE in text, name
        assert nfd not in text, name
        assert unicodedata.is_normalized("NFC", text), name


def test_the_seed_title_slugs_the_same_from_nfd_and_nfc(site: Site) -> None:
    slugs = {ingest(form, site)[0].slug for form in (VIETNAMESE, unicodedata.normalize("NFD", VIETNAMESE))}
    assert slugs == {"o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023"}


def test_emoji_and_astral_characters_survive_byte_exact_everywhere(site: Site) -> None:
    text = f"Ô Môn tập huấn {EMOJI}"  # short enough for a tag
    published, _ = ingest(text, site)
    assert set(stored_fields(published).values()) == {text}
    for name, rendered in everything_as_text(text, site).items():
        if name != "monthly sitemap":
            # Raw UTF-8, not "\ud835\udd4d" escapes or "&#120141;" references, not NFKC's "V".
            assert text.encode() in rendered.encode(), name


CONTROLS = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]))
NONCHARACTERS = "\ufdd0\ufdef\ufffe\uffff\U0001fffe\U0010ffff"


def test_control_characters_and_noncharacters_never_reach_an_output(site: Site) -> None:
    text = f"Ô{CONTROLS}Môn{NONCHARACTERS}\ufeff"
    published, _ = ingest(text, site, tag=f"Ô{CONTROLS}Môn")
    assert set(stored_fields(published).values()) == {"ÔMôn"}
    for name, rendered in everything_as_text(text, site, tag="Ô\x0bMôn").items():
        assert not set(rendered) & set(CONTROLS + NONCHARACTERS + "\ufeff"), name


def test_a_lone_surrogate_is_dropped_rather_than_breaking_the_feeds(site: Site) -> None:
    for name, rendered in everything_as_text("Ô Môn \ud83d", site).items():
        assert "\ud83d" not in rendered, name


BIDI_OVERRIDES = "\u202a\u202b\u202c\u202d\u202e"
BIDI_ISOLATES_AND_MARKS = "\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
INVISIBLE_SEPARATORS = "\u200b\u2060\u180e"


def test_bidi_overrides_and_embeddings_are_removed_from_every_field(site: Site) -> None:
    published, retracted = ingest(f"\u202eÔ Môn{BIDI_OVERRIDES}", site)
    assert set(stored_fields(published).values()) == {"Ô Môn"}
    assert retracted.retraction is not None and retracted.retraction.reason == "Ô Môn"


def test_bidi_isolates_and_marks_are_removed_from_single_line_text_but_kept_in_prose(site: Site) -> None:
    text = "Ô Môn \u2067مرحبا\u2069 \u200fقال\u200f"
    published, retracted = ingest(text, site)
    fields = stored_fields(published)
    inline = {fields[name] for name in ("title", "author", "section", "tag", "alt", "credit")}
    prose = {fields[name] for name in ("summary", "body", "caption", "correction")}
    assert inline == {"Ô Môn مرحبا قال"}
    assert prose == {text}
    assert retracted.retraction is not None and retracted.retraction.reason == text
    rendered = everything_as_text(text, site)
    # The page's <title> is "title - site name": no direction control may precede the site name.
    title = lxml_html.document_fromstring(rendered["article page"]).find(".//title").text_content()
    assert not set(title) & set(BIDI_ISOLATES_AND_MARKS)


def test_zero_width_spaces_are_removed_from_names_and_slugs_but_joiners_are_kept(site: Site) -> None:
    published, _ = ingest(f"Ô\u200bMôn{INVISIBLE_SEPARATORS} 👩\u200d👧 می\u200cخواهم", site)
    fields = stored_fields(published)
    for name in ("title", "author", "section", "tag", "alt", "credit"):
        assert fields[name] == "ÔMôn 👩\u200d👧 می\u200cخواهم", name
    # A zero width space is invisible, so the slug follows what readers see: "ÔMôn", one word.
    assert published.slug.startswith("omon-")
    assert published.tags[0].slug.startswith("omon-")
    # Prose keeps its line-break hints.
    assert fields["summary"].startswith("Ô\u200bMôn")


def test_single_line_fields_become_one_line(site: Site) -> None:
    published, _ = ingest("Ô Môn\n\ttập huấn\r\n2023\u2028", site)
    fields = stored_fields(published)
    assert {fields[name] for name in ("title", "author", "section", "tag", "alt", "credit")} == {
        "Ô Môn tập huấn 2023"
    }


def test_every_xml_output_of_a_dirty_article_parses_strictly(site: Site) -> None:
    published, retracted = ingest(f"Ô{CONTROLS}Môn \ud83d{BIDI_OVERRIDES} {EMOJI}", site, tag="Ô Môn")
    for output in render_everything(published, retracted, site):
        if output.kind == "xml":
            etree.fromstring(output.body, STRICT_XML)
        elif output.kind == "json":
            json.loads(output.body)


def test_clean_text_and_clean_line_agree_with_what_the_models_store() -> None:
    # One definition of each strength, used by the request models: no second cleaning elsewhere.
    text = unicodedata.normalize("NFD", " Ô\u202eMôn\u200b\u2067x\u2069\n ")
    model = ArticleSubmission.model_validate(
        {"title": text, "summary": text, "body": text, "author": text, "section": text, "tags": [text]}
    )
    assert model.title == model.author == model.section == model.tags[0] == clean_line(text)
    assert model.summary == model.body == clean_text(text).strip()
