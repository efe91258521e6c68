"""Publishing logic against an in-memory store: the index may lag, outputs are rewritten only on change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import feedparser

from functions.logic.listings import listings_of
from functions.logic.publish_articles import ArticleChange, publish_changes, rebuild_front
from functions.models.article import Article, ArticleRecord, ArticleStatus, Retraction
from functions.models.feeds import RecentPublication
from functions.models.paths import page_key
from functions.models.site import Output, Site
from functions.render.sitemaps import MAX_NEWS_URLS
from tests.unit.conftest import ArticleFactory


class MemoryStore:
    def __init__(self, indexed: list[ArticleRecord], documents: dict[str, Article]) -> None:
        self.indexed = indexed
        self.documents = documents
        self.objects: dict[str, Output] = {}
        self.puts: list[str] = []
        self.months: dict[tuple[int, int], tuple[datetime, int]] = {}
        self.archived = 0
        self.records_read: list[int] = []  # how many records each listing read returned
        self.lease_owner: str | None = None
        self.recent: list[RecentPublication] = []

    def list_listing(self, listing_id: str, status: ArticleStatus, limit: int, cursor=None, **filters):
        since, before = filters.get("published_since"), filters.get("published_before")
        records = [
            record
            for record in self.indexed
            if record.status == status
            and listing_id in {listing.id for listing in listings_of(record)}
            and (since is None or record.published_at >= since)
            and (before is None or record.published_at <= before)
        ]
        records.sort(
            key=lambda record: (record.published_at, record.id), reverse=not filters.get("oldest_first")
        )
        self.records_read.append(len(records[:limit]))
        return records[:limit], None

    def acquire_site_lease(
        self, owner: str, now: datetime, until: datetime
    ) -> list[RecentPublication] | None:
        if self.lease_owner not in (None, owner):
            return None
        self.lease_owner = owner
        return list(self.recent)

    def release_site_lease(self, owner: str, recent: Sequence[RecentPublication]) -> bool:
        self.lease_owner = None
        self.recent = list(recent)
        return True

    def get_records(self, article_ids: Sequence[str]) -> list[ArticleRecord]:
        """The table itself is consistent: records of the stored documents, index or not."""
        return [
            record_of(self.documents[article_id])
            for article_id in article_ids
            if article_id in self.documents
        ]

    def last_sequence(self) -> int:
        return max((record.sequence or 0 for record in self.indexed), default=0)

    def archived_pages(self) -> int:
        return self.archived

    def set_archived_pages(self, pages: int) -> None:
        self.archived = max(self.archived, pages)

    def list_archive(self, first: int, last: int) -> list[ArticleRecord]:
        return sorted(
            (r for r in self.indexed if r.sequence and first <= r.sequence <= last),
            key=lambda r: r.sequence or 0,
        )

    def put_sitemap_month(self, year: int, month: int, lastmod: datetime, count: int) -> None:
        self.months[(year, month)] = (lastmod, count)

    def list_sitemap_months(self):
        return [
            (year, month, lastmod, count) for (year, month), (lastmod, count) in sorted(self.months.items())
        ]

    def get_canonical(self, record: ArticleRecord) -> Article:
        return self.documents[record.id]

    def write_if_changed(self, output: Output) -> bool:
        if self.objects.get(output.key) == output:
            return False
        self.objects[output.key] = output
        self.puts.append(output.key)
        return True

    def text(self, key: str) -> str:
        return self.objects[key].body.decode()


def record_of(article: Article) -> ArticleRecord:
    return ArticleRecord(
        **article.model_dump(exclude={"body", "body_format", "body_html", "images", "corrections"}),
        content_key=f"articles/{article.id}.json",
        content_version=f"v{article.revision}",
        etag=f'"{article.revision}"',
    )


def created(article: Article) -> ArticleChange:
    return ArticleChange(None, record_of(article))


def test_page_keys_follow_directory_urls() -> None:
    assert page_key("/2023/05/10/slug/") == "2023/05/10/slug/index.html"
    assert page_key("/") == "index.html"
    assert page_key("/feeds/rss.xml") == "feeds/rss.xml"


def test_a_change_the_index_has_not_caught_up_with_still_reaches_home_listings_and_feeds(
    seed_article: Article, site: Site
) -> None:
    store = MemoryStore(indexed=[], documents={seed_article.id: seed_article})

    publish_changes([created(seed_article)], store, site)

    assert seed_article.path in store.text("index.html")
    assert feedparser.parse(store.objects["feeds/atom.xml"].body).entries[0].title == seed_article.title
    for key in ("section/hoat-dong-mat-tran/index.html", "tag/o-mon/index.html", "author/na-ra/index.html"):
        assert seed_article.path in store.text(key), key


def test_republishing_the_same_change_writes_nothing(seed_article: Article, site: Site) -> None:
    change = created(seed_article)
    store = MemoryStore(indexed=[change.after], documents={seed_article.id: seed_article})
    publish_changes([change], store, site)
    store.puts.clear()

    report = publish_changes([change], store, site)

    assert store.puts == [] and report.written == []
    assert page_key(seed_article.path) in report.unchanged and "feeds/atom.xml" in report.unchanged


def test_only_the_newest_revision_in_a_batch_is_rendered(seed_article: Article, site: Site) -> None:
    newer = seed_article.model_copy(
        update={
            "title": "Tiêu đề mới",
            "revision": 2,
            "updated_at": seed_article.updated_at + timedelta(hours=1),
        }
    )
    store = MemoryStore(indexed=[], documents={seed_article.id: newer})

    publish_changes(
        [ArticleChange(record_of(seed_article), record_of(newer)), created(seed_article)], store, site
    )

    assert "Tiêu đề mới" in store.text(page_key(seed_article.path))
    assert store.puts.count(page_key(seed_article.path)) == 1


def test_scheduled_and_draft_articles_get_no_page_and_touch_no_listing(
    seed_article: Article, site: Site
) -> None:
    scheduled = seed_article.model_copy(
        update={"status": "scheduled", "published_at": datetime(2099, 1, 1, tzinfo=UTC)}
    )
    store = MemoryStore(indexed=[], documents={scheduled.id: scheduled})

    publish_changes([created(scheduled)], store, site)

    assert store.objects == {}  # a scheduled article touches no public output
    rebuild_front(store, site)
    assert feedparser.parse(store.objects["feeds/rss.xml"].body).entries == []


def test_a_retracted_article_becomes_a_410_notice_and_leaves_feeds_and_listings(
    seed_article: Article, site: Site
) -> None:
    published = record_of(seed_article)
    store = MemoryStore(indexed=[published], documents={seed_article.id: seed_article})
    publish_changes([created(seed_article)], store, site)
    retracted_article = seed_article.model_copy(
        update={
            "status": "retracted",
            "revision": 2,
            "retraction": Retraction(at=datetime(2023, 6, 1, tzinfo=UTC), reason="Sai sự thật"),
        }
    )
    store.documents[seed_article.id] = retracted_article
    # The index still lists the article as published: the stream's new image must win.

    publish_changes([ArticleChange(published, record_of(retracted_article))], store, site)

    page = store.objects[page_key(seed_article.path)]
    assert page.http_status == 410
    assert "Sai sự thật" in page.body.decode() and "Qua 3 ngày tập huấn" not in page.body.decode()
    assert feedparser.parse(store.objects["feeds/atom.xml"].body).entries == []
    assert seed_article.path not in store.text("index.html")
    assert seed_article.path not in store.text("tag/o-mon/index.html")


def test_moving_an_article_to_another_section_updates_both_section_pages(
    seed_article: Article, site: Site
) -> None:
    from functions.models.article import Taxon

    store = MemoryStore(indexed=[], documents={seed_article.id: seed_article})
    publish_changes([created(seed_article)], store, site)
    moved = seed_article.model_copy(update={"section": Taxon(name="Thời sự", slug="thoi-su"), "revision": 2})
    store.documents[seed_article.id] = moved

    publish_changes([ArticleChange(record_of(seed_article), record_of(moved))], store, site)

    assert seed_article.path not in store.text("section/hoat-dong-mat-tran/index.html")
    assert seed_article.path in store.text("section/thoi-su/index.html")


def test_the_news_sitemap_reads_its_two_day_window_not_the_newest_thousand_articles(
    make_article: ArticleFactory, site: Site
) -> None:
    articles = [make_article(hours) for hours in range(0, 6 * 1200, 6)]  # 300 days, 6 hours apart
    store = MemoryStore(
        indexed=[record_of(article) for article in articles[:-1]],
        documents={article.id: article for article in articles},
    )

    publish_changes([created(articles[-1])], store, site)

    news = store.text("sitemap-news.xml")
    assert news.count("<url>") == 9  # the newest and the eight before it, up to exactly two days older
    # No read comes near the news sitemap's cap: feeds read a feed's worth, sitemaps a month.
    assert max(store.records_read) < MAX_NEWS_URLS // 5


def test_a_regeneration_keeps_what_the_previous_one_published_while_the_index_lags(
    make_article: ArticleFactory, site: Site
) -> None:
    first, second = make_article(1), make_article(2)
    # The index never catches up here: only the lease's record of what was published can help.
    store = MemoryStore(indexed=[], documents={first.id: first, second.id: second})

    publish_changes([created(first)], store, site)
    publish_changes([created(second)], store, site)

    titles = [entry.title for entry in feedparser.parse(store.objects["feeds/atom.xml"].body).entries]
    assert titles == [second.title, first.title]


def test_an_article_changed_after_it_was_published_is_left_to_its_own_batch(
    make_article: ArticleFactory, site: Site
) -> None:
    first, second = make_article(1), make_article(2)
    store = MemoryStore(indexed=[], documents={first.id: first, second.id: second})
    publish_changes([created(first)], store, site)
    # Revision 2 is committed but its stream record has not been published yet.
    store.documents[first.id] = first.model_copy(update={"title": "Chưa xuất bản", "revision": 2})

    publish_changes([created(second)], store, site)

    titles = [entry.title for entry in feedparser.parse(store.objects["feeds/atom.xml"].body).entries]
    assert "Chưa xuất bản" not in titles  # its page still shows revision 1: no feed runs ahead of it


def test_a_just_created_article_no_regeneration_published_is_left_out_until_its_own_batch(
    seed_article: Article,
) -> None:
    from functions.logic.listings import HOME
    from functions.logic.publish_articles import merge_records

    now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    settled_before = now - timedelta(minutes=2)
    record = record_of(seed_article).model_copy(update={"updated_at": now, "last_action": "create"})
    edited = record.model_copy(update={"last_action": "update"})
    older = record.model_copy(update={"updated_at": settled_before - timedelta(seconds=1)})

    assert merge_records([record], {}, HOME, settled_before) == []
    assert merge_records([record], {record.id: record}, HOME, settled_before) == [record]
    assert merge_records([edited], {}, HOME, settled_before) == [edited]
    assert merge_records([older], {}, HOME, settled_before) == [older]
    assert merge_records([record], {}, HOME) == [record]


def test_a_backdated_article_is_unsettled_by_its_create_commit_time_not_its_publication_date(
    seed_article: Article,
) -> None:
    from functions.logic.listings import HOME
    from functions.logic.publish_articles import merge_records

    now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    settled_before = now - timedelta(minutes=2)
    # An article submitted as published with a past published_at carries that date as updated_at.
    backdated = record_of(seed_article).model_copy(
        update={"updated_at": datetime(2023, 5, 10, tzinfo=UTC), "created_at": now, "last_action": "create"}
    )

    assert merge_records([backdated], {}, HOME, settled_before) == []


def test_a_create_and_retract_merged_in_one_batch_still_regenerates_the_listings_it_was_in(
    seed_article: Article, site: Site
) -> None:
    published = record_of(seed_article)
    retracted_article = seed_article.model_copy(
        update={
            "status": "retracted",
            "revision": 2,
            "retraction": Retraction(at=seed_article.updated_at, reason="Nhầm"),
        }
    )
    # A regeneration between the two commits (reconcile, another article's batch) listed it.
    store = MemoryStore(indexed=[published], documents={seed_article.id: seed_article})
    rebuild_front(store, site)
    assert seed_article.path in store.text("index.html")
    store.indexed = []
    store.documents[seed_article.id] = retracted_article

    publish_changes(
        [created(seed_article), ArticleChange(published, record_of(retracted_article))], store, site
    )

    assert seed_article.path not in store.text("index.html")
    assert seed_article.path not in store.text("tag/o-mon/index.html")
    assert feedparser.parse(store.objects["feeds/atom.xml"].body).entries == []
