"""Feed validity: every format checked against its specification's machine-readable rules.

- Atom against RFC 4287's own RELAX NG schema (Appendix B; tests/unit/schemas/atom.rng), plus the
  RFC's two Schematron rules (which RELAX NG validators ignore) as XPath.
- RSS 2.0's required channel and item elements, with lxml (RSS has no official schema).
- JSON Feed 1.1 against a JSON Schema written from its specification
  (tests/unit/schemas/jsonfeed-1.1.schema.json).
- What a real client reads: feedparser for RSS and Atom. feedparser (6.0.x, the current release)
  has no JSON Feed parser, so the JSON Feed is read with json and compared field by field with
  what feedparser reads from the Atom feed: the three formats must tell the same story.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest
from lxml import etree

from functions.models.article import Article
from functions.models.feeds import SITE_FEED, ArchiveLinks, FeedSpec, Tombstone
from functions.models.paths import FEED_TYPES, archive_path
from functions.models.site import Site
from functions.render.feeds import render_atom, render_rss
from functions.render.json_feed import render_json_feed

SCHEMAS = Path(__file__).resolve().parent / "schemas"

ATOM = "http://www.w3.org/2005/Atom"
FH = "http://purl.org/syndication/history/1.0"
AT = "http://purl.org/atompub/tombstones/1.0"
DC = "http://purl.org/dc/elements/1.1/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
MEDIA = "http://search.yahoo.com/mrss/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NS = {"a": ATOM, "fh": FH, "at": AT, "dc": DC, "content": CONTENT, "media": MEDIA}

SEED_TITLE = "Ô Môn: tập huấn nghiệp vụ công tác Mặt trận năm 2023"
SEED_URL = "https://news.example.vn/2023/05/10/o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023/"
SEED_ENTRY_ID = "tag:news.example.vn,2023-05-10:0f8fad5b-d9cb-469f-a165-70867728950e"
LEAD_URL = "https://news.example.vn/media/seed/quang-canh-lop-tap-huan.jpg"
BODY_SENTENCE = "Đến dự lễ khai giảng lớp tập huấn, có ông Tống Văn Nhịn"
CATEGORY_NAMES = ["Hoạt động Mặt trận", "Ô Môn", "Tập huấn", "Mặt trận Tổ quốc"]
HUBS = ("https://pubsubhubbub.appspot.com/", "https://websub.example.org/hub")

SECTION = FeedSpec(kind="section", slug="hoat-dong-mat-tran", name="Hoạt động Mặt trận")
TAG = FeedSpec(kind="tag", slug="o-mon", name="Ô Môn")
AUTHOR = FeedSpec(kind="author", slug="na-ra", name="Na Ra")
FEEDS = {"site": SITE_FEED, "section": SECTION, "tag": TAG, "author": AUTHOR}

# An archive page in the middle of the site's archive, with one retracted entry.
ARCHIVE = ArchiveLinks(
    current="/feeds/atom.xml", prev_archive=archive_path(1), next_archive=archive_path(3), is_archive=True
)
TOMBSTONE = Tombstone(
    ref="tag:news.example.vn,2023-05-09:00000000-0000-4000-8000-000000000099",
    when=datetime(2023, 5, 11, 3, 0, tzinfo=UTC),
    comment="Gỡ bỏ theo yêu cầu của Ban biên tập.",
)

# RSS 2.0 / RFC 822 dates as we write them: day name, 4-digit year, seconds, numeric zone.
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)

Renderer = Callable[..., bytes]
RENDERERS: dict[str, Renderer] = {"rss": render_rss, "atom": render_atom, "json": render_json_feed}


@pytest.fixture(scope="module")
def atom_schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))


@pytest.fixture(scope="module")
def json_feed_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture
def full_site(site: Site) -> Site:
    """The seed site with everything optional switched on: WebSub hubs, rights."""
    return site.model_copy(
        update={
            "websub_hubs": HUBS,
            "rights_holder": "Ủy ban MTTQ Việt Nam quận Ô Môn",
            "usage_terms": "Ghi rõ nguồn khi sử dụng lại.",
        }
    )


@pytest.fixture
def articles(seed_article: Article, make_article) -> list[Article]:
    """The seed article, an English one, and one without any image (so no enclosure)."""
    return [
        seed_article,
        make_article(1, language="en", title="An English article"),
        make_article(2, image=None, images=[]),
    ]


def _assert_atom_valid(raw: bytes, schema: etree.RelaxNG) -> etree._Element:
    root = etree.fromstring(raw)
    assert schema.validate(root), schema.error_log
    # RFC 4287's Schematron rules, which RELAX NG ignores (s:rule annotations).
    for entry in root.findall("a:entry", NS):
        assert entry.xpath("a:link[@rel='alternate'] or a:link[not(@rel)] or a:content", namespaces=NS)
        assert entry.xpath("a:author or ../a:author or a:source/a:author", namespaces=NS)
    return root


def _parse(raw: bytes) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(raw)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def _timestamp(parsed: Any) -> int:
    return calendar.timegm(parsed)


# --- Atom: RFC 4287's RELAX NG schema ------------------------------------------------------


@pytest.mark.parametrize("name", FEEDS)
def test_atom_feed_validates_against_the_rfc_4287_relax_ng_schema(name, full_site, articles, atom_schema):
    _assert_atom_valid(render_atom(articles, full_site, FEEDS[name]), atom_schema)


def test_empty_atom_feed_validates_against_the_schema(site, atom_schema):
    _assert_atom_valid(render_atom([], site), atom_schema)


def test_atom_archive_page_with_a_tombstone_validates_against_the_schema(full_site, articles, atom_schema):
    # The stock schema admits fh:archive and at:deleted-entry as extension elements (any
    # element outside the Atom namespace), but only among the feed's metadata, before the first
    # entry: the renderer puts them there. RFC 6721 allows any position, so nothing is lost.
    raw = render_atom(articles, full_site, archive=ARCHIVE, deleted=[TOMBSTONE])
    root = _assert_atom_valid(raw, atom_schema)
    assert root.find("fh:archive", NS) is not None
    assert len(root.findall("at:deleted-entry", NS)) == 1


def test_atom_archive_head_without_entries_validates(site, atom_schema):
    head = ArchiveLinks(prev_archive=archive_path(4))
    root = _assert_atom_valid(render_atom([], site, archive=head), atom_schema)
    assert root.find("fh:archive", NS) is None


def test_the_atom_schema_is_not_vacuous(site, seed_article, atom_schema):
    # The same document without its <id>, and with an unknown attribute on <link>, must fail:
    # proof that the schema, not a permissive fallback, is doing the checking.
    root = etree.fromstring(render_atom([seed_article], site))
    broken = etree.fromstring(etree.tostring(root))
    broken.remove(broken.find("a:id", NS))
    assert not atom_schema.validate(broken)
    broken = etree.fromstring(etree.tostring(root))
    broken.find("a:link", NS).set("unknown", "x")
    assert not atom_schema.validate(broken)


# --- Atom: what the W3C Feed Validation Service looks for ----------------------------------


@pytest.mark.parametrize("name", FEEDS)
def test_atom_self_link_is_where_the_feed_is_published(name, site, seed_article):
    feed = FEEDS[name]
    root = etree.fromstring(render_atom([seed_article], site, feed))
    assert root.xpath("a:link[@rel='self']/@href", namespaces=NS) == [site.absolute(feed.path("atom"))]
    assert root.xpath("a:link[@rel='alternate']/@href", namespaces=NS) == [site.absolute(feed.page_path)]


def test_atom_archive_page_self_link_is_the_archive_page_itself(site, seed_article):
    root = etree.fromstring(render_atom([seed_article], site, archive=ARCHIVE))
    assert root.xpath("a:link[@rel='self']/@href", namespaces=NS) == [site.absolute(archive_path(2))]


def test_every_url_in_an_atom_feed_is_absolute(full_site, articles):
    root = etree.fromstring(render_atom(articles, full_site, archive=ARCHIVE, deleted=[TOMBSTONE]))
    hrefs = root.xpath("//a:link/@href | //media:content/@url", namespaces=NS)
    assert hrefs and all(href.startswith("https://") for href in hrefs)
    for content in root.findall(".//a:content", NS):
        assert not re.search(r"""(src|href)=["']/(?!/)""", content.text or "")


