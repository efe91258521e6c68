"""Sitemap index, monthly urlsets, the Google News sitemap and robots.txt.

Documents are read back with lxml and validated against the sitemaps.org schemas (stored under
tests/unit/schemas/, each file noting its source). The image and news extension schemas there
are our own transcriptions of Google's documentation, not Google's files.
"""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from functions.render import sitemaps
from functions.render.sitemaps import (
    IMAGE_NS,
    MAX_NEWS_URLS,
    MAX_SITEMAP_URLS,
    NEWS_NS,
    SITEMAP_NS,
    SitemapMonth,
    news_language,
    render_news_sitemap,
    render_robots,
    render_sitemap_index,
    render_sitemap_month,
    sitemap_month_of,
    sitemap_months,
)

SCHEMAS = Path(__file__).resolve().parent / "schemas"
NS = {"sm": SITEMAP_NS, "image": IMAGE_NS, "news": NEWS_NS}
SEED_TITLE = "Ô Môn: tập huấn nghiệp vụ công tác Mặt trận năm 2023"
SEED_URL = "https://news.example.vn/2023/05/10/o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023/"
LEAD_URL = "https://news.example.vn/media/seed/quang-canh-lop-tap-huan.jpg"
# W3C Datetime with seconds and an explicit offset (never "Z", never naive).
W3C_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
ICT = timezone(timedelta(hours=7))


@cache
def _schema(kind: str) -> etree.XMLSchema:
    if kind == "index":
        return etree.XMLSchema(etree.parse(str(SCHEMAS / "sitemap-index.xsd")))
    # The sitemaps.org schema validates extension elements strictly, so the urlset schema is a
    # wrapper importing the core namespace and both Google extensions.
    imports = "".join(
        f'<xsd:import namespace="{ns}" schemaLocation="{(SCHEMAS / name).as_uri()}"/>'
        for ns, name in (
            (SITEMAP_NS, "sitemap.xsd"),
            (IMAGE_NS, "sitemap-image.xsd"),
            (NEWS_NS, "sitemap-news.xsd"),
        )
    )
    wrapper = f'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema">{imports}</xsd:schema>'
    return etree.XMLSchema(etree.fromstring(wrapper.encode()))


def _parse(body: bytes, kind: str) -> etree._Element:
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(body)
    schema = _schema(kind)
    assert schema.validate(root), schema.error_log
    return root


def _months() -> list[SitemapMonth]:
    return [
        SitemapMonth(2023, 6, datetime(2023, 6, 2, 1, 0, tzinfo=UTC)),
        SitemapMonth(2023, 5, datetime(2023, 5, 31, 20, 0, tzinfo=UTC)),
        SitemapMonth(2022, 12, datetime(2023, 1, 3, 4, 5, 6, tzinfo=ICT)),
    ]


# --- sitemap index ---------------------------------------------------------------------------


def test_index_lists_each_month_with_absolute_loc_and_offset_lastmod_oldest_first(site):
    root = _parse(render_sitemap_index(_months(), site), "index")

    assert root.tag == f"{{{SITEMAP_NS}}}sitemapindex"
    assert root.nsmap == {None: SITEMAP_NS}
    assert root.xpath("sm:sitemap/sm:loc/text()", namespaces=NS) == [
        "https://news.example.vn/sitemaps/2022-12.xml",
        "https://news.example.vn/sitemaps/2023-05.xml",
        "https://news.example.vn/sitemaps/2023-06.xml",
    ]
    # Shown in the site's zone (+07:00): 2023-05-31T20:00Z is already 1 June there.
    assert root.xpath("sm:sitemap/sm:lastmod/text()", namespaces=NS) == [
        "2023-01-03T04:05:06+07:00",
        "2023-06-01T03:00:00+07:00",
        "2023-06-02T08:00:00+07:00",
    ]


def test_index_is_byte_identical_whatever_the_input_order(site):
    months = _months()
    first = render_sitemap_index(months, site)
    assert render_sitemap_index(list(reversed(months)), site) == first
    assert render_sitemap_index(months, site) == first


def test_index_with_no_months_is_an_empty_sitemapindex(site):
    root = etree.fromstring(render_sitemap_index([], site))
    assert root.tag == f"{{{SITEMAP_NS}}}sitemapindex"
    assert len(root) == 0


def test_index_refuses_a_month_listed_twice(site):
    month = _months()[0]
    with pytest.raises(ValueError, match="twice"):
        render_sitemap_index([month, month], site)


