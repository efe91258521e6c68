"""The article: what a reporter submits, the canonical document, and what listings show."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.text import clean_line, clean_text, sanitize_html, slugify

BodyFormat = Literal["html", "markdown", "text"]
RevisionAction = Literal["create", "update", "correct", "publish", "schedule", "retract", "reinstate"]
ArticleStatus = Literal["draft", "scheduled", "published", "retracted"]

MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 2_000
# About 35,000 words with their markup. Rendering is linear but slow on pathological markdown (a
# few seconds of CPU per 100,000 characters), and the API function has 30 s at 512 MB.
MAX_BODY_CHARS = 200_000
MAX_TAGS = 20
MAX_TAG_CHARS = 60
# Article times outside these years are typos (2203 for 2023) or garbage, never a real date line:
# refused, rather than scheduled for centuries or overflowing on the way to UTC.
EARLIEST_YEAR = 1800
LATEST_YEAR = 2100

NAIVE_TIMES = (
    "A time without an offset is taken in the site's time zone (SITE_TIMEZONE; Asia/Ho_Chi_Minh, "
    f"UTC+07:00, for the seed site). Years {EARLIEST_YEAR} to {LATEST_YEAR}."
)


def check_plausible_time(moment: datetime) -> datetime:
    """A time an article can carry: within EARLIEST_YEAR..LATEST_YEAR. Raises ValueError."""
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"must be a time in the years {EARLIEST_YEAR} to {LATEST_YEAR}; got {moment.year}")
    return moment


def _plausible(moment: datetime | None) -> datetime | None:
    return None if moment is None else check_plausible_time(moment)


class ArticleSubmission(BaseModel):
    """The request body of POST /articles: the fields of examples/seed/seed-article.json."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    summary: str = Field(default="", max_length=MAX_SUMMARY_CHARS)
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)
    body_format: BodyFormat = "html"
    author: str = Field(min_length=1, max_length=200)
    section: str = Field(min_length=1, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        description="BCP 47 language tag; the site's language when omitted",
    )
    published_at: datetime | None = Field(
        default=None,
        description="RFC 3339 time, e.g. 2023-05-10T16:30:00+07:00. Omitted means now; in the future, "
        "the article is scheduled; in the past, it is backdated. " + NAIVE_TIMES,
    )
    embargo_until: datetime | None = Field(
        default=None, description="Withheld from partner channels until then (RFC 3339). " + NAIVE_TIMES
    )
    status: Literal["draft", "published"] | None = Field(
        default=None,
        description="draft keeps it private; published (the default for editors) publishes it at "
        "published_at. Reporters file drafts.",
    )

    # Titles and names are shown inline, next to other text (see functions.text.normalize for
    # what clean_line removes and why); summaries and bodies are prose and keep bidi isolates.
    @field_validator("title", "author", "section", mode="before")
    @classmethod
    def _clean_line(cls, value: object) -> object:
        return clean_line(value) if isinstance(value, str) else value

    @field_validator("summary", "body", mode="before")
    @classmethod
    def _clean(cls, value: object) -> object:
        return clean_text(value) if isinstance(value, str) else value

    @field_validator("tags", mode="before")
    @classmethod
    def _clean_tags(cls, value: object) -> object:
        if isinstance(value, list):
            return [clean_line(tag) if isinstance(tag, str) else tag for tag in value]
        return value

    @field_validator("published_at", "embargo_until")
    @classmethod
    def _plausible_time(cls, value: datetime | None) -> datetime | None:
        return _plausible(value)

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, tags: list[str] | None) -> list[str] | None:
        if tags is None:  # PATCH: tags left as they are
            return None
        unique: list[str] = []
        for index, tag in enumerate(tags):
            if not tag or len(tag) > MAX_TAG_CHARS:
                raise ValueError(f"each tag has 1 to {MAX_TAG_CHARS} characters; tag {index} has {len(tag)}")
            if tag not in unique:
                unique.append(tag)
        return unique


_CORRECTION_FIELD = Field(
    default=None,
    min_length=1,
    max_length=2_000,
    description="A correction note: shown dated on the page; feeds show the entry as updated",
)