def test_every_atom_entry_has_an_author_and_a_summary(full_site, articles):
    root = etree.fromstring(render_atom(articles, full_site))
    for entry in root.findall("a:entry", NS):
        assert entry.findtext("a:author/a:name", namespaces=NS)
        assert entry.find("a:summary", NS) is not None


# --- RSS 2.0 --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FEEDS)
def test_rss_channel_has_the_required_title_link_and_description(name, full_site, articles):
    feed = FEEDS[name]
    root = etree.fromstring(render_rss(articles, full_site, feed))
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channels = root.findall("channel")
    assert len(channels) == 1
    channel = channels[0]
    for required in ("title", "link", "description"):
        assert (channel.findtext(required) or "").strip(), required
    assert channel.findtext("link") == full_site.absolute(feed.page_path)
    assert channel.findtext("language") == "vi"
    # RSS Advisory Board / W3C validator: identify the feed's own URL with atom:link rel="self".
    assert channel.xpath("atom:link[@rel='self']/@href", namespaces={"atom": ATOM}) == [
        full_site.absolute(feed.path("rss"))
    ]
    # managingEditor/webMaster must be e-mail addresses: we have none, so there are none.
    assert channel.find("managingEditor") is None
    assert channel.find("webMaster") is None


def test_rss_items_follow_the_rss_2_0_item_rules(full_site, articles):
    channel = etree.fromstring(render_rss(articles, full_site)).find("channel")
    assert channel is not None
    assert RFC822.match(channel.findtext("lastBuildDate") or "")
    assert RFC822.match(channel.findtext("pubDate") or "")
    items = channel.findall("item")
    assert len(items) == len(articles)
    for item in items:
        # "All elements of an item are optional, however at least one of title or description".
        assert item.findtext("title") or item.findtext("description")
        guid = item.find("guid")
        assert guid is not None and guid.text and guid.text.isascii()
        # A tag URI is not a URL a browser can open: it must say so.
        assert guid.get("isPermaLink") == "false"
        pub_date = item.findtext("pubDate") or ""
        assert RFC822.match(pub_date), pub_date
        assert parsedate_to_datetime(pub_date).utcoffset() is not None
        assert (item.findtext("link") or "").startswith("https://")
        # Bylines without an e-mail address go in dc:creator, never in <author>.
        assert item.find("author") is None
        assert item.findtext("dc:creator", namespaces=NS)
        assert item.findtext("content:encoded", namespaces=NS)
        for enclosure in item.findall("enclosure"):
            # url, length and type are all required on an RSS enclosure.
            assert enclosure.get("url", "").startswith("https://")
            assert (enclosure.get("length") or "").isdigit()
            assert "/" in enclosure.get("type", "")


