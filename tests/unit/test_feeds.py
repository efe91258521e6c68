"""RSS and Atom feeds: what real clients (feedparser, lxml) see."""

from __future__ import annotations

import calendar
import json
from datetime import UTC, datetime, timedelta, timezone

import dateutil.tz
import feedparser
import pytest
from lxml import etree

from functions.models import paths
from functions.models.article import Correction
from functions.models.feeds import SITE_FEED, ArchiveLinks, FeedSpec, Tombstone
from functions.render.feeds import ATOM_PATH, RSS_PATH, feed_id, render_atom, render_rss
from functions.render.json_feed import render_json_feed

ATOM = "http://www.w3.org/2005/Atom"
DC = "http://purl.org/dc/elements/1.1/"
MEDIA = "http://search.yahoo.com/mrss/"
FH = "http://purl.org/syndication/history/1.0"
AT = "http://purl.org/atompub/tombstones/1.0"

SEED_TITLE = "Ô Môn: tập huấn nghiệp vụ công tác Mặt trận năm 2023"
# A sentence only the body has (the summary repeats the first paragraph, not this one).
BODY_SENTENCE = "Đến dự lễ khai giảng lớp tập huấn, có ông Tống Văn Nhịn"
SEED_URL = "https://news.example.vn/2023/05/10/o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023/"
LEAD_URL = "https://news.example.vn/media/seed/quang-canh-lop-tap-huan.jpg"
SECOND_URL = "https://news.example.vn/media/seed/ba-nguyen-thuy-hang.jpg"
SEED_ENTRY_ID = "tag:news.example.vn,2023-05-10:0f8fad5b-d9cb-469f-a165-70867728950e"
CATEGORY_NAMES = ["Hoạt động Mặt trận", "Ô Môn", "Tập huấn", "Mặt trận Tổ quốc"]
CATEGORY_SLUGS = ["hoat-dong-mat-tran", "o-mon", "tap-huan", "mat-tran-to-quoc"]

RENDERERS = {"rss": render_rss, "atom": render_atom}


def _timestamp(parsed: object) -> int:
    return calendar.timegm(parsed)  # type: ignore[arg-type]


@pytest.fixture(params=["rss", "atom"])
def fmt(request: pytest.FixtureRequest) -> str:
    return request.param


def _parse(raw: bytes) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(raw)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


# --- both formats ---------------------------------------------------------------------------


def test_feed_parses_without_errors_and_keeps_vietnamese_title_exact(fmt, site, seed_article):
    parsed = _parse(RENDERERS[fmt]([seed_article], site))
    assert parsed.version == ("rss20" if fmt == "rss" else "atom10")
    assert parsed.feed.title == "Cổng thông tin quận Ô Môn"
    assert parsed.entries[0].title == SEED_TITLE


def test_feed_output_is_utf8_nfc_bytes_of_the_title(fmt, site, seed_article):
    raw = RENDERERS[fmt]([seed_article], site)
    assert raw.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert SEED_TITLE.encode("utf-8") in raw


def test_entry_published_and_updated_equal_the_seed_instant(fmt, site, seed_article, seed_published_at):
    entry = _parse(RENDERERS[fmt]([seed_article], site)).entries[0]
    assert _timestamp(entry.published_parsed) == int(seed_published_at.timestamp())
    if fmt == "atom":
        assert _timestamp(entry.updated_parsed) == int(seed_published_at.timestamp())


def test_dates_carry_the_site_offset_not_utc(fmt, site, seed_article):
    raw = RENDERERS[fmt]([seed_article], site).decode()
    if fmt == "rss":
        assert "<pubDate>Wed, 10 May 2023 16:30:00 +0700</pubDate>" in raw
        assert "<lastBuildDate>Wed, 10 May 2023 16:30:00 +0700</lastBuildDate>" in raw
    else:
        assert "<published>2023-05-10T16:30:00+07:00</published>" in raw
        assert "<updated>2023-05-10T16:30:00+07:00</updated>" in raw