def test_index_refuses_more_than_50000_sitemaps(site):
    assert MAX_SITEMAP_URLS == 50_000
    month = _months()[0]
    with pytest.raises(ValueError, match="at most 50000"):
        render_sitemap_index([month] * (MAX_SITEMAP_URLS + 1), site)


@pytest.mark.parametrize("month", [0, 13])
def test_sitemap_month_refuses_an_impossible_month(month):
    with pytest.raises(ValueError, match="month"):
        SitemapMonth(2023, month, datetime(2023, 1, 1, tzinfo=UTC))


def test_sitemap_month_refuses_a_naive_lastmod():
    with pytest.raises(ValueError, match="naive"):
        SitemapMonth(2023, 5, datetime(2023, 5, 1))


def test_sitemap_months_groups_by_the_local_publication_month_with_newest_update(site, make_article):
    late_may_utc = datetime(2023, 5, 31, 18, 0, tzinfo=UTC)  # 1 June 01:00 in Ho Chi Minh City
    articles = [
        make_article(0),  # 10 May
        make_article(1, updated_at=datetime(2023, 7, 1, tzinfo=UTC)),  # 10 May, edited in July
        make_article(2, published_at=late_may_utc, updated_at=late_may_utc),
        make_article(3, status="draft", published_at=datetime(2023, 8, 1, tzinfo=UTC)),
    ]

    assert sitemap_month_of(articles[2], site) == (2023, 6)
    assert sitemap_months(articles, site) == [
        SitemapMonth(2023, 5, datetime(2023, 7, 1, tzinfo=UTC)),
        SitemapMonth(2023, 6, late_may_utc),
    ]


# --- monthly urlset --------------------------------------------------------------------------


def test_month_lists_published_articles_oldest_first_with_absolute_loc_and_updated_lastmod(
    site, seed_article, make_article
):
    edited = make_article(5, updated_at=seed_article.published_at + timedelta(days=3))
    articles = [edited, seed_article, make_article(7, status="retracted"), make_article(9, status="draft")]

    root = _parse(render_sitemap_month(articles, site), "urlset")

    assert root.tag == f"{{{SITEMAP_NS}}}urlset"
    assert root.nsmap == {None: SITEMAP_NS, "image": IMAGE_NS}
    assert root.xpath("sm:url/sm:loc/text()", namespaces=NS) == [
        SEED_URL,
        "https://news.example.vn/2023/05/10/bai-viet-5/",
    ]
    lastmods = root.xpath("sm:url/sm:lastmod/text()", namespaces=NS)
    assert lastmods == ["2023-05-10T16:30:00+07:00", "2023-05-13T16:30:00+07:00"]
    assert all(W3C_WITH_OFFSET.match(value) for value in lastmods)


def test_month_ties_on_published_at_are_broken_by_id(site, make_article):
    same_time = make_article(0).published_at
    b = make_article(1, id="bbbb", path="/2023/05/10/b/", published_at=same_time)
    a = make_article(2, id="aaaa", path="/2023/05/10/a/", published_at=same_time)

    root = etree.fromstring(render_sitemap_month([b, a], site))

    assert root.xpath("sm:url/sm:loc/text()", namespaces=NS) == [
        "https://news.example.vn/2023/05/10/a/",
        "https://news.example.vn/2023/05/10/b/",
    ]


def test_month_lists_the_lead_image_with_the_image_extension(site, seed_article, make_article):
    no_image = make_article(1, image=None)

    root = _parse(render_sitemap_month([seed_article, no_image], site), "urlset")

    urls = root.xpath("sm:url", namespaces=NS)
    assert urls[0].xpath("image:image/image:loc/text()", namespaces=NS) == [LEAD_URL]
    assert urls[1].xpath("image:image", namespaces=NS) == []


def test_month_percent_encodes_non_ascii_urls_and_escapes_ampersands(site, seed_article, make_article):
    odd = make_article(
        1,
        path="/2023/05/10/tin-ô-môn/?a=1&b=2",
        image=seed_article.image.model_copy(update={"src": "/media/ảnh lớp.jpg"}),
    )

    body = render_sitemap_month([odd], site)
    root = _parse(body, "urlset")

    assert root.xpath("sm:url/sm:loc/text()", namespaces=NS) == [
        "https://news.example.vn/2023/05/10/tin-%C3%B4-m%C3%B4n/?a=1&b=2"
    ]
    assert b"?a=1&amp;b=2</loc>" in body
    assert root.xpath("sm:url/image:image/image:loc/text()", namespaces=NS) == [
        "https://news.example.vn/media/%E1%BA%A3nh%20l%E1%BB%9Bp.jpg"
    ]


