"""What every rendered page and feed needs to know about the site."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from functions.config import Settings
from functions.models.article import Taxon


class Site(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    url: str  # absolute base URL, no trailing slash
    banner: str
    language: str
    timezone: str
    tag_authority: str
    feed_size: int
    websub_hubs: tuple[str, ...] = ()
    rights_holder: str = ""
    usage_terms: str = ""
    sections: tuple[Taxon, ...] = ()  # the navigation's sections, in order

    @classmethod
    def from_settings(cls, settings: Settings) -> Site:
        return cls(
            name=settings.site_name,
            description=settings.site_description,
            url=settings.site_url,
            banner=settings.site_banner,
            language=settings.site_language,
            timezone=settings.site_timezone,
            tag_authority=settings.tag_authority,
            feed_size=settings.feed_size,
            websub_hubs=tuple(hub.strip() for hub in settings.websub_hubs.split(",") if hub.strip()),
            rights_holder=settings.rights_holder or settings.site_name,
            usage_terms=settings.usage_terms,
            sections=tuple(
                Taxon.named(name.strip()) for name in settings.site_sections.split(",") if name.strip()
            ),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def absolute(self, path: str) -> str:
        """The public URL of a site-relative path (or an already absolute URL, unchanged)."""
        if path.startswith(("http://", "https://")):
            return path
        return self.url + (path if path.startswith("/") else "/" + path)


@dataclass(frozen=True, slots=True)
class Output:
    """One derived object for the site bucket."""

    key: str
    body: bytes
    content_type: str
    cache_control: str
    http_status: int | None = None  # served with this status instead of 200 (410 for retractions)
