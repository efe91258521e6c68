"""Paginated listings: each listing's front page links to month pages that change only with their
own articles; article pages suggest the section's earlier articles."""

from __future__ import annotations

from datetime import timedelta

from lxml import html as lxml_html

from functions.logic.publish_articles import ArticleChange, publish_changes
from functions.models.article import Article, Retraction
from functions.models.site import Site
from tests.unit.conftest import ArticleFactory
from tests.unit.test_publish_logic import MemoryStore, created, record_of

DAY = 24  # hours
HOME_MAY = "2023/05/index.html"
SECTION = "section/hoat-dong-mat-tran"


def _store(*articles: Article) -> MemoryStore:
    return MemoryStore(
        indexed=[record_of(article) for article in articles],
        documents={article.id: article for article in articles},
    )


def _links(page: str, rel: str) -> list[str]:
    return lxml_html.document_fromstring(page).xpath(f"//nav[@class='pagination']/a[@rel='{rel}']/@href")


def _listed(page: str) -> list[str]:
    return lxml_html.document_fromstring(page).xpath("//ol[@class='articles']//h2/a/@href")


def test_publishing_writes_the_month_page_of_every_listing_the_article_is_in(
    make_article: ArticleFactory, site: Site
) -> None:
    article = make_article(0)
    store = _store(article)

    publish_changes([created(article)], store, site)

    for key in (
        HOME_MAY,
        f"{SECTION}/2023/05/index.html",
        "author/na-ra/2023/05/index.html",
        "tag/o-mon/2023/05/index.html",
    ):
        assert _listed(store.text(key)) == [article.path], key
    month = lxml_html.document_fromstring(store.text(HOME_MAY))
    assert month.xpath("string(//h1)") == "Tháng 5/2023"
    assert month.xpath("string(//p[@class='listing-count'])") == "1 bài viết"
    assert month.xpath("//link[@rel='canonical']/@href") == [site.absolute("/2023/05/")]
    # The newest month links back to the listing's front page, and to nothing older.
    assert _links(store.text(HOME_MAY), "prev") == ["/"] and _links(store.text(HOME_MAY), "next") == []


def test_a_month_page_lists_only_its_month_newest_first_and_links_its_neighbour_months(
    make_article: ArticleFactory, site: Site
) -> None:
    april, may_1, may_2, july = (
        make_article(-20 * DAY),
        make_article(0),
        make_article(2 * DAY),
        make_article(60 * DAY),
    )
    store = _store(april, may_1, may_2, july)

    publish_changes([created(may_2)], store, site)

    assert _listed(store.text(HOME_MAY)) == [may_2.path, may_1.path]
    assert _links(store.text(HOME_MAY), "next") == ["/2023/04/"]
    assert _links(store.text(HOME_MAY), "prev") == ["/2023/07/"]  # June has none: skipped
    section_may = store.text(f"{SECTION}/2023/05/index.html")
    assert _links(section_may, "next") == [f"/{SECTION}/2023/04/"]
    assert "Chuyên mục: Hoạt động Mặt trận – Tháng 5/2023" in section_may


def test_a_publish_into_a_month_that_has_articles_rewrites_no_other_month(
    make_article: ArticleFactory, site: Site
) -> None:
    april, may_1, july = make_article(-20 * DAY), make_article(0), make_article(60 * DAY)
    store = _store(april, may_1, july)
    publish_changes([created(april), created(may_1), created(july)], store, site)
    may_2 = make_article(2 * DAY)
    store.indexed.append(record_of(may_2))
    store.documents[may_2.id] = may_2
    store.puts.clear()

    publish_changes([created(may_2)], store, site)

    assert HOME_MAY in store.puts and f"{SECTION}/2023/05/index.html" in store.puts
    assert not any(key.endswith(("2023/04/index.html", "2023/07/index.html")) for key in store.puts)