def test_rss_has_no_relative_urls_in_content(full_site, articles):
    channel = etree.fromstring(render_rss(articles, full_site)).find("channel")
    assert channel is not None
    for encoded in channel.iterfind("item/content:encoded", NS):
        assert not re.search(r"""(src|href)=["']/(?!/)""", encoded.text or "")


def test_rss_advertises_websub_hubs_next_to_its_self_link(full_site, seed_article):
    channel = etree.fromstring(render_rss([seed_article], full_site, TAG)).find("channel")
    assert channel is not None
    links = [(link.get("rel"), link.get("href")) for link in channel.findall(f"{{{ATOM}}}link")]
    assert links == [
        ("self", "https://news.example.vn/feeds/tag/o-mon/rss.xml"),
        ("hub", HUBS[0]),
        ("hub", HUBS[1]),
    ]


# --- JSON Feed 1.1 --------------------------------------------------------------------------


@pytest.mark.parametrize("name", FEEDS)
def test_json_feed_validates_against_the_json_feed_1_1_schema(name, full_site, articles, json_feed_validator):
    document = json.loads(render_json_feed(articles, full_site, FEEDS[name]))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in json_feed_validator.iter_errors(document)]
    assert errors == []


def test_empty_json_feed_validates(site, json_feed_validator):
    document = json.loads(render_json_feed([], site))
    json_feed_validator.validate(document)
    assert document["items"] == []


