"""What a feed document is about, and its place in the RFC 5005 archive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from functions.models.paths import FeedFormat, ListingKind, feed_path, listing_path


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """The site's feeds (kind "home") or one section's, tag's or author's."""

    kind: ListingKind = "home"
    slug: str = ""
    name: str = ""

    def path(self, fmt: FeedFormat) -> str:
        return feed_path(self.kind, self.slug, fmt)

    @property
    def page_path(self) -> str:
        """The HTML page the feed mirrors (its rel="alternate")."""
        return listing_path(self.kind, self.slug)


SITE_FEED = FeedSpec()


@dataclass(frozen=True, slots=True)
class ArchiveLinks:
    """RFC 5005 paging of the site's Atom feed: the head links prev-archive to the newest archive
    page; an archive page carries fh:archive, current, prev-archive and next-archive (absolute
    or site-relative paths; the renderer makes them absolute)."""

    current: str | None = None
    prev_archive: str | None = None
    next_archive: str | None = None
    is_archive: bool = False


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A retracted entry inside an archive page (RFC 6721 at:deleted-entry)."""

    ref: str  # the entry's Atom id
    when: datetime
    comment: str = ""


@dataclass(frozen=True, slots=True)
class RecentPublication:
    """An article revision a regeneration of the site's shared outputs published, and when."""

    at: datetime
    article_id: str
    revision: int