def test_entry_links_to_the_absolute_article_url(fmt, site, seed_article):
    entry = _parse(RENDERERS[fmt]([seed_article], site)).entries[0]
    assert entry.link == SEED_URL


def test_full_content_is_present_with_absolute_image_urls(fmt, site, seed_article):
    entry = _parse(RENDERERS[fmt]([seed_article], site)).entries[0]
    html = entry.content[0].value
    assert BODY_SENTENCE in html
    assert f'src="{LEAD_URL}"' in html
    assert f'src="{SECOND_URL}"' in html
    assert 'src="/media' not in html


def test_summary_is_the_article_summary(fmt, site, seed_article):
    entry = _parse(RENDERERS[fmt]([seed_article], site)).entries[0]
    assert entry.summary == seed_article.summary


def test_categories_are_the_section_then_the_tags(fmt, site, seed_article):
    entry = _parse(RENDERERS[fmt]([seed_article], site)).entries[0]
    if fmt == "rss":
        assert [tag.term for tag in entry.tags] == CATEGORY_NAMES
    else:
        assert [tag.term for tag in entry.tags] == CATEGORY_SLUGS
        assert [tag.label for tag in entry.tags] == CATEGORY_NAMES


def test_enclosure_has_absolute_url_type_and_length(fmt, site, seed_article):
    entry = _parse(RENDERERS[fmt]([seed_article], site)).entries[0]
    assert len(entry.enclosures) == 1
    enclosure = entry.enclosures[0]
    assert enclosure.href == LEAD_URL
    assert enclosure.type == "image/jpeg"
    assert enclosure.length == "40633"


def test_media_content_lists_each_image_once_with_absolute_urls(fmt, site, seed_article):
    root = etree.fromstring(RENDERERS[fmt]([seed_article], site))
    media = root.findall(f".//{{{MEDIA}}}content")
    assert [m.get("url") for m in media] == [LEAD_URL, SECOND_URL]
    assert [m.get("fileSize") for m in media] == ["40633", "39678"]
    assert {m.get("medium") for m in media} == {"image"}


def test_entry_id_is_an_ascii_tag_uri(fmt, site, seed_article):
    entry = _parse(RENDERERS[fmt]([seed_article], site)).entries[0]
    assert entry.id == SEED_ENTRY_ID
    assert entry.id.isascii()


def test_feed_holds_at_most_feed_size_entries_newest_first(fmt, site, make_article):
    small = site.model_copy(update={"feed_size": 3})
    articles = [make_article(hours) for hours in range(5)]  # oldest first on purpose
    parsed = _parse(RENDERERS[fmt](articles, small))
    assert [e.title for e in parsed.entries] == ["Bài viết số 4", "Bài viết số 3", "Bài viết số 2"]


def test_feed_updated_is_the_latest_entry_update_not_now(fmt, site, make_article):
    articles = [
        make_article(1),
        make_article(2, updated_at=datetime.fromisoformat("2024-01-02T03:04:05+00:00")),
    ]
    raw = RENDERERS[fmt](articles, site).decode()
    if fmt == "rss":
        assert "<lastBuildDate>Tue, 02 Jan 2024 10:04:05 +0700</lastBuildDate>" in raw
    else:
        assert "<updated>2024-01-02T10:04:05+07:00</updated>" in raw.split("<entry>")[0]


def test_empty_feed_is_valid_and_dated_with_a_constant(fmt, site):
    raw = RENDERERS[fmt]([], site)
    parsed = _parse(raw)
    assert parsed.entries == []
    if fmt == "rss":
        assert b"<lastBuildDate>Sat, 01 Jan 2000 07:00:00 +0700</lastBuildDate>" in raw
    else:
        assert b"<updated>2000-01-01T07:00:00+07:00</updated>" in raw
    assert raw == RENDERERS[fmt]([], site)


def test_rendering_twice_gives_identical_bytes(fmt, site, seed_article, make_article):
    articles = [make_article(3), make_article(2), seed_article]
    assert RENDERERS[fmt](articles, site) == RENDERERS[fmt](list(articles), site)