def test_the_json_feed_schema_enforces_rfc_3339_dates_and_ids(site, seed_article, json_feed_validator):
    # Without rfc3339-validator installed, jsonschema skips "date-time" silently: this fails then.
    document = json.loads(render_json_feed([seed_article], site))
    document["items"][0]["date_published"] = "Wed, 10 May 2023 16:30:00 +0700"
    assert not json_feed_validator.is_valid(document)
    document = json.loads(render_json_feed([seed_article], site))
    document["items"][0]["id"] = 1
    assert not json_feed_validator.is_valid(document)


def test_json_feed_top_level_fields(full_site, seed_article):
    raw = render_json_feed([seed_article], full_site, SECTION)
    document = json.loads(raw)
    assert list(document)[:3] == ["version", "title", "home_page_url"]
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == "Cổng thông tin quận Ô Môn – Chuyên mục: Hoạt động Mặt trận"
    assert document["home_page_url"] == "https://news.example.vn/section/hoat-dong-mat-tran/"
    assert document["feed_url"] == "https://news.example.vn/feeds/section/hoat-dong-mat-tran/feed.json"
    assert document["language"] == "vi"
    assert document["authors"] == [{"name": full_site.name, "url": "https://news.example.vn/"}]
    assert document["hubs"] == [{"type": "WebSub", "url": hub} for hub in HUBS]


def test_json_feed_has_no_hubs_when_the_site_has_none(site, seed_article):
    assert "hubs" not in json.loads(render_json_feed([seed_article], site))


def test_json_feed_item_fields(site, seed_article, seed_published_at):
    item = json.loads(render_json_feed([seed_article], site))["items"][0]
    assert item["id"] == SEED_ENTRY_ID
    assert item["url"] == SEED_URL
    assert item["title"] == SEED_TITLE
    assert BODY_SENTENCE in item["content_html"]
    assert f'src="{LEAD_URL}"' in item["content_html"]
    assert item["summary"] == seed_article.summary
    assert item["image"] == LEAD_URL
    assert item["date_published"] == "2023-05-10T16:30:00+07:00"
    assert datetime.fromisoformat(item["date_published"]) == seed_published_at
    assert item["date_modified"] == "2023-05-10T16:30:00+07:00"
    assert item["authors"] == [{"name": "Na Ra", "url": "https://news.example.vn/author/na-ra/"}]
    assert item["tags"] == CATEGORY_NAMES
    assert "language" not in item  # the same as the feed's
    assert item["attachments"] == [
        {
            "url": LEAD_URL,
            "mime_type": "image/jpeg",
            "title": "Quang cảnh lớp tập huấn",
            "size_in_bytes": 40633,
        },
        {
            "url": "https://news.example.vn/media/seed/ba-nguyen-thuy-hang.jpg",
            "mime_type": "image/jpeg",
            "title": seed_article.images[1].caption,
            "size_in_bytes": 39678,
        },
    ]


def test_json_feed_item_in_another_language_says_so(site, seed_article):
    english = seed_article.model_copy(update={"language": "en"})
    assert json.loads(render_json_feed([english], site))["items"][0]["language"] == "en"


def test_json_feed_is_utf8_with_vietnamese_unescaped(site, seed_article):
    raw = render_json_feed([seed_article], site)
    assert SEED_TITLE.encode("utf-8") in raw
    assert b"\\u00" not in raw.split(b'"content_html"')[0]  # no \u escapes for Vietnamese letters