class ArticleReplacement(ArticleSubmission):
    """PUT /articles/{id}: the whole article again (status changes go through their own routes)."""

    status: None = Field(default=None, exclude=True, description="Not accepted here")
    correction: str | None = _CORRECTION_FIELD

    @field_validator("correction", mode="before")
    @classmethod
    def _clean_correction(cls, value: object) -> object:
        return clean_text(value).strip() if isinstance(value, str) else value


class ArticlePatch(BaseModel):
    """PATCH /articles/{id}: only the fields to change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE_CHARS)
    summary: str | None = Field(default=None, max_length=MAX_SUMMARY_CHARS)
    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY_CHARS)
    body_format: BodyFormat | None = None
    author: str | None = Field(default=None, min_length=1, max_length=200)
    section: str | None = Field(default=None, min_length=1, max_length=100)
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    published_at: datetime | None = Field(
        default=None, description="RFC 3339 time; fixed once published. " + NAIVE_TIMES
    )
    embargo_until: datetime | None = Field(
        default=None, description="Withheld from partner channels until then (RFC 3339). " + NAIVE_TIMES
    )
    correction: str | None = _CORRECTION_FIELD

    _clean_line = field_validator("title", "author", "section", mode="before")(
        ArticleSubmission._clean_line.__func__  # type: ignore[attr-defined]
    )
    _clean = field_validator("summary", "body", "correction", mode="before")(
        ArticleSubmission._clean.__func__  # type: ignore[attr-defined]
    )
    _clean_tags = field_validator("tags", mode="before")(ArticleSubmission._clean_tags.__func__)  # type: ignore[attr-defined]
    _valid_tags = field_validator("tags")(ArticleSubmission._valid_tags.__func__)  # type: ignore[attr-defined]
    _plausible_time = field_validator("published_at", "embargo_until")(
        ArticleSubmission._plausible_time.__func__  # type: ignore[attr-defined]
    )


class RetractRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=2_000, description="Shown on the retraction notice")

    @field_validator("reason", mode="before")
    @classmethod
    def _clean(cls, value: object) -> object:
        return clean_text(value) if isinstance(value, str) else value


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    published_at: datetime | None = Field(
        default=None,
        description="When to publish (RFC 3339); omitted means now, a future time schedules it. "
        + NAIVE_TIMES,
    )

    @field_validator("published_at")
    @classmethod
    def _plausible_time(cls, value: datetime | None) -> datetime | None:
        return _plausible(value)


class Taxon(BaseModel):
    """A named grouping (section, tag, author) with its URL slug."""

    name: str
    slug: str

    @classmethod
    def named(cls, name: str) -> Taxon:
        """The taxon of a name: its slug, or a hash of it when nothing in it is sluggable."""
        return cls(name=name, slug=slugify(name) or hashlib.sha256(name.encode()).hexdigest()[:12])


class Image(BaseModel):
    src: str
    alt: str = ""
    caption: str = ""
    credit: str = ""
    content_type: str | None = None
    length: int | None = None

    # Images are built from the body and from stored media info rather than from a request model,
    # so this is where their text enters: alt text and credits are inline single-line text, the
    # caption is prose.
    @field_validator("alt", "credit", mode="before")
    @classmethod
    def _clean_line(cls, value: object) -> object:
        return clean_line(value) if isinstance(value, str) else value

    @field_validator("caption", mode="before")
    @classmethod
    def _clean(cls, value: object) -> object:
        return clean_text(value).strip() if isinstance(value, str) else value


class Correction(BaseModel):
    """A dated correction notice, shown on the page; the entry's <updated> moves, its guid does not."""

    at: datetime
    note: str


class Retraction(BaseModel):
    at: datetime
    reason: str