def test_vertical_tab_in_title_summary_and_body_still_renders_valid_xml(fmt, site, seed_article):
    dirty = seed_article.model_copy(
        update={
            "title": "Tiêu đề\x0b lỗi",
            "summary": "Tóm tắt\x0c lỗi\x00",
            "body_html": "<p>Nội dung\x0b có ký tự điều khiển</p>",
            "author": seed_article.author.model_copy(update={"name": "Na\x0b Ra"}),
        }
    )
    raw = RENDERERS[fmt]([dirty], site)
    etree.fromstring(raw)  # strict parser: raises on any illegal character
    entry = _parse(raw).entries[0]
    assert entry.title == "Tiêu đề lỗi"
    assert "Nội dung có ký tự điều khiển" in entry.content[0].value


def test_script_in_title_and_summary_is_escaped(fmt, site, seed_article):
    evil = seed_article.model_copy(
        update={"title": "<script>alert(1)</script>", "summary": "<script>alert(2)</script>"}
    )
    raw = RENDERERS[fmt]([evil], site)
    assert b"<script>" not in raw
    root = etree.fromstring(raw)
    # The title survives as text, not as an element.
    titles = [el.text for el in root.iter() if etree.QName(el).localname == "title"]
    assert "<script>alert(1)</script>" in titles
    assert not [el for el in root.iter() if etree.QName(el).localname == "script"]


def test_entries_in_another_language_keep_their_language(site, seed_article):
    english = seed_article.model_copy(update={"language": "en", "title": "In English"})
    root = etree.fromstring(render_atom([english], site))
    entry = root.find(f"{{{ATOM}}}entry")
    assert entry is not None
    assert entry.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"


# --- RSS ------------------------------------------------------------------------------------


def test_rss_channel_link_is_the_site_url_not_the_self_link(site, seed_article):
    root = etree.fromstring(render_rss([seed_article], site))
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("link") == "https://news.example.vn/"
    self_links = channel.findall(f"{{{ATOM}}}link[@rel='self']")
    assert [(link.get("href"), link.get("type")) for link in self_links] == [
        ("https://news.example.vn" + RSS_PATH, "application/rss+xml")
    ]


def test_rss_channel_has_description_and_language(site, seed_article):
    parsed = _parse(render_rss([seed_article], site))
    assert parsed.feed.subtitle == site.description
    assert parsed.feed.language == "vi"


def test_rss_byline_is_dc_creator_never_author(site, seed_article):
    raw = render_rss([seed_article], site)
    item = etree.fromstring(raw).find("channel/item")
    assert item is not None
    assert item.findtext(f"{{{DC}}}creator") == "Na Ra"
    assert item.find("author") is None
    assert _parse(raw).entries[0].author == "Na Ra"


def test_rss_guid_is_a_tag_uri_and_not_a_permalink(site, seed_article):
    item = etree.fromstring(render_rss([seed_article], site)).find("channel/item")
    assert item is not None
    guid = item.find("guid")
    assert guid is not None
    assert guid.text == SEED_ENTRY_ID
    assert guid.get("isPermaLink") == "false"


def test_rss_description_is_html_escaped_summary(site, seed_article):
    evil = seed_article.model_copy(update={"summary": "a < b & <script>x</script>"})
    item = etree.fromstring(render_rss([evil], site)).find("channel/item")
    assert item is not None
    # Readers treat <description> as HTML, so the text must arrive entity-encoded.
    assert item.findtext("description") == "a &lt; b &amp; &lt;script&gt;x&lt;/script&gt;"


def test_rss_content_encoded_is_the_full_body(site, seed_article):
    item = etree.fromstring(render_rss([seed_article], site)).find("channel/item")
    assert item is not None
    encoded = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    assert encoded is not None
    assert BODY_SENTENCE in encoded
    assert "<figcaption>Quang cảnh lớp tập huấn</figcaption>" in encoded


# --- Atom -----------------------------------------------------------------------------------