def test_the_first_article_of_a_month_relinks_the_months_around_it(
    make_article: ArticleFactory, site: Site
) -> None:
    april, july = make_article(-20 * DAY), make_article(60 * DAY)
    store = _store(april, july)
    publish_changes([created(april), created(july)], store, site)
    assert _links(store.text("2023/07/index.html"), "next") == ["/2023/04/"]
    june = make_article(35 * DAY)
    store.indexed.append(record_of(june))
    store.documents[june.id] = june

    publish_changes([created(june)], store, site)

    assert _links(store.text("2023/07/index.html"), "next") == ["/2023/06/"]
    assert _links(store.text("2023/04/index.html"), "prev") == ["/2023/06/"]
    assert _links(store.text("2023/06/index.html"), "prev") == ["/2023/07/"]


def test_a_month_that_loses_its_last_article_is_skipped_by_its_neighbours(
    make_article: ArticleFactory, site: Site
) -> None:
    april, june, july = make_article(-20 * DAY), make_article(35 * DAY), make_article(60 * DAY)
    store = _store(april, june, july)
    publish_changes([created(april), created(june), created(july)], store, site)
    moved = june.model_copy(
        update={
            "status": "retracted",
            "revision": 2,
            "retraction": Retraction(at=july.published_at, reason="Sai"),
        }
    )
    store.indexed = [record for record in store.indexed if record.id != june.id]
    store.documents[june.id] = moved

    publish_changes([ArticleChange(record_of(june), record_of(moved))], store, site)

    assert _listed(store.text("2023/06/index.html")) == []
    assert _links(store.text("2023/07/index.html"), "next") == ["/2023/04/"]
    assert _links(store.text("2023/04/index.html"), "prev") == ["/2023/07/"]


def test_a_front_page_links_to_the_month_of_the_first_article_it_has_no_room_for(
    make_article: ArticleFactory, site: Site
) -> None:
    small = site.model_copy(update={"feed_size": 2})
    articles = [make_article(-40 * DAY), make_article(0), make_article(DAY)]
    store = _store(*articles)

    publish_changes([created(articles[-1])], store, small)

    home = store.text("index.html")
    assert _listed(home) == [articles[2].path, articles[1].path]
    assert _links(home, "next") == ["/2023/03/"]
    assert _links(store.text(f"{SECTION}/index.html"), "next") == [f"/{SECTION}/2023/03/"]
    # Everything fits: no link to older pages.
    publish_changes([created(articles[-1])], store, site)
    assert _links(store.text("index.html"), "next") == []


def test_an_article_page_suggests_the_articles_its_section_published_just_before_it(
    make_article: ArticleFactory, site: Site
) -> None:
    earlier = [make_article(-hours) for hours in range(1, 7)]
    other_section = make_article(-30, section=make_article(0).section.model_copy(update={"slug": "khac"}))
    later = make_article(5)
    article = make_article(0)
    store = _store(article, later, other_section, *earlier)

    publish_changes([created(article)], store, site)

    page = lxml_html.document_fromstring(store.text(article.path.lstrip("/") + "index.html"))
    suggested = page.xpath("//aside[@class='related']//a/@href")
    assert suggested == [item.path for item in earlier[:4]]
    assert page.xpath("string(//aside[@class='related']/h2)") == "Tin cùng chuyên mục"


def test_an_article_page_shows_its_update_time_only_when_edited_after_publication(
    make_article: ArticleFactory, site: Site
) -> None:
    fresh = make_article(0)
    edited = make_article(1, updated_at=make_article(1).published_at + timedelta(hours=3))
    store = _store(fresh, edited)

    publish_changes([created(fresh), created(edited)], store, site)

    assert 'class="updated"' not in store.text(fresh.path.lstrip("/") + "index.html")
    updated = lxml_html.document_fromstring(store.text(edited.path.lstrip("/") + "index.html"))
    assert updated.xpath("string(//span[@class='updated'])") == "Cập nhật: Thứ Tư, 10/05/2023, 20:30 (GMT+7)"