def test_month_is_byte_identical_whatever_the_input_order(site, make_article):
    articles = [make_article(hours) for hours in range(20)]
    first = render_sitemap_month(articles, site)
    shuffled = articles[:]
    random.Random(7).shuffle(shuffled)
    assert render_sitemap_month(shuffled, site) == first


def test_month_refuses_more_urls_than_the_limit(site, make_article, monkeypatch):
    monkeypatch.setattr(sitemaps, "MAX_SITEMAP_URLS", 2)
    render_sitemap_month([make_article(0), make_article(1)], site)
    with pytest.raises(ValueError, match="at most 2"):
        render_sitemap_month([make_article(0), make_article(1), make_article(2)], site)


def test_month_refuses_naive_datetimes(site, make_article):
    naive = make_article(0, updated_at=datetime(2023, 5, 10, 9, 0))
    with pytest.raises(ValueError, match="naive"):
        render_sitemap_month([naive], site)


# --- Google News sitemap ---------------------------------------------------------------------


def _news_locs(body: bytes) -> list[str]:
    return _parse(body, "urlset").xpath("sm:url/sm:loc/text()", namespaces=NS)


def test_news_keeps_the_two_days_before_the_newest_article_newest_first(site, make_article):
    # Three articles a day apart and a bit: the oldest falls outside the 2-day window.
    newest, day_before, three_days = make_article(49), make_article(25), make_article(0)

    locs = _news_locs(render_news_sitemap([three_days, newest, day_before], site))

    assert locs == [
        "https://news.example.vn/2023/05/12/bai-viet-49/",
        "https://news.example.vn/2023/05/11/bai-viet-25/",
    ]


def test_news_window_includes_an_article_exactly_two_days_older(site, make_article):
    locs = _news_locs(render_news_sitemap([make_article(48), make_article(0), make_article(-1)], site))
    assert [loc.rsplit("/", 2)[-2] for loc in locs] == ["bai-viet-48", "bai-viet-0"]


def test_news_window_is_measured_from_the_articles_not_the_wall_clock(site, seed_article):
    # The seed article is from 2023: against today's date it would be long out of the window.
    assert _news_locs(render_news_sitemap([seed_article], site)) == [SEED_URL]


def test_news_window_ignores_unpublished_articles_when_finding_the_newest(site, make_article):
    future_draft = make_article(100, status="scheduled")
    locs = _news_locs(render_news_sitemap([future_draft, make_article(0)], site))
    assert locs == ["https://news.example.vn/2023/05/10/bai-viet-0/"]


def test_news_caps_at_1000_newest_articles(site, make_article):
    assert MAX_NEWS_URLS == 1_000
    base = make_article(0)
    articles = [
        base.model_copy(
            update={
                "id": f"00000000-0000-4000-8000-{n:012d}",
                "path": f"/2023/05/10/bai-{n:04d}/",
                "published_at": base.published_at + timedelta(seconds=n),
            }
        )
        for n in range(1_005)
    ]

    locs = _news_locs(render_news_sitemap(articles, site))

    assert len(locs) == 1_000
    assert locs[0] == "https://news.example.vn/2023/05/10/bai-1004/"
    assert locs[-1] == "https://news.example.vn/2023/05/10/bai-0005/"


def test_news_entry_carries_publication_language_date_and_title(site, seed_article):
    root = _parse(render_news_sitemap([seed_article], site), "urlset")

    assert root.nsmap == {None: SITEMAP_NS, "news": NEWS_NS}
    (news,) = root.xpath("sm:url/news:news", namespaces=NS)
    assert news.xpath("news:publication/news:name/text()", namespaces=NS) == ["Cổng thông tin quận Ô Môn"]
    assert news.xpath("news:publication/news:language/text()", namespaces=NS) == ["vi"]
    assert news.xpath("news:publication_date/text()", namespaces=NS) == ["2023-05-10T16:30:00+07:00"]
    assert news.xpath("news:title/text()", namespaces=NS) == [SEED_TITLE]