def test_atom_entry_has_exactly_one_alternate_and_one_enclosure_link(site, seed_article):
    # feedgen 1.0 drops rel/type/length from entry links, turning the enclosure into a second
    # alternate; the renderer repairs them.
    entry = etree.fromstring(render_atom([seed_article], site)).find(f"{{{ATOM}}}entry")
    assert entry is not None
    links = [
        (link.get("rel"), link.get("type"), link.get("href"), link.get("length"))
        for link in entry.findall(f"{{{ATOM}}}link")
    ]
    assert links == [
        ("alternate", "text/html", SEED_URL, None),
        ("enclosure", "image/jpeg", LEAD_URL, "40633"),
    ]


def test_atom_entry_links_as_feedparser_sees_them(site, seed_article):
    entry = _parse(render_atom([seed_article], site)).entries[0]
    assert [(link.rel, link.href) for link in entry.links] == [
        ("alternate", SEED_URL),
        ("enclosure", LEAD_URL),
    ]


def test_atom_feed_has_self_and_alternate_links(site, seed_article):
    root = etree.fromstring(render_atom([seed_article], site))
    links = [
        (link.get("rel"), link.get("type"), link.get("href")) for link in root.findall(f"{{{ATOM}}}link")
    ]
    assert ("self", "application/atom+xml", "https://news.example.vn" + ATOM_PATH) in links
    assert ("alternate", "text/html", "https://news.example.vn/") in links


def test_atom_feed_id_is_a_stable_ascii_tag_uri(site, seed_article):
    parsed = _parse(render_atom([seed_article], site))
    assert parsed.feed.id == "tag:news.example.vn,2000:feed"
    assert parsed.feed.subtitle == site.description
    assert parsed.feed.language == "vi"


def test_atom_content_is_type_html_not_cdata(site, seed_article):
    entry = etree.fromstring(render_atom([seed_article], site)).find(f"{{{ATOM}}}entry")
    assert entry is not None
    content = entry.find(f"{{{ATOM}}}content")
    assert content is not None
    assert content.get("type") == "html"
    assert b"CDATA" not in render_atom([seed_article], site)


def test_atom_entry_author_is_the_byline(site, seed_article):
    entry = _parse(render_atom([seed_article], site)).entries[0]
    assert entry.author == "Na Ra"


def test_feeds_do_not_depend_on_the_clock(site, seed_article, monkeypatch):
    before = render_rss([seed_article], site), render_atom([seed_article], site)
    # feedgen defaults every updated/lastBuildDate to datetime.now(dateutil.tz.tzutc()): skew that
    # clock's zone, and any default that leaks out changes the bytes.
    monkeypatch.setattr(dateutil.tz, "tzutc", lambda: timezone(timedelta(hours=13, minutes=37)))
    after = render_rss([seed_article], site), render_atom([seed_article], site)
    assert after == before


def test_naive_datetimes_are_refused_rather_than_guessed(fmt, site, seed_article):
    naive = seed_article.model_copy(update={"published_at": datetime(2023, 5, 10, 16, 30)})
    with pytest.raises(ValueError, match="naive"):
        RENDERERS[fmt]([naive], site)


def test_non_ascii_image_file_names_become_percent_encoded_uris(fmt, site, seed_article):
    image = seed_article.images[0].model_copy(update={"src": "/media/seed/ảnh đẹp.jpg"})
    article = seed_article.model_copy(update={"image": image, "images": [image]})
    entry = _parse(RENDERERS[fmt]([article], site)).entries[0]
    assert entry.enclosures[0].href == "https://news.example.vn/media/seed/%E1%BA%A3nh%20%C4%91%E1%BA%B9p.jpg"


# --- the editorial lifecycle ----------------------------------------------------------------


def test_feed_paths_are_the_ones_in_the_paths_module():
    assert (RSS_PATH, ATOM_PATH) == (paths.RSS_PATH, paths.ATOM_PATH)