# --- what real clients read ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feedparser_reads_every_field(fmt, full_site, seed_article, seed_published_at):
    parsed = _parse(RENDERERS[fmt]([seed_article], full_site, SECTION))
    assert parsed.version == ("rss20" if fmt == "rss" else "atom10")
    assert parsed.feed.title == "Cổng thông tin quận Ô Môn – Chuyên mục: Hoạt động Mặt trận"
    assert parsed.feed.link == "https://news.example.vn/section/hoat-dong-mat-tran/"
    assert parsed.feed.language == "vi"
    assert parsed.feed.rights == "© Ủy ban MTTQ Việt Nam quận Ô Môn. Ghi rõ nguồn khi sử dụng lại."
    if fmt == "atom":
        assert parsed.feed.id == "tag:news.example.vn,2000:feed:section:hoat-dong-mat-tran"
    hubs = [link.href for link in parsed.feed.links if link.rel == "hub"]
    assert hubs == list(HUBS)

    entry = parsed.entries[0]
    assert entry.title == SEED_TITLE
    assert entry.link == SEED_URL
    assert entry.id == SEED_ENTRY_ID
    assert _timestamp(entry.published_parsed) == int(seed_published_at.timestamp())
    if fmt == "atom":
        assert _timestamp(entry.updated_parsed) == int(seed_published_at.timestamp())
    assert BODY_SENTENCE in entry.content[0].value
    assert entry.summary == seed_article.summary
    assert entry.author == "Na Ra"
    assert [tag.label if fmt == "atom" else tag.term for tag in entry.tags] == CATEGORY_NAMES
    assert [(e.href, e.type, e.length) for e in entry.enclosures] == [(LEAD_URL, "image/jpeg", "40633")]


def test_feedparser_reads_the_archive_links_and_self_of_an_archive_page(site, seed_article):
    parsed = _parse(render_atom([seed_article], site, archive=ARCHIVE, deleted=[TOMBSTONE]))
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == "https://news.example.vn/feeds/archive/2.xml"
    assert links["current"] == "https://news.example.vn/feeds/atom.xml"
    assert links["prev-archive"] == "https://news.example.vn/feeds/archive/1.xml"
    assert links["next-archive"] == "https://news.example.vn/feeds/archive/3.xml"
    assert parsed.feed.id == "tag:news.example.vn,2000:feed"
    assert [entry.id for entry in parsed.entries] == [SEED_ENTRY_ID]


@pytest.mark.parametrize("name", FEEDS)
def test_json_feed_tells_what_feedparser_reads_from_atom(name, full_site, articles):
    feed = FEEDS[name]
    raw_atom = render_atom(articles, full_site, feed)
    atom = _parse(raw_atom)
    # feedparser re-serializes (sanitizes) HTML content, so content is compared with the raw text.
    atom_root = etree.fromstring(raw_atom)
    atom_contents = [c.text for c in atom_root.iterfind("a:entry/a:content", NS)]
    # feedparser does not expose an entry's own xml:lang either.
    atom_languages = [e.get(XML_LANG, full_site.language) for e in atom_root.iterfind("a:entry", NS)]
    document = json.loads(render_json_feed(articles, full_site, feed))
    assert document["title"] == atom.feed.title
    assert document["description"] == atom.feed.subtitle
    assert document["home_page_url"] == atom.feed.link
    assert document["language"] == atom.feed.language
    assert len(document["items"]) == len(atom.entries)
    entries = zip(document["items"], atom.entries, atom_contents, atom_languages, strict=True)
    for item, entry, content, language in entries:
        assert item["id"] == entry.id
        assert item["url"] == entry.link
        assert item["title"] == entry.title
        assert item["summary"] == entry.summary
        assert item["content_html"] == content
        assert _timestamp(entry.published_parsed) == int(
            datetime.fromisoformat(item["date_published"]).timestamp()
        )
        assert _timestamp(entry.updated_parsed) == int(
            datetime.fromisoformat(item["date_modified"]).timestamp()
        )
        assert [author["name"] for author in item["authors"]] == [entry.author]
        assert item["tags"] == [tag.label for tag in entry.tags]
        assert item.get("image") == next((e.href for e in entry.enclosures), None)
        assert item.get("language", full_site.language) == language


