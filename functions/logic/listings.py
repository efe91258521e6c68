"""Which listings an article appears in: home, its section, its author, each of its tags."""

from __future__ import annotations

from dataclasses import dataclass

from functions.models.article import ArticleSummary
from functions.models.paths import ListingKind, listing_path


@dataclass(frozen=True, slots=True)
class Listing:
    kind: ListingKind
    slug: str = ""
    name: str = ""

    @property
    def id(self) -> str:
        return "home" if self.kind == "home" else f"{self.kind}#{self.slug}"

    @property
    def path(self) -> str:
        return listing_path(self.kind, self.slug)


HOME = Listing("home")


def listings_of(article: ArticleSummary) -> list[Listing]:
    return [
        HOME,
        Listing("section", article.section.slug, article.section.name),
        Listing("author", article.author.slug, article.author.name),
        *(Listing("tag", tag.slug, tag.name) for tag in article.tags),
    ]
