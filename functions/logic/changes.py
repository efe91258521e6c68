"""A committed change to an article, as the stream delivers it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from functions.models.article import ArticleRecord


@dataclass(frozen=True, slots=True)
class ArticleChange:
    """One committed change, as the stream delivers it: the item before (if any) and after."""

    before: ArticleRecord | None
    after: ArticleRecord


def latest_revisions(changes: Iterable[ArticleChange]) -> list[ArticleChange]:
    """One change per article: the oldest `before` and the newest `after` of a batch."""
    merged: dict[str, ArticleChange] = {}
    for change in changes:
        seen = merged.get(change.after.id)
        if seen is None:
            merged[change.after.id] = change
        elif change.after.revision >= seen.after.revision:
            merged[change.after.id] = ArticleChange(seen.before, change.after)
    return list(merged.values())