# --- robustness, in all three formats --------------------------------------------------------


@pytest.mark.parametrize("fmt", RENDERERS)
@pytest.mark.parametrize("name", FEEDS)
def test_every_format_renders_identical_bytes_twice(fmt, name, full_site, articles):
    render = RENDERERS[fmt]
    assert render(articles, full_site, FEEDS[name]) == render(
        list(reversed(articles)), full_site, FEEDS[name]
    )


def test_archive_pages_render_identical_bytes_twice(full_site, articles):
    tombstones = [TOMBSTONE, TOMBSTONE.__class__(ref="tag:x,2023:y", when=TOMBSTONE.when)]
    first = render_atom(articles, full_site, archive=ARCHIVE, deleted=tombstones)
    again = render_atom(list(reversed(articles)), full_site, archive=ARCHIVE, deleted=tombstones[::-1])
    assert first == again


@pytest.mark.parametrize("fmt", RENDERERS)
def test_control_characters_never_break_any_format(
    fmt, full_site, seed_article, atom_schema, json_feed_validator
):
    dirty = seed_article.model_copy(
        update={
            "title": "Tiêu đề\x0b lỗi\x00",
            "summary": "Tóm tắt\x0c lỗi",
            "body_html": "<p>Nội dung\x0b có ký tự điều khiển</p>",
            "author": seed_article.author.model_copy(update={"name": "Na\x0b Ra"}),
        }
    )
    feed = FeedSpec(kind="tag", slug="o-mon", name="Ô\x0b Môn")
    raw = RENDERERS[fmt]([dirty], full_site, feed)
    if fmt == "json":
        document = json.loads(raw)
        json_feed_validator.validate(document)
        title, feed_title = document["items"][0]["title"], document["title"]
    else:
        root = etree.fromstring(raw)  # strict: raises on any XML-illegal character
        if fmt == "atom":
            assert atom_schema.validate(root), atom_schema.error_log
        parsed = _parse(raw)
        title, feed_title = parsed.entries[0].title, parsed.feed.title
    assert title == "Tiêu đề lỗi"
    assert feed_title.endswith("Thẻ: Ô Môn")


@pytest.mark.parametrize("fmt", RENDERERS)
def test_script_in_titles_is_escaped_in_every_format(fmt, site, seed_article):
    evil = "<script>alert(1)</script>"
    article = seed_article.model_copy(update={"title": evil, "summary": "<img src=x onerror=alert(2)>"})
    feed = FeedSpec(kind="tag", slug="x", name=evil)
    raw = RENDERERS[fmt]([article], site, feed)
    assert b"<script" not in raw
    assert b"<img" not in raw
    if fmt == "json":
        document = json.loads(raw)
        titles = [document["title"], document["items"][0]["title"]]
    else:
        root = etree.fromstring(raw)
        assert not [el for el in root.iter() if etree.QName(el).localname in ("script", "img")]
        titles = [el.text for el in root.iter() if etree.QName(el).localname == "title"]
    # The text survives exactly, as text.
    assert evil in titles
    assert f"{site.name} – Thẻ: {evil}" in titles


@pytest.mark.parametrize("fmt", RENDERERS)
def test_feed_types_are_the_ones_autodiscovery_advertises(fmt, site, seed_article):
    raw = RENDERERS[fmt]([seed_article], site)
    if fmt == "json":
        assert FEED_TYPES["json"] == "application/feed+json"
        assert json.loads(raw)["feed_url"].endswith("/feeds/feed.json")
    else:
        self_link = etree.fromstring(raw).xpath("//*[local-name()='link'][@rel='self']")[0]
        assert self_link.get("type") == FEED_TYPES[fmt]
