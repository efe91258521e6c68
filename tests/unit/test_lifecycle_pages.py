"""Pages for the editorial lifecycle: corrections, structured data, retractions, listings, previews, 404."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import html as lxml_html

from functions.models.article import ArticleSummary, Correction, Retraction
from functions.models.paths import FEED_TYPES, feed_path, listing_path
from functions.render.environment import STRINGS
from functions.render.pages import (
    json_for_script,
    render_article_page,
    render_listing_page,
    render_not_found_page,
    render_preview_page,
    render_retraction_page,
)

SEED_TITLE = "Ô Môn: tập huấn nghiệp vụ công tác Mặt trận năm 2023"
SEED_URL = "https://news.example.vn/2023/05/10/o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023/"
LEAD_URL = "https://news.example.vn/media/seed/quang-canh-lop-tap-huan.jpg"
# A sentence only the body has.
BODY_SENTENCE = "Đến dự lễ khai giảng lớp tập huấn, có ông Tống Văn Nhịn"
# 02:00 UTC is 09:00 in Hồ Chí Minh City, the day after publication (a Thursday).
CORRECTED_AT = datetime(2023, 5, 11, 2, 0, tzinfo=UTC)
CORRECTION_NOTE = "Bài viết đã sửa chức danh của bà Nguyễn Thúy Hằng."
EVIL_TITLE = "</script><script>alert(1)</script>"


def _doc(page: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(page)


def _summary(article) -> ArticleSummary:
    return ArticleSummary.model_validate(article.model_dump(include=set(ArticleSummary.model_fields)))


def _json_ld(page: str) -> dict[str, Any]:
    scripts = _doc(page).xpath("//script[@type='application/ld+json']")
    assert len(scripts) == 1
    return json.loads(scripts[0].text)


@pytest.fixture
def english_site(site):
    return site.model_copy(update={"language": "en"})


@pytest.fixture
def corrected(seed_article):
    return seed_article.model_copy(
        update={
            "updated_at": CORRECTED_AT,
            "revision": 2,
            "corrections": [Correction(at=CORRECTED_AT, note=CORRECTION_NOTE)],
        }
    )


@pytest.fixture
def retracted(seed_article):
    return seed_article.model_copy(
        update={
            "status": "retracted",
            "updated_at": CORRECTED_AT,
            "retraction": Retraction(at=CORRECTED_AT, reason="Thông tin chưa được kiểm chứng."),
        }
    )


# --- corrections ----------------------------------------------------------------------------


def test_correction_notice_shows_vietnamese_local_date_and_note(site, corrected):
    doc = _doc(render_article_page(corrected, site))
    notices = doc.xpath("//article//*[@class='correction']")
    assert [n.text_content() for n in notices] == [
        f"Đính chính (Thứ Năm, 11/05/2023, 09:00 (GMT+7)): {CORRECTION_NOTE}"
    ]
    assert notices[0].xpath("time/@datetime") == ["2023-05-11T09:00:00+07:00"]


def test_correction_notices_are_listed_oldest_first(site, corrected):
    later = Correction(at=CORRECTED_AT + timedelta(days=1), note="Lần hai.")
    article = corrected.model_copy(update={"corrections": [later, *corrected.corrections]})
    notes = _doc(render_article_page(article, site)).xpath("//*[@class='correction']")
    assert [n.text_content().split("): ", 1)[1] for n in notes] == [CORRECTION_NOTE, "Lần hai."]


def test_article_without_corrections_has_no_correction_block(site, seed_article):
    assert not _doc(render_article_page(seed_article, site)).xpath("//*[@class='corrections']")


def test_correction_note_is_escaped(site, corrected):
    evil = corrected.model_copy(update={"corrections": [Correction(at=CORRECTED_AT, note="<b>x</b>")]})
    page = render_article_page(evil, site)
    assert "<b>x</b>" not in page
    assert _doc(page).xpath("string(//*[@class='correction'])").endswith(": <b>x</b>")


# --- photo credits --------------------------------------------------------------------------


def test_photo_credits_are_listed_under_the_body_once_each(site, seed_article):
    images = [image.model_copy(update={"credit": "Na Ra"}) for image in seed_article.images]
    article = seed_article.model_copy(update={"images": images, "image": images[0]})
    doc = _doc(render_article_page(article, site))
    assert [li.text_content() for li in doc.xpath("//article//ul[@class='credits']/li")] == ["Ảnh: Na Ra"]


def test_no_credit_list_when_no_image_has_a_credit(site, seed_article):
    assert not _doc(render_article_page(seed_article, site)).xpath("//*[@class='credits']")


# --- JSON-LD --------------------------------------------------------------------------------


def test_json_ld_is_a_news_article_with_dates_people_and_urls(site, seed_article):
    data = _json_ld(render_article_page(seed_article, site))
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == SEED_TITLE
    assert data["datePublished"] == "2023-05-10T16:30:00+07:00"
    assert data["dateModified"] == "2023-05-10T16:30:00+07:00"
    assert data["author"]["@type"] == "Person"
    assert data["author"]["name"] == "Na Ra"
    assert data["publisher"] == {
        "@type": "Organization",
        "name": "Cổng thông tin quận Ô Môn",
        "url": "https://news.example.vn/",
    }
    assert data["image"] == LEAD_URL
    assert data["mainEntityOfPage"] == SEED_URL
    assert data["inLanguage"] == "vi"


def test_json_ld_date_modified_follows_a_correction_and_date_published_does_not(site, corrected):
    data = _json_ld(render_article_page(corrected, site))
    assert data["dateModified"] == "2023-05-11T09:00:00+07:00"
    assert data["datePublished"] == "2023-05-10T16:30:00+07:00"


def test_json_ld_has_no_image_without_a_lead_image(site, seed_article):
    data = _json_ld(render_article_page(seed_article.model_copy(update={"image": None}), site))
    assert "image" not in data


def test_title_closing_the_script_cannot_break_out_of_the_json_ld(site, seed_article):
    page = render_article_page(seed_article.model_copy(update={"title": EVIL_TITLE}), site)
    assert "</script><script>" not in page
    doc = _doc(page)
    assert [s.get("type") for s in doc.xpath("//script")] == ["application/ld+json"]
    assert _json_ld(page)["headline"] == EVIL_TITLE


def test_json_for_script_escapes_markup_characters_and_round_trips():
    data = {"a": "</script>&<!--", "b": "Tiếng Việt"}
    text = str(json_for_script(data))
    assert not set("<>&") & set(text)
    assert "Tiếng Việt" in text
    assert json.loads(text) == data


# --- retraction -----------------------------------------------------------------------------


def test_retraction_page_has_headline_date_and_reason_but_no_body(site, retracted):
    page = render_retraction_page(retracted, site)
    doc = _doc(page)
    assert doc.xpath("string(//h1)") == f"Bài viết đã bị gỡ bỏ: {SEED_TITLE}"
    assert doc.xpath("string(//title)").startswith(f"Bài viết đã bị gỡ bỏ: {SEED_TITLE}")
    assert doc.xpath("string(//*[@class='retracted-on'])") == "Gỡ bỏ lúc Thứ Năm, 11/05/2023, 09:00 (GMT+7)"
    assert doc.xpath("string(//*[@class='reason'])") == "Lý do: Thông tin chưa được kiểm chứng."
    assert BODY_SENTENCE not in page
    assert retracted.summary not in page
    assert not doc.xpath("//img | //figure")


def test_retraction_page_is_noindex_without_canonical(site, retracted):
    doc = _doc(render_retraction_page(retracted, site))
    assert doc.xpath("//meta[@name='robots']/@content") == ["noindex"]
    assert not doc.xpath("//link[@rel='canonical']")
    assert not doc.xpath("//script")


def test_retraction_page_refuses_an_article_that_was_not_retracted(site, seed_article):
    with pytest.raises(ValueError, match="not been retracted"):
        render_retraction_page(seed_article, site)


# --- listing pages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "slug", "heading"),
    [
        ("section", "Hoạt động Mặt trận", "hoat-dong-mat-tran", "Chuyên mục: Hoạt động Mặt trận"),
        ("tag", "Ô Môn", "o-mon", "Thẻ: Ô Môn"),
        ("author", "Na Ra", "na-ra", "Tác giả: Na Ra"),
    ],
)
def test_listing_page_has_heading_canonical_and_newest_first_links(
    site, make_article, kind, name, slug, heading
):
    articles = [_summary(make_article(hours)) for hours in (1, 3, 2)]
    doc = _doc(render_listing_page(kind, name, slug, articles, site))
    assert doc.xpath("string(//h1)") == heading
    assert doc.xpath("string(//title)") == f"{heading} - {site.name}"
    assert doc.xpath("//link[@rel='canonical']/@href") == [f"https://news.example.vn/{kind}/{slug}/"]
    links = doc.xpath("//ol[@class='articles']/li/h2/a")
    assert [a.text for a in links] == ["Bài viết số 3", "Bài viết số 2", "Bài viết số 1"]
    assert [a.get("href") for a in links] == [
        "/2023/05/10/bai-viet-3/",
        "/2023/05/10/bai-viet-2/",
        "/2023/05/10/bai-viet-1/",
    ]


def test_listing_page_has_feed_autodiscovery_and_section_links(site, seed_article):
    doc = _doc(render_listing_page("tag", "Ô Môn", "o-mon", [_summary(seed_article)], site))
    links = [(link.get("type"), link.get("href")) for link in doc.xpath("//head/link[@rel='alternate']")]
    # The site's three feeds, then the tag's own.
    assert links == [
        ("application/rss+xml", "/feeds/rss.xml"),
        ("application/atom+xml", "/feeds/atom.xml"),
        ("application/feed+json", "/feeds/feed.json"),
        ("application/rss+xml", "/feeds/tag/o-mon/rss.xml"),
        ("application/atom+xml", "/feeds/tag/o-mon/atom.xml"),
        ("application/feed+json", "/feeds/tag/o-mon/feed.json"),
    ]
    assert doc.xpath("//head/link[@rel='alternate']/@title")[3:] == [
        f"{site.name} – Thẻ: Ô Môn (RSS)",
        f"{site.name} – Thẻ: Ô Môn (Atom)",
        f"{site.name} – Thẻ: Ô Môn (JSON Feed)",
    ]
    assert doc.xpath("//ol[@class='articles']//p[@class='meta']/a/@href") == [
        listing_path("section", "hoat-dong-mat-tran")
    ]


def test_listing_feed_paths_are_the_ones_in_the_paths_module(site):
    for kind in ("section", "tag", "author"):
        doc = _doc(render_listing_page(kind, "X", "x", [], site))
        own = doc.xpath("//head/link[@rel='alternate']/@href")[3:]
        assert own == [feed_path(kind, "x", fmt) for fmt in FEED_TYPES]
        assert doc.xpath("//head/link[@rel='alternate']/@type")[3:] == list(FEED_TYPES.values())


def test_retraction_and_not_found_pages_advertise_only_the_site_feeds(site, retracted):
    for page in (render_retraction_page(retracted, site), render_not_found_page(site)):
        hrefs = _doc(page).xpath("//head/link[@rel='alternate']/@href")
        assert hrefs == ["/feeds/rss.xml", "/feeds/atom.xml", "/feeds/feed.json"]


def test_listing_feed_titles_escape_the_name(site):
    page = render_listing_page("tag", '"><script>x</script>', "x", [], site)
    assert "<script>" not in page
    titles = _doc(page).xpath("//head/link[@rel='alternate']/@title")[3:]
    assert titles[0] == f'{site.name} – Thẻ: "><script>x</script> (RSS)'


def test_empty_listing_page_says_there_are_no_articles(site):
    doc = _doc(render_listing_page("section", "Thể thao", "the-thao", [], site))
    assert doc.xpath("string(//ol[@class='articles']/li)") == "Chưa có bài viết."


def test_listing_page_refuses_the_home_kind(site):
    with pytest.raises(ValueError, match="home"):
        render_listing_page("home", "", "", [], site)


def test_listing_page_escapes_the_name(site):
    page = render_listing_page("tag", "<script>x</script>", "x", [], site)
    assert "<script>" not in page


# --- preview --------------------------------------------------------------------------------


def test_preview_page_shows_the_notice_with_local_expiry(site, seed_article):
    expires = datetime(2023, 5, 11, 2, 0, tzinfo=UTC)
    doc = _doc(render_preview_page(seed_article, site, expires))
    notice = doc.xpath("//*[@class='preview-notice']")
    assert [n.text_content() for n in notice] == [
        "Bản xem trước — chưa xuất bản (hết hạn Thứ Năm, 11/05/2023, 09:00 (GMT+7))"
    ]
    assert doc.xpath("string(//article//h1)") == SEED_TITLE
    assert BODY_SENTENCE in doc.xpath("string(//article)")


def test_preview_page_is_noindex_nofollow_and_never_names_the_public_url(site, seed_article):
    page = render_preview_page(seed_article, site, datetime(2023, 5, 11, 2, 0, tzinfo=UTC))
    doc = _doc(page)
    assert doc.xpath("//meta[@name='robots']/@content") == ["noindex, nofollow"]
    assert not doc.xpath("//link[@rel='canonical']")
    assert not doc.xpath("//meta[@property='og:url']")
    assert SEED_URL not in page


def test_public_article_page_has_no_preview_notice_or_robots_meta(site, seed_article):
    doc = _doc(render_article_page(seed_article, site))
    assert not doc.xpath("//*[@class='preview-notice']")
    assert not doc.xpath("//meta[@name='robots']")


def test_preview_refuses_a_naive_expiry(site, seed_article):
    with pytest.raises(ValueError, match="naive"):
        render_preview_page(seed_article, site, datetime(2023, 5, 11, 9, 0))


# --- 404 ------------------------------------------------------------------------------------


def test_not_found_page_says_so_and_links_home(site):
    doc = _doc(render_not_found_page(site))
    assert doc.xpath("string(//h1)") == "Không tìm thấy trang"
    assert doc.xpath("string(//title)") == f"Không tìm thấy trang - {site.name}"
    assert doc.xpath("//main//a[@class='home-link']/@href") == ["/"]
    assert doc.xpath("//meta[@name='robots']/@content") == ["noindex"]
    assert not doc.xpath("//link[@rel='canonical']")


# --- English interface ----------------------------------------------------------------------


def test_english_site_gets_english_interface_strings(english_site, corrected, retracted, seed_article):
    article = corrected.model_copy(update={"language": "en"})
    doc = _doc(render_article_page(article, english_site))
    assert doc.xpath("string(//*[@class='correction'])") == (
        f"Correction (Thursday, 11 May 2023, 09:00 (GMT+7)): {CORRECTION_NOTE}"
    )

    doc = _doc(render_retraction_page(retracted, english_site))
    assert doc.xpath("string(//h1)") == f"This article has been retracted: {SEED_TITLE}"
    assert doc.xpath("string(//*[@class='reason'])").startswith("Reason: ")

    for kind, label in (("section", "Section"), ("tag", "Tag"), ("author", "Author")):
        doc = _doc(render_listing_page(kind, "X", "x", [], english_site))
        assert doc.xpath("string(//h1)") == f"{label}: X"
        assert doc.xpath("string(//ol[@class='articles']/li)") == "No articles yet."

    expires = datetime(2023, 5, 11, 2, 0, tzinfo=UTC)
    doc = _doc(render_preview_page(seed_article, english_site, expires))
    assert doc.xpath("string(//*[@class='preview-notice'])") == (
        "Preview — not published (expires Thursday, 11 May 2023, 09:00 (GMT+7))"
    )

    doc = _doc(render_not_found_page(english_site))
    assert doc.xpath("string(//h1)") == "Page not found"
    assert doc.get("lang") == "en"


def test_regional_language_tags_use_their_base_language(site, seed_article):
    doc = _doc(render_not_found_page(site.model_copy(update={"language": "en-GB"})))
    assert doc.xpath("string(//h1)") == "Page not found"


def test_every_interface_string_exists_in_both_languages():
    assert STRINGS["vi"].keys() == STRINGS["en"].keys()


def test_lifecycle_pages_render_identically_twice(site, corrected, retracted, seed_article):
    expires = datetime(2023, 5, 11, 2, 0, tzinfo=UTC)
    for render in (
        lambda: render_article_page(corrected, site),
        lambda: render_retraction_page(retracted, site),
        lambda: render_listing_page("tag", "Ô Môn", "o-mon", [_summary(seed_article)], site),
        lambda: render_preview_page(seed_article, site, expires),
        lambda: render_not_found_page(site),
    ):
        assert render() == render()