def test_corrected_article_keeps_guid_and_pubdate_but_atom_updated_moves(site, seed_article):
    corrected_at = datetime(2023, 5, 11, 2, 0, tzinfo=UTC)
    corrected = seed_article.model_copy(
        update={
            "updated_at": corrected_at,
            "revision": 2,
            "corrections": [Correction(at=corrected_at, note="Sửa tên đại biểu.")],
        }
    )
    before = etree.fromstring(render_rss([seed_article], site)).find("channel/item")
    after = etree.fromstring(render_rss([corrected], site)).find("channel/item")
    assert before is not None and after is not None
    assert after.findtext("guid") == before.findtext("guid") == SEED_ENTRY_ID
    assert after.findtext("pubDate") == before.findtext("pubDate") == "Wed, 10 May 2023 16:30:00 +0700"

    entry = _parse(render_atom([corrected], site)).entries[0]
    assert entry.id == SEED_ENTRY_ID
    assert entry.published == "2023-05-10T16:30:00+07:00"
    assert entry.updated == "2023-05-11T09:00:00+07:00"
    assert _timestamp(entry.updated_parsed) > _timestamp(entry.published_parsed)


# --- listing feeds (section, tag, author) ------------------------------------------------------

SECTION = FeedSpec(kind="section", slug="hoat-dong-mat-tran", name="Hoạt động Mặt trận")
LISTINGS = [
    SECTION,
    FeedSpec(kind="tag", slug="o-mon", name="Ô Môn"),
    FeedSpec(kind="author", slug="na-ra", name="Na Ra"),
]
ALL_RENDERERS = {**RENDERERS, "json": render_json_feed}


def _feed_title(fmt: str, raw: bytes) -> str:
    if fmt == "json":
        return json.loads(raw)["title"]
    return _parse(raw).feed.title


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_listing_feed_titles_name_the_listing_in_the_sites_language(fmt, site, seed_article):
    titles = [_feed_title(fmt, ALL_RENDERERS[fmt]([seed_article], site, feed)) for feed in LISTINGS]
    assert titles == [
        "Cổng thông tin quận Ô Môn – Chuyên mục: Hoạt động Mặt trận",
        "Cổng thông tin quận Ô Môn – Thẻ: Ô Môn",
        "Cổng thông tin quận Ô Môn – Tác giả: Na Ra",
    ]
    english = site.model_copy(update={"language": "en", "name": "Ô Môn News"})
    titles = [_feed_title(fmt, ALL_RENDERERS[fmt]([seed_article], english, feed)) for feed in LISTINGS]
    assert titles == [
        "Ô Môn News – Section: Hoạt động Mặt trận",
        "Ô Môn News – Tag: Ô Môn",
        "Ô Môn News – Author: Na Ra",
    ]


def test_site_feed_title_is_the_site_name(site, seed_article):
    assert _feed_title("json", render_json_feed([seed_article], site)) == site.name


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_listing_feed_links_itself_and_its_page(fmt, site, seed_article):
    root = etree.fromstring(RENDERERS[fmt]([seed_article], site, SECTION))
    parent = root if fmt == "atom" else root.find("channel")
    assert parent is not None
    links = {link.get("rel"): link.get("href") for link in parent.findall(f"{{{ATOM}}}link")}
    assert (
        links["self"] == "https://news.example.vn/feeds/section/hoat-dong-mat-tran/" + paths.FEED_FILES[fmt]
    )
    if fmt == "atom":
        assert links["alternate"] == "https://news.example.vn/section/hoat-dong-mat-tran/"
    else:
        assert root.findtext("channel/link") == "https://news.example.vn/section/hoat-dong-mat-tran/"


def test_feed_ids_are_stable_ascii_and_distinct_per_feed(site):
    ids = [feed_id(site, feed) for feed in (SITE_FEED, *LISTINGS)]
    assert ids == [
        "tag:news.example.vn,2000:feed",
        "tag:news.example.vn,2000:feed:section:hoat-dong-mat-tran",
        "tag:news.example.vn,2000:feed:tag:o-mon",
        "tag:news.example.vn,2000:feed:author:na-ra",
    ]
    assert feed_id(site) == feed_id(site, SITE_FEED)
    assert all(i.isascii() for i in ids)
    assert feed_id(site, FeedSpec(kind="tag", slug="ô-môn", name="x")).isascii()


