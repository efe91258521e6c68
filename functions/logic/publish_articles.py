"""Turn committed article changes into the public site: pages, the home page and the feeds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from functions.dal.protocol import ArticleStore, SiteStore
from functions.models.article import Article, ArticleRecord
from functions.models.site import Output, Site
from functions.observability import logger, metrics
from functions.render.feeds import ATOM_PATH, RSS_PATH, render_atom, render_rss
from functions.render.pages import render_article_page, render_home_page

HTML = "text/html; charset=utf-8"
PAGE_CACHE = "public, max-age=60, s-maxage=60"
FEED_CACHE = "public, max-age=60, s-maxage=60"


class PublishStore(ArticleStore, SiteStore, Protocol):
    pass


@dataclass
class PublishReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def page_key(path: str) -> str:
    """The site-bucket key of a page URL: /a/b/ -> a/b/index.html, / -> index.html."""
    return path.lstrip("/") + "index.html" if path.endswith("/") else path.lstrip("/")


def newest_first(records: Iterable[ArticleRecord]) -> list[ArticleRecord]:
    return sorted(records, key=lambda record: (record.published_at, record.id), reverse=True)


def latest_published(
    store: ArticleStore, changed: Sequence[ArticleRecord], limit: int
) -> list[ArticleRecord]:
    """The newest published articles, with the changes merged in: the index lags the table."""
    indexed, _ = store.list_timeline("published", limit)
    changed_ids = {record.id for record in changed}
    merged = [record for record in indexed if record.id not in changed_ids]
    merged += [record for record in changed if record.status == "published"]
    return newest_first(merged)[:limit]


def _write(store: SiteStore, output: Output, report: PublishReport) -> None:
    if store.write_if_changed(output):
        report.written.append(output.key)
    else:
        report.unchanged.append(output.key)


def publish_article(record: ArticleRecord, store: PublishStore, site: Site, report: PublishReport) -> None:
    """The article's own page (only published articles have one)."""
    if record.status != "published":
        return
    with logger.append_context_keys(article_id=record.id):
        article = store.get_canonical(record)
        page = render_article_page(article, site).encode("utf-8")
        _write(store, Output(page_key(article.path), page, HTML, PAGE_CACHE), report)
        logger.info("article page rendered", extra={"path": article.path})


def publish_listings(
    changes: Sequence[ArticleRecord], store: PublishStore, site: Site, report: PublishReport
) -> None:
    """The home page and the feeds, once for a whole batch of changes."""
    latest = latest_published(store, changes, site.feed_size)
    home = render_home_page(latest, site).encode("utf-8")
    _write(store, Output("index.html", home, HTML, PAGE_CACHE), report)
    articles: list[Article] = [store.get_canonical(record) for record in latest]
    rss = render_rss(articles, site)
    atom = render_atom(articles, site)
    _write(store, Output(page_key(RSS_PATH), rss, "application/rss+xml; charset=utf-8", FEED_CACHE), report)
    _write(
        store, Output(page_key(ATOM_PATH), atom, "application/atom+xml; charset=utf-8", FEED_CACHE), report
    )


def latest_revisions(changed: Iterable[ArticleRecord]) -> list[ArticleRecord]:
    """One record per article: a batch may carry several revisions of the same one."""
    latest_by_id: dict[str, ArticleRecord] = {}
    for record in changed:
        current = latest_by_id.get(record.id)
        if current is None or record.revision >= current.revision:
            latest_by_id[record.id] = record
    return list(latest_by_id.values())


def record_report(report: PublishReport, changes: Sequence[ArticleRecord]) -> None:
    feed_keys = {page_key(RSS_PATH), page_key(ATOM_PATH)}
    feeds_written = sum(1 for key in report.written if key in feed_keys)
    metrics.add_metric(name="PagesWritten", unit="Count", value=len(report.written) - feeds_written)
    metrics.add_metric(name="FeedsWritten", unit="Count", value=feeds_written)
    metrics.add_metric(name="OutputsUnchanged", unit="Count", value=len(report.unchanged))
    logger.info(
        "site updated",
        extra={
            "articles": [record.id for record in changes],
            "written": report.written,
            "unchanged": len(report.unchanged),
        },
    )


def publish_changes(changed: Sequence[ArticleRecord], store: PublishStore, site: Site) -> PublishReport:
    """Idempotent: replaying the same changes rewrites nothing (unchanged outputs are skipped)."""
    report = PublishReport()
    changes = latest_revisions(changed)
    for record in changes:
        publish_article(record, store, site, report)
    publish_listings(changes, store, site, report)
    record_report(report, changes)
    return report
