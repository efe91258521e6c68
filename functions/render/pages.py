"""HTML pages: pure functions of the articles and the site, rendered through the one environment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from functions.models.article import Article, ArticleSummary
from functions.models.site import Site
from functions.render.environment import get_environment
from functions.render.feeds import ATOM_PATH, RSS_PATH

HOME_PATH = "/"


def render_article_page(article: Article, site: Site) -> str:
    """The article's own page, at article.path."""
    return _render(
        "article.html",
        site,
        path=article.path,
        lang=article.language or site.language,
        description=article.summary,
        article=article,
    )


def render_home_page(articles: Sequence[ArticleSummary], site: Site) -> str:
    """The front page: the given articles, newest first."""
    # Ties broken by id so two articles published in the same second keep a stable order.
    ordered = sorted(articles, key=lambda a: (a.published_at, a.id), reverse=True)
    return _render(
        "index.html",
        site,
        path=HOME_PATH,
        lang=site.language,
        description=site.description,
        articles=ordered,
    )


def _render(template_name: str, site: Site, *, path: str, lang: str, description: str, **context: Any) -> str:
    # Everything base.html needs is supplied here, so StrictUndefined catches a page that forgets one.
    template = get_environment().get_template(template_name)
    return template.render(
        site=site,
        lang=lang,
        description=description,
        canonical=site.absolute(path),
        rss_path=RSS_PATH,
        atom_path=ATOM_PATH,
        **context,
    )