def test_listing_feed_entries_are_the_same_entries_as_in_the_site_feed(site, seed_article):
    site_entry = _parse(render_atom([seed_article], site)).entries[0]
    listing_entry = _parse(render_atom([seed_article], site, SECTION)).entries[0]
    assert listing_entry.id == site_entry.id
    assert listing_entry.link == site_entry.link


# --- WebSub -------------------------------------------------------------------------------------

HUBS = ("https://pubsubhubbub.appspot.com/", "https://websub.example.org/hub")


@pytest.mark.parametrize("feed", [SITE_FEED, *LISTINGS], ids=lambda f: f.kind)
def test_every_feed_advertises_every_websub_hub(feed, site, seed_article):
    hub_site = site.model_copy(update={"websub_hubs": HUBS})
    for fmt in ("rss", "atom"):
        parsed = _parse(RENDERERS[fmt]([seed_article], hub_site, feed))
        assert [link.href for link in parsed.feed.links if link.rel == "hub"] == list(HUBS)
        assert [link.href for link in parsed.feed.links if link.rel == "self"] == [
            hub_site.absolute(feed.path(fmt))
        ]
    document = json.loads(render_json_feed([seed_article], hub_site, feed))
    assert document["hubs"] == [{"type": "WebSub", "url": hub} for hub in HUBS]
    assert document["feed_url"] == hub_site.absolute(feed.path("json"))


def test_no_hub_links_without_hubs(site, seed_article):
    for fmt in ("rss", "atom"):
        assert b'rel="hub"' not in RENDERERS[fmt]([seed_article], site)


# --- rights -------------------------------------------------------------------------------------


def test_rights_appear_only_when_the_site_has_them(site, seed_article):
    assert b"<rights>" not in render_atom([seed_article], site)
    assert b"<copyright>" not in render_rss([seed_article], site)
    owned = site.model_copy(update={"rights_holder": "UBMTTQ quận Ô Môn", "usage_terms": "Ghi rõ nguồn."})
    assert _parse(render_atom([seed_article], owned)).feed.rights == "© UBMTTQ quận Ô Môn. Ghi rõ nguồn."
    assert etree.fromstring(render_rss([seed_article], owned)).findtext("channel/copyright") == (
        "© UBMTTQ quận Ô Môn. Ghi rõ nguồn."
    )


# --- RFC 5005 archives and RFC 6721 tombstones ------------------------------------------------

RETRACTED_ID = "tag:news.example.vn,2023-05-09:00000000-0000-4000-8000-000000000099"


def _feed_links(root: etree._Element) -> dict[str, str]:
    return {link.get("rel"): link.get("href") for link in root.findall(f"{{{ATOM}}}link")}


def test_feed_head_links_to_the_newest_archive_page_and_is_not_an_archive(site, seed_article):
    head = ArchiveLinks(prev_archive=paths.archive_path(7))
    root = etree.fromstring(render_atom([seed_article], site, archive=head))
    assert root.find(f"{{{FH}}}archive") is None
    links = _feed_links(root)
    assert links["prev-archive"] == "https://news.example.vn/feeds/archive/7.xml"
    assert links["self"] == "https://news.example.vn/feeds/atom.xml"
    assert "next-archive" not in links and "current" not in links


def test_archive_page_is_marked_and_links_current_prev_and_next(site, seed_article):
    archive = ArchiveLinks(
        current=paths.ATOM_PATH,
        prev_archive=paths.archive_path(2),
        next_archive="https://news.example.vn/feeds/archive/4.xml",
        is_archive=True,
    )
    root = etree.fromstring(render_atom([seed_article], site, archive=archive))
    assert root.find(f"{{{FH}}}archive") is not None
    assert root.nsmap["fh"] == FH  # declared once, on <feed>
    assert _feed_links(root) == {
        "self": "https://news.example.vn/feeds/archive/3.xml",
        "current": "https://news.example.vn/feeds/atom.xml",
        "prev-archive": "https://news.example.vn/feeds/archive/2.xml",
        "next-archive": "https://news.example.vn/feeds/archive/4.xml",
        "alternate": "https://news.example.vn/",
    }
    # An archive page is part of the site's feed: same id.
    assert root.findtext(f"{{{ATOM}}}id") == "tag:news.example.vn,2000:feed"


