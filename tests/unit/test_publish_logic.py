"""Publishing logic against an in-memory store: the index may lag, outputs are rewritten only on change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import feedparser

from functions.logic.publish_articles import page_key, publish_changes
from functions.models.article import Article, ArticleRecord, ArticleStatus
from functions.models.site import Output, Site


class MemoryStore:
    def __init__(self, indexed: list[ArticleRecord], documents: dict[str, Article]) -> None:
        self.indexed = indexed
        self.documents = documents
        self.objects: dict[str, bytes] = {}
        self.puts: list[str] = []

    def list_timeline(self, status: ArticleStatus, limit: int, cursor: str | None = None):
        return [record for record in self.indexed if record.status == status][:limit], None

    def get_canonical(self, record: ArticleRecord) -> Article:
        return self.documents[record.id]

    def write_if_changed(self, output: Output) -> bool:
        if self.objects.get(output.key) == output.body:
            return False
        self.objects[output.key] = output.body
        self.puts.append(output.key)
        return True


def record_of(article: Article) -> ArticleRecord:
    return ArticleRecord(
        **article.model_dump(exclude={"body", "body_format", "body_html", "images"}),
        content_key=f"articles/{article.id}.json",
        content_version="v1",
        etag='"e"',
    )


def test_page_keys_follow_directory_urls() -> None:
    assert page_key("/2023/05/10/slug/") == "2023/05/10/slug/index.html"
    assert page_key("/") == "index.html"
    assert page_key("/feeds/rss.xml") == "feeds/rss.xml"


def test_a_change_the_index_has_not_caught_up_with_still_reaches_home_and_feeds(
    seed_article: Article, site: Site
) -> None:
    store = MemoryStore(indexed=[], documents={seed_article.id: seed_article})

    publish_changes([record_of(seed_article)], store, site)

    assert seed_article.path in store.objects["index.html"].decode()
    assert feedparser.parse(store.objects["feeds/atom.xml"]).entries[0].title == seed_article.title


def test_republishing_the_same_change_writes_nothing(seed_article: Article, site: Site) -> None:
    record = record_of(seed_article)
    store = MemoryStore(indexed=[record], documents={seed_article.id: seed_article})
    publish_changes([record], store, site)
    store.puts.clear()

    report = publish_changes([record], store, site)

    assert store.puts == [] and report.written == []
    assert len(report.unchanged) == 4


def test_only_the_newest_revision_in_a_batch_is_rendered(seed_article: Article, site: Site) -> None:
    newer = seed_article.model_copy(
        update={
            "title": "Tiêu đề mới",
            "revision": 2,
            "updated_at": seed_article.updated_at + timedelta(hours=1),
        }
    )
    store = MemoryStore(indexed=[], documents={seed_article.id: newer})

    publish_changes([record_of(newer), record_of(seed_article)], store, site)

    assert "Tiêu đề mới" in store.objects[page_key(seed_article.path)].decode()
    assert store.puts.count(page_key(seed_article.path)) == 1


def test_scheduled_articles_get_no_page_and_stay_out_of_the_feeds(seed_article: Article, site: Site) -> None:
    scheduled = seed_article.model_copy(
        update={"status": "scheduled", "published_at": datetime(2099, 1, 1, tzinfo=UTC)}
    )
    store = MemoryStore(indexed=[], documents={scheduled.id: scheduled})

    publish_changes([record_of(scheduled)], store, site)

    assert page_key(scheduled.path) not in store.objects
    assert feedparser.parse(store.objects["feeds/rss.xml"]).entries == []
