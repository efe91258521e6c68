"""Reading articles back through the API."""

from __future__ import annotations

from functions.dal.protocol import ArticleStore
from functions.models.article import Article, ArticleRecord, ArticleStatus
from functions.models.errors import ArticleNotFound


def get_article(store: ArticleStore, article_id: str) -> tuple[ArticleRecord, Article]:
    record = store.get_record(article_id)
    if record is None:
        raise ArticleNotFound(f"there is no article with id {article_id}", field="id")
    return record, store.get_canonical(record)


def list_articles(
    store: ArticleStore, *, status: ArticleStatus, limit: int, cursor: str | None
) -> tuple[list[ArticleRecord], str | None]:
    return store.list_timeline(status, limit, cursor)
