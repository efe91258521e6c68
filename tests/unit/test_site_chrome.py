"""What every page of the readers' site shares: one hashed stylesheet, landmarks and a skip link,
navigation from the settings, social cards, and the interface language chosen in the settings."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from functions.config import Settings
from functions.logic.publish_articles import publish_changes
from functions.models.article import Article, Image, Taxon
from functions.models.site import Site
from functions.render import assets
from functions.render.assets import ASSET_CACHE, asset_outputs, asset_path
from functions.render.environment import count_label, month_label
from functions.render.pages import (
    render_article_page,
    render_home_page,
    render_listing_page,
    render_month_page,
    render_not_found_page,
    render_retraction_page,
)
from tests.unit.test_publish_logic import MemoryStore, created, record_of


def _doc(page: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(page)


@pytest.fixture
def every_page(site: Site, seed_article: Article) -> dict[str, str]:
    retracted = seed_article.model_copy(
        update={"status": "retracted", "retraction": {"at": seed_article.updated_at, "reason": "Sai"}}
    )
    return {
        "home": render_home_page([seed_article], site),
        "article": render_article_page(seed_article, site),
        "section": render_listing_page("section", "Thể thao", "the-thao", [seed_article], site),
        "month": render_month_page("tag", "Ô Môn", "o-mon", (2023, 5), [seed_article], site),
        "retraction": render_retraction_page(retracted, site),
        "404": render_not_found_page(site),
    }


def test_the_stylesheet_and_icon_are_named_by_a_hash_of_their_content_and_cached_for_a_year() -> None:
    css = asset_path("site.css")
    assert re.fullmatch(r"/assets/site\.[0-9a-f]{12}\.css", css)
    outputs = {output.key: output for output in asset_outputs()}
    stylesheet = outputs[css.lstrip("/")]
    assert stylesheet.content_type == "text/css; charset=utf-8"
    assert stylesheet.cache_control == ASSET_CACHE == "public, max-age=31536000, immutable"
    assert len(stylesheet.body) < 10_000, "one small stylesheet"
    assert outputs[asset_path("icon.svg").lstrip("/")].content_type == "image/svg+xml"


def test_a_changed_stylesheet_gets_a_new_name(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "site.css").write_text("body{color:#000}")
    monkeypatch.setattr(assets, "ASSETS_DIR", tmp_path)
    assets._assets.cache_clear()
    try:
        first = asset_path("site.css")
        (tmp_path / "site.css").write_text("body{color:#111}")
        assets._assets.cache_clear()
        assert asset_path("site.css") != first
    finally:
        monkeypatch.undo()
        assets._assets.cache_clear()


def test_every_page_links_the_hashed_stylesheet_and_carries_no_inline_style_or_script(
    every_page: dict[str, str],
) -> None:
    for name, page in every_page.items():
        doc = _doc(page)
        assert doc.xpath("//link[@rel='stylesheet']/@href") == [asset_path("site.css")], name
        assert doc.xpath("//link[@rel='icon']/@href") == [asset_path("icon.svg")], name
        assert not doc.xpath("//style | //*[@style]"), name
        assert doc.xpath("//script/@type") in ([], ["application/ld+json"]), name


def test_every_page_has_landmarks_a_skip_link_to_main_and_one_h1(every_page: dict[str, str]) -> None:
    for name, page in every_page.items():
        doc = _doc(page)
        first_link = doc.xpath("//body//a")[0]
        assert first_link.get("href") == "#main" and first_link.get("class") == "skip-link", name
        assert first_link.text_content() == "Bỏ qua, đến nội dung chính"
        assert len(doc.xpath("//main[@id='main']")) == 1, name
        assert doc.xpath("//header[@class='site-header']") and doc.xpath("//footer[@class='site-footer']")
        assert doc.xpath("//nav[@class='site-nav']/@aria-label") == ["Chuyên mục"], name
        assert len(doc.xpath("//h1")) == 1, name


def test_the_navigation_lists_the_sections_named_in_the_settings_and_marks_the_current_one(
    site: Site, seed_article: Article
) -> None:
    settings = Settings(
        content_bucket="content",
        site_bucket="site",
        table_name="table",
        site_url="https://news.example.vn",
        site_sections="Thời sự, Hoạt động Mặt trận ,",
    )
    with_sections = site.model_copy(update={"sections": Site.from_settings(settings).sections})
    assert with_sections.sections == (Taxon.named("Thời sự"), Taxon.named("Hoạt động Mặt trận"))

    page = render_listing_page("section", "Hoạt động Mặt trận", "hoat-dong-mat-tran", [], with_sections)

    nav = _doc(page).xpath("//nav[@class='site-nav']//a")
    assert [(a.get("href"), a.text_content()) for a in nav] == [
        ("/", "Trang chủ"),
        ("/section/thoi-su/", "Thời sự"),
        ("/section/hoat-dong-mat-tran/", "Hoạt động Mặt trận"),
    ]
    assert [a.get("aria-current") for a in nav] == [None, None, "page"]


def test_article_page_has_opengraph_twitter_card_and_news_article_metadata(
    site: Site, seed_article: Article
) -> None:
    with_image = seed_article.model_copy(
        update={"image": Image(src="/media/anh.jpg", alt="Quang cảnh lớp tập huấn")}
    )
    doc = _doc(render_article_page(with_image, site))

    def meta(attribute: str, name: str) -> list[str]:
        return doc.xpath(f"//meta[@{attribute}='{name}']/@content")

    assert meta("property", "og:locale") == ["vi_VN"]
    assert meta("property", "og:image") == ["https://news.example.vn/media/anh.jpg"]
    assert meta("name", "twitter:card") == ["summary_large_image"]
    assert meta("name", "twitter:title") == [seed_article.title]
    assert meta("name", "twitter:image:alt") == ["Quang cảnh lớp tập huấn"]
    assert meta("property", "article:published_time") == ["2023-05-10T16:30:00+07:00"]
    without = _doc(render_article_page(seed_article.model_copy(update={"image": None}), site))
    assert without.xpath("//meta[@name='twitter:card']/@content") == ["summary"], "no picture: small card"


def test_an_english_site_gets_english_interface_strings_month_names_and_number_grouping(
    site: Site, seed_article: Article
) -> None:
    english = site.model_copy(update={"language": "en"})
    doc = _doc(render_month_page("home", "", "", (2023, 5), [seed_article], english, older=(2023, 4)))

    assert doc.get("lang") == "en"
    assert doc.xpath("string(//h1)") == "May 2023"
    assert doc.xpath("string(//a[@class='skip-link'])") == "Skip to main content"
    assert doc.xpath("string(//nav[@class='pagination']/a[@rel='next'])") == "Older articles (April 2023) →"
    assert doc.xpath("//meta[@property='og:locale']/@content") == ["en_US"]
    assert count_label(1234, "en") == "1,234 articles" and count_label(1, "en") == "1 article"
    assert count_label(1234, "vi") == "1.234 bài viết"
    assert month_label((2023, 12), "vi") == "Tháng 12/2023"


def test_publishing_writes_the_stylesheet_and_icon_the_pages_name(site: Site, seed_article: Article) -> None:
    store = MemoryStore(indexed=[record_of(seed_article)], documents={seed_article.id: seed_article})

    publish_changes([created(seed_article)], store, site)

    stylesheet = store.objects[asset_path("site.css").lstrip("/")]
    assert stylesheet.cache_control == ASSET_CACHE
    assert asset_path("site.css") in store.text("index.html")
    assert asset_path("icon.svg").lstrip("/") in store.objects
