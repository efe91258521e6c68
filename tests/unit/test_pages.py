"""HTML pages: the article page and the home page, as a reader's browser gets them."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import html as lxml_html

from functions.models.article import ArticleSummary
from functions.render import environment
from functions.render.environment import get_environment, iso, local_datetime
from functions.render.pages import render_article_page, render_home_page

SEED_TITLE = "Ô Môn: tập huấn nghiệp vụ công tác Mặt trận năm 2023"
SEED_URL = "https://news.example.vn/2023/05/10/o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023/"


@pytest.fixture
def article_page(site, seed_article) -> str:
    return render_article_page(seed_article, site)


def _doc(page: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(page)


def _summary(article) -> ArticleSummary:
    return ArticleSummary.model_validate(article.model_dump(include=set(ArticleSummary.model_fields)))


# --- the environment ------------------------------------------------------------------------


def test_templates_dir_is_the_top_level_templates_folder():
    assert Path(__file__).resolve().parents[2] / "templates" == environment.TEMPLATES_DIR
    assert (environment.TEMPLATES_DIR / "base.html").is_file()


def test_environment_is_built_once_and_autoescapes_strictly():
    env = get_environment()
    assert env is get_environment()
    assert env.autoescape("page.html") is True
    assert env.undefined.__name__ == "StrictUndefined"


def test_local_datetime_shows_vietnamese_style_in_site_zone():
    instant = datetime(2023, 5, 10, 9, 30, tzinfo=UTC)
    assert local_datetime(instant, "Asia/Ho_Chi_Minh") == "Thứ Tư, 10/05/2023, 16:30 (GMT+7)"
    assert local_datetime(instant, "Asia/Ho_Chi_Minh", "en") == "Wednesday, 10 May 2023, 16:30 (GMT+7)"
    assert local_datetime(instant, "Asia/Kolkata", "en") == "Wednesday, 10 May 2023, 15:00 (GMT+5:30)"


def test_iso_keeps_the_site_offset():
    assert iso(datetime(2023, 5, 10, 9, 30, tzinfo=UTC), "Asia/Ho_Chi_Minh") == "2023-05-10T16:30:00+07:00"


def test_date_filters_refuse_naive_datetimes():
    with pytest.raises(ValueError, match="naive"):
        local_datetime(datetime(2023, 5, 10, 16, 30), "Asia/Ho_Chi_Minh")


# --- the article page -----------------------------------------------------------------------


def test_article_page_has_headline_lead_and_byline(article_page, seed_article):
    doc = _doc(article_page)
    assert doc.xpath("string(//article//h1)") == SEED_TITLE
    assert doc.xpath("string(//article//p[@class='lead'])") == seed_article.summary
    assert doc.xpath("string(//article//*[@class='byline'])") == "Na Ra"


def test_article_page_shows_the_vietnamese_date_and_machine_time(article_page):
    doc = _doc(article_page)
    time = doc.xpath("//article//time")[0]
    assert time.get("datetime") == "2023-05-10T16:30:00+07:00"
    assert time.text_content() == "Thứ Tư, 10/05/2023, 16:30 (GMT+7)"
    assert "10/05/2023" in article_page
    assert "16:30" in article_page


def test_article_page_keeps_vietnamese_text_byte_exact(article_page, seed_article):
    assert unicodedata.is_normalized("NFC", article_page)
    encoded = article_page.encode("utf-8")
    assert SEED_TITLE.encode("utf-8") in encoded
    assert seed_article.summary.encode("utf-8") in encoded


def test_article_page_includes_body_figures_with_captions(article_page):
    doc = _doc(article_page)
    figures = doc.xpath("//article//figure")
    assert len(figures) == 2
    assert figures[0].xpath("string(figcaption)") == "Quang cảnh lớp tập huấn"
    assert figures[0].xpath("img/@src") == ["/media/seed/quang-canh-lop-tap-huan.jpg"]
    assert "Tống Văn Nhịn" in doc.xpath("string(//article)")


def test_article_page_links_section_tags_and_byline_to_their_listing_pages(article_page):
    doc = _doc(article_page)
    section = doc.xpath("//article//p[contains(concat(' ', @class, ' '), ' section ')]/a")
    assert [(a.get("href"), a.text) for a in section] == [
        ("/section/hoat-dong-mat-tran/", "Hoạt động Mặt trận")
    ]
    tags = doc.xpath("//article//li[@class='tag']/a")
    assert [(a.get("href"), a.text) for a in tags] == [
        ("/tag/o-mon/", "Ô Môn"),
        ("/tag/tap-huan/", "Tập huấn"),
        ("/tag/mat-tran-to-quoc/", "Mặt trận Tổ quốc"),
    ]
    assert {a.get("rel") for a in tags} == {"tag"}
    assert doc.xpath("//article//*[@class='byline']/a/@href") == ["/author/na-ra/"]


def test_article_page_has_lang_charset_viewport_and_canonical(article_page):
    doc = _doc(article_page)
    assert doc.get("lang") == "vi"
    assert doc.xpath("//meta[@charset]/@charset") == ["utf-8"]
    assert doc.xpath("//meta[@name='viewport']")
    assert doc.xpath("//link[@rel='canonical']/@href") == [SEED_URL]
    assert doc.xpath("string(//title)").startswith(SEED_TITLE)


def test_article_page_lang_follows_the_article_language(site, seed_article):
    page = render_article_page(seed_article.model_copy(update={"language": "en"}), site)
    doc = _doc(page)
    assert doc.get("lang") == "en"
    assert doc.xpath("string(//article//time)") == "Wednesday, 10 May 2023, 16:30 (GMT+7)"


def test_every_page_shows_the_site_banner_and_name_linking_home(site, seed_article):
    for page in (render_article_page(seed_article, site), render_home_page([seed_article], site)):
        doc = _doc(page)
        assert doc.xpath("string(//*[@class='banner'])") == site.banner
        assert doc.xpath("//header//a[@href='/']/text()") == [site.name]


SITE_FEEDS = [
    ("application/rss+xml", "/feeds/rss.xml"),
    ("application/atom+xml", "/feeds/atom.xml"),
    ("application/feed+json", "/feeds/feed.json"),
]


def _alternates(doc: lxml_html.HtmlElement) -> list[tuple[str, str]]:
    return [(link.get("type"), link.get("href")) for link in doc.xpath("//head/link[@rel='alternate']")]


def test_every_page_advertises_the_sites_rss_atom_and_json_feed_first(site, seed_article):
    for page in (render_article_page(seed_article, site), render_home_page([seed_article], site)):
        doc = _doc(page)
        assert _alternates(doc)[:3] == SITE_FEEDS
        titles = doc.xpath("//head/link[@rel='alternate']/@title")[:3]
        assert titles == [f"{site.name} (RSS)", f"{site.name} (Atom)", f"{site.name} (JSON Feed)"]


def test_home_page_advertises_only_the_site_feeds(site, seed_article):
    assert _alternates(_doc(render_home_page([seed_article], site))) == SITE_FEEDS


def test_article_page_also_advertises_its_sections_three_feeds(site, seed_article):
    doc = _doc(render_article_page(seed_article, site))
    assert _alternates(doc)[3:] == [
        ("application/rss+xml", "/feeds/section/hoat-dong-mat-tran/rss.xml"),
        ("application/atom+xml", "/feeds/section/hoat-dong-mat-tran/atom.xml"),
        ("application/feed+json", "/feeds/section/hoat-dong-mat-tran/feed.json"),
    ]
    titles = doc.xpath("//head/link[@rel='alternate']/@title")[3:]
    assert titles[0] == f"{site.name} – Chuyên mục: Hoạt động Mặt trận (RSS)"
    assert all(title.startswith(f"{site.name} – Chuyên mục: Hoạt động Mặt trận (") for title in titles)


def test_feed_autodiscovery_hrefs_resolve_against_the_site(site, seed_article):
    # Root-relative: the page is served from the site, so the browser resolves them there.
    doc = _doc(render_article_page(seed_article, site))
    assert all(href.startswith("/feeds/") for _, href in _alternates(doc))


def test_footer_links_to_the_three_site_feeds(site, seed_article):
    doc = _doc(render_home_page([seed_article], site))
    links = doc.xpath("//footer//a")
    assert [(a.text, a.get("href"), a.get("type")) for a in links] == [
        ("RSS", "/feeds/rss.xml", "application/rss+xml"),
        ("Atom", "/feeds/atom.xml", "application/atom+xml"),
        ("JSON Feed", "/feeds/feed.json", "application/feed+json"),
    ]


def test_article_page_has_opengraph_with_absolute_image(article_page, seed_article):
    doc = _doc(article_page)

    def og(prop: str) -> list[str]:
        return doc.xpath(f"//meta[@property='{prop}']/@content")

    assert og("og:title") == [SEED_TITLE]
    assert og("og:description") == [seed_article.summary]
    assert og("og:url") == [SEED_URL]
    assert og("og:image") == ["https://news.example.vn/media/seed/quang-canh-lop-tap-huan.jpg"]


def test_article_page_without_lead_image_has_no_og_image(site, seed_article):
    page = render_article_page(seed_article.model_copy(update={"image": None}), site)
    assert 'property="og:image"' not in page


def test_script_in_title_and_summary_is_escaped_on_the_page(site, seed_article):
    evil = seed_article.model_copy(
        update={"title": "<script>alert(1)</script>", "summary": '"><script>alert(2)</script>'}
    )
    page = render_article_page(evil, site)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    doc = _doc(page)
    # The only script is the JSON-LD data block, which browsers never execute.
    assert [s.get("type") for s in doc.xpath("//script")] == ["application/ld+json"]
    assert doc.xpath("string(//article//h1)") == "<script>alert(1)</script>"
    assert doc.xpath("//meta[@property='og:description']/@content") == ['"><script>alert(2)</script>']


def test_script_in_title_is_escaped_on_the_home_page(site, seed_article):
    evil = seed_article.model_copy(update={"title": "<script>alert(1)</script>"})
    page = render_home_page([_summary(evil)], site)
    assert "<script>" not in page
    assert not _doc(page).xpath("//script")


def test_article_page_renders_identically_twice(site, seed_article):
    assert render_article_page(seed_article, site) == render_article_page(seed_article, site)


# --- the home page --------------------------------------------------------------------------


def test_home_page_lists_articles_newest_first_with_links(site, make_article):
    articles = [_summary(make_article(hours)) for hours in (1, 3, 2)]
    doc = _doc(render_home_page(articles, site))
    links = doc.xpath("//ol[@class='articles']/li/h2/a")
    assert [a.text for a in links] == ["Bài viết số 3", "Bài viết số 2", "Bài viết số 1"]
    assert [a.get("href") for a in links] == [
        "/2023/05/10/bai-viet-3/",
        "/2023/05/10/bai-viet-2/",
        "/2023/05/10/bai-viet-1/",
    ]


def test_home_page_shows_date_summary_and_thumbnail(site, seed_article):
    doc = _doc(render_home_page([_summary(seed_article)], site))
    item = doc.xpath("//ol[@class='articles']/li")[0]
    assert item.xpath("string(.//time)") == "Thứ Tư, 10/05/2023, 16:30 (GMT+7)"
    assert item.xpath("string(.//p[@class='summary'])") == seed_article.summary
    thumb = item.xpath(".//img")[0]
    assert thumb.get("src") == "/media/seed/quang-canh-lop-tap-huan.jpg"
    assert thumb.get("alt") == "Quang cảnh lớp tập huấn"


def test_home_page_without_images_or_articles_still_renders(site, seed_article):
    no_image = _summary(seed_article.model_copy(update={"image": None}))
    assert "<img" not in render_home_page([no_image], site)
    empty = _doc(render_home_page([], site))
    assert empty.get("lang") == "vi"
    assert empty.xpath("//link[@rel='canonical']/@href") == ["https://news.example.vn/"]