def test_archive_page_self_link_is_derived_from_its_neighbours_or_given(site):
    def self_of(archive: ArchiveLinks, **kwargs) -> str:
        return _feed_links(etree.fromstring(render_atom([], site, archive=archive, **kwargs)))["self"]

    base = "https://news.example.vn/feeds/archive/"
    assert self_of(ArchiveLinks(is_archive=True)) == base + "1.xml"
    assert self_of(ArchiveLinks(next_archive=paths.archive_path(2), is_archive=True)) == base + "1.xml"
    assert self_of(ArchiveLinks(prev_archive=paths.archive_path(8), is_archive=True)) == base + "9.xml"
    given = ArchiveLinks(prev_archive="/elsewhere/a.xml", is_archive=True)
    assert self_of(given, self_path="/elsewhere/b.xml") == "https://news.example.vn/elsewhere/b.xml"
    with pytest.raises(ValueError, match="self_path"):
        self_of(given)


def test_archive_page_keeps_every_article_it_is_given(site, make_article):
    small = site.model_copy(update={"feed_size": 2})
    articles = [make_article(hours) for hours in range(5)]
    archived = _parse(render_atom(articles, small, archive=ArchiveLinks(is_archive=True)))
    assert len(archived.entries) == 5
    head = _parse(render_atom(articles, small, archive=ArchiveLinks(prev_archive=paths.archive_path(1))))
    assert len(head.entries) == 2


def test_tombstones_are_rfc_6721_deleted_entries(site, seed_article):
    when = datetime(2023, 5, 11, 3, 0, tzinfo=UTC)
    deleted = [
        Tombstone(ref=RETRACTED_ID, when=when, comment="Gỡ bỏ theo yêu cầu của <Ban biên tập>."),
        Tombstone(ref="tag:news.example.vn,2023-05-08:old", when=when - timedelta(days=1)),
    ]
    raw = render_atom([seed_article], site, archive=ArchiveLinks(is_archive=True), deleted=deleted)
    root = etree.fromstring(raw)
    assert root.nsmap["at"] == AT
    tombstones = root.findall(f"{{{AT}}}deleted-entry")
    assert [(t.get("ref"), t.get("when")) for t in tombstones] == [
        (RETRACTED_ID, "2023-05-11T10:00:00+07:00"),
        ("tag:news.example.vn,2023-05-08:old", "2023-05-10T10:00:00+07:00"),
    ]
    assert tombstones[0].findtext(f"{{{AT}}}comment") == "Gỡ bỏ theo yêu cầu của <Ban biên tập>."
    assert tombstones[1].find(f"{{{AT}}}comment") is None
    # Before the entries: RFC 4287's schema admits foreign elements only there.
    children = [etree.QName(child).localname for child in root]
    assert children.index("deleted-entry") < children.index("entry")
    # A retraction changes the document, so it moves <updated>.
    assert root.findtext(f"{{{ATOM}}}updated") == "2023-05-11T10:00:00+07:00"
    assert _parse(raw).entries[0].id == SEED_ENTRY_ID


def test_tombstones_refuse_naive_times(site):
    naive = Tombstone(ref=RETRACTED_ID, when=datetime(2023, 5, 11, 3, 0))
    with pytest.raises(ValueError, match="naive"):
        render_atom([], site, archive=ArchiveLinks(is_archive=True), deleted=[naive])


def test_no_history_or_tombstone_namespaces_without_them(site, seed_article):
    raw = render_atom([seed_article], site)
    assert FH.encode() not in raw
    assert AT.encode() not in raw