class ArticleSummary(BaseModel):
    """What listings, the index and the home page need: everything but the body."""

    id: str
    slug: str
    path: str = Field(description="Site-relative URL of the page, e.g. /2023/05/10/slug/")
    title: str
    summary: str
    author: Taxon
    section: Taxon
    tags: list[Taxon]
    language: str
    status: ArticleStatus
    published_at: datetime
    created_at: datetime
    updated_at: datetime
    revision: int = 1
    image: Image | None = None
    embargo_until: datetime | None = Field(
        default=None, description="Withheld from partner channels until then; the site may show it"
    )
    retraction: Retraction | None = None
    created_by: str = Field(default="", description="key_id of the key that created the article")
    sequence: int | None = Field(
        default=None,
        description="Publication order (1, 2, ...), given at first publication; pages the feed archive",
    )
    last_action: RevisionAction = "create"


# A tag whose closing ">" was composed with a following U+0338 into "≯" (or "<" and "=" into
# "≮" and "≠"): what sanitize_html stored before it normalized text node by node, and never what
# it stores now. The text after such a tag is read by browsers as its attributes.
_COMPOSED_TAG_END = re.compile("<[A-Za-z][^<>]*[\u226e\u226f\u2260]")


class Article(ArticleSummary):
    """The canonical document kept (every revision) in the content bucket."""

    body: str
    body_format: BodyFormat
    body_html: str
    images: list[Image] = Field(default_factory=list)
    corrections: list[Correction] = Field(default_factory=list)

    @field_validator("body_html")
    @classmethod
    def _no_composed_tags(cls, body_html: str) -> str:
        # Every page and feed trusts body_html, and documents are immutable once stored, so a body
        # stored by the old sanitizer is sanitized again when read. Sanitizing every body on every
        # read would cost milliseconds per article; the cheap test finds only the damaged ones
        # (and the rare attribute value holding "≯", for which sanitizing again changes nothing).
        suspect = "\u226e" in body_html or "\u226f" in body_html or "\u2260" in body_html
        return sanitize_html(body_html) if suspect and _COMPOSED_TAG_END.search(body_html) else body_html


class ArticleRecord(ArticleSummary):
    """The DynamoDB view of an article: its summary plus where its canonical document is."""

    content_key: str
    content_version: str = Field(description="S3 version id of the canonical JSON")
    etag: str = Field(description="Strong entity tag of the canonical document")


class Revision(BaseModel):
    """One accepted change: which S3 version it produced, when, by whom, and what changed."""

    revision: int
    article_id: str = ""
    version_id: str
    at: datetime
    by: str = Field(description="Name of the key that made the change")
    by_key_id: str
    action: RevisionAction
    changed: list[str] = Field(default_factory=list)
    note: str | None = Field(default=None, description="The correction note or retraction reason")
    visible_at: datetime | None = Field(
        default=None,
        description="When partners may see this change (its time, or the embargo's end); None if not public",
    )


class Preview(BaseModel):
    """A time-limited link to a draft's page; only the SHA-256 of its token is stored."""

    token_hash: str
    article_id: str
    expires_at: datetime
    created_by: str


class MediaInfo(BaseModel):
    key: str
    caption: str = ""
    credit: str = ""
    alt: str = ""

    _clean_line = field_validator("alt", "credit", mode="before")(Image._clean_line.__func__)  # type: ignore[attr-defined]
    _clean = field_validator("caption", mode="before")(Image._clean.__func__)  # type: ignore[attr-defined]


EventType = Literal["article.published", "article.updated", "article.corrected", "article.retracted"]
EVENT_TYPES: tuple[EventType, ...] = (
    "article.published",
    "article.updated",
    "article.corrected",
    "article.retracted",
)


class Partner(BaseModel):
    """A webhook subscription. The signing secret is needed to sign, so it is stored (encrypted
    at rest by the table) and shown to the admin once, at registration."""

    id: str
    url: str
    events: list[EventType]
    sections: list[str] = Field(default_factory=list, description="Section slugs; empty means all")
    tags: list[str] = Field(default_factory=list, description="Tag slugs; empty means all")
    secret: str
    created_at: datetime
    created_by: str = ""


DeliveryStatus = Literal["delivered", "retrying", "failed"]


class Delivery(BaseModel):
    """One webhook message to one partner, as its attempts went."""

    partner_id: str
    message_id: str
    event: EventType
    article_id: str
    attempts: int
    status: DeliveryStatus
    last_attempt_at: datetime
    response_status: int | None = None
    error: str = ""