def test_news_title_is_vietnamese_byte_exact_nfc_and_escaped(site, make_article):
    title = "Giá xăng & dầu < 20.000 đồng: Ủy ban “họp” khẩn"
    nfd = make_article(0, title=unicodedata.normalize("NFD", title))

    body = render_news_sitemap([nfd], site)

    # Raw UTF-8 in NFC (no character references), with & and < escaped.
    escaped = title.replace("&", "&amp;").replace("<", "&lt;")
    assert f"<news:title>{escaped}</news:title>".encode() in body
    assert "Cổng thông tin quận Ô Môn".encode() in body
    root = _parse(body, "urlset")
    assert root.xpath("//news:title/text()", namespaces=NS) == [title]


def test_news_title_drops_xml_illegal_control_characters(site, make_article):
    body = render_news_sitemap([make_article(0, title="Tin\x0b nóng")], site)
    assert _parse(body, "urlset").xpath("//news:title/text()", namespaces=NS) == ["Tin nóng"]


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("vi", "vi"),
        ("vi-VN", "vi"),
        ("en-GB", "en"),
        ("fil", "fil"),
        ("zh", "zh-cn"),
        ("zh-Hans-CN", "zh-cn"),
        ("zh-CN", "zh-cn"),
        ("zh-TW", "zh-tw"),
        ("zh-Hant", "zh-tw"),
        ("zh-HK", "zh-tw"),
    ],
)
def test_news_language_is_iso_639_except_chinese(tag, expected):
    assert news_language(tag) == expected


def test_news_language_follows_each_article(site, make_article):
    english = make_article(1, language="en-GB")
    root = _parse(render_news_sitemap([make_article(0), english], site), "urlset")
    assert root.xpath("//news:language/text()", namespaces=NS) == ["en", "vi"]


def test_news_sitemap_without_articles_is_an_empty_urlset(site):
    root = etree.fromstring(render_news_sitemap([], site))
    assert root.tag == f"{{{SITEMAP_NS}}}urlset"
    assert len(root) == 0


def test_news_is_byte_identical_whatever_the_input_order(site, make_article):
    articles = [make_article(hours) for hours in range(0, 60, 3)]
    first = render_news_sitemap(articles, site)
    assert render_news_sitemap(list(reversed(articles)), site) == first


# --- robots.txt ------------------------------------------------------------------------------


def test_robots_allows_all_but_the_api_and_lists_both_sitemaps(site):
    assert render_robots(site) == (
        b"User-agent: *\n"
        b"Disallow: /api/\n"
        b"\n"
        b"Sitemap: https://news.example.vn/sitemap.xml\n"
        b"Sitemap: https://news.example.vn/sitemap-news.xml\n"
    )


# --- the schemas themselves ------------------------------------------------------------------


_URL = "<loc>https://news.example.vn/a/</loc>"
_NEWS = (
    "<news:news><news:publication><news:name>N</news:name><news:language>vi-VN</news:language>"
    "</news:publication><news:publication_date>2023-05-10</news:publication_date>"
    "<news:title>T</news:title></news:news>"
)
INVALID_DOCUMENTS = {
    "index-without-loc": (
        "index",
        f'<sitemapindex xmlns="{SITEMAP_NS}"><sitemap><lastmod>2023-05-10</lastmod></sitemap></sitemapindex>',
    ),
    "index-bad-lastmod": (
        "index",
        f'<sitemapindex xmlns="{SITEMAP_NS}"><sitemap><loc>https://news.example.vn/a.xml</loc>'
        "<lastmod>10/05/2023</lastmod></sitemap></sitemapindex>",
    ),
    "urlset-bad-lastmod": (
        "urlset",
        f'<urlset xmlns="{SITEMAP_NS}"><url>{_URL}<lastmod>yesterday</lastmod></url></urlset>',
    ),
    "unknown-extension": (
        "urlset",
        f'<urlset xmlns="{SITEMAP_NS}" xmlns:x="urn:x"><url>{_URL}<x:y/></url></urlset>',
    ),
    "news-bad-language": (
        "urlset",
        f'<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}"><url>{_URL}{_NEWS}</url></urlset>',
    ),
}


@pytest.mark.parametrize(("kind", "document"), INVALID_DOCUMENTS.values(), ids=INVALID_DOCUMENTS.keys())
def test_schemas_reject_invalid_documents(kind, document):
    # Guards against a vacuous validation (a schema that accepts anything).
    assert not _schema(kind).validate(etree.fromstring(document.encode()))
