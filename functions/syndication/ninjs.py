"""IPTC ninjs 2.0 ("News in JSON") items for partners: a pure function of the article and the site.

Property names and shapes follow the official ninjs 2.0 JSON schema
(http://www.iptc.org/std/ninjs/ninjs-schema_2.0.json, JSON Schema draft-04), which differs from
1.x in ways that are easy to get wrong:

- headlines, descriptions and bodies are arrays of {value, role?, contenttype?};
- renditions is an *array* of objects each carrying a required "name" (1.x had an object keyed by
  name); associations is an array of ninjs objects each carrying a "name";
- the top level allows no other properties: there is no "links", no "bylines" (the creator is the
  string "by"), no "corrections";
- rightsinfo holds only langid/linkedrights/encodedrights and requires one of the last two, so the
  plain-text rights go to the top-level copyrightholder and usageterms instead.

Hence, where the brief had no 2.0 property to land in:
- the canonical page is the rendition named "canonical" (text/html): a rendition is, per the
  schema, "nar:remoteContent" of this news object, which the article page is;
- corrections and a retraction are role-tagged descriptions ("correction", "retraction") that a
  partner may publish, plus one dated ednote line each for the partner's editors.

Determinism: every value comes from the article and the site, never from the clock; datetimes are
RFC 3339 with the site's offset (as in the feeds), and lists keep a fixed order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from functions.models.article import Article, ArticleStatus, Correction, Image
from functions.models.paths import listing_path
from functions.models.site import Site
from functions.render.feeds import absolutize_urls, entry_id
from functions.text import clean_text, strip_xml_illegal

__all__ = [
    "NINJS_MEDIA_TYPE",
    "NINJS_SCHEMA_URI",
    "NINJS_STANDARD",
    "NINJS_VERSION",
    "PubStatus",
    "pubstatus",
    "to_ninjs",
]

NINJS_VERSION = "2.0"
# The schema's own "id" (without its empty fragment); also what "standard.schema" points at.
NINJS_SCHEMA_URI = "http://www.iptc.org/std/ninjs/ninjs-schema_2.0.json"
# IPTC registers no media type for ninjs (neither the 2.0 schema nor its user guide names one):
# a ninjs document is served as plain JSON, and says which standard it follows in "standard".
# Callers that want to advertise the profile can send `Link: <NINJS_SCHEMA_URI>; rel="profile"`.
NINJS_MEDIA_TYPE = "application/json"
NINJS_STANDARD: dict[str, str] = {"name": "ninjs", "version": NINJS_VERSION, "schema": NINJS_SCHEMA_URI}

PubStatus = Literal["usable", "withheld", "canceled"]

_PUBSTATUS: dict[ArticleStatus, PubStatus] = {
    "published": "usable",
    "retracted": "canceled",
    # Not for partners yet: if one is ever serialized, it must not be taken as usable.
    "draft": "withheld",
    "scheduled": "withheld",
}

# Characters a URI may carry unescaped, plus "%" so already-escaped URLs are left alone
# (the same set the feeds use: partners get URIs, not IRIs).
_URI_SAFE = ":/?#[]@!$&'()*+,;=%~"


def pubstatus(article: Article) -> PubStatus:
    return _PUBSTATUS[article.status]


def to_ninjs(article: Article, site: Site) -> dict[str, Any]:
    """The article as one ninjs 2.0 text item (a JSON-ready dict, keys in a fixed order).

    A retracted article is sent with pubstatus "canceled" and without its body, summary and
    pictures: the point of the item is to make partners take the story down, so it carries only
    what identifies it (uri, headline, byline, subjects) and the retraction notice.
    """
    status = pubstatus(article)
    retracted = article.status == "retracted"
    canonical = _uri(site.absolute(article.path))

    item: dict[str, Any] = {
        "uri": entry_id(article, site),
        "standard": dict(NINJS_STANDARD),
        "type": "text",
        "representationtype": "partial" if retracted else "full",
        "version": str(article.revision),
        "firstcreated": _datetime(article.created_at, site),
        "versioncreated": _datetime(article.updated_at, site),
        "contentcreated": _datetime(article.published_at, site),
        "pubstatus": status,
    }
    if article.embargo_until is not None:
        item["embargoed"] = _datetime(article.embargo_until, site)
    item["language"] = article.language
    item["slugline"] = article.slug
    item["altids"] = [{"role": "id", "value": article.id}]
    title = clean_text(article.title)
    item["headlines"] = [_plain("main", title)]

    descriptions = _descriptions(article, retracted=retracted)
    if descriptions:
        item["descriptions"] = descriptions
    if not retracted:
        # Markup gets no NFC here: normalizing serialized HTML can rewrite it (strip_xml_illegal).
        body = strip_xml_illegal(absolutize_urls(article.body_html, site))
        item["bodies"] = [{"role": "main", "contenttype": "text/html", "value": body}]

    item["by"] = clean_text(article.author.name)
    item["subjects"] = _subjects(article, site)

    ednote = _ednote(article, site, retracted=retracted)
    if ednote:
        item["ednote"] = ednote

    holder = site.rights_holder or site.name
    item["copyrightholder"] = clean_text(holder)
    if site.usage_terms:
        item["usageterms"] = clean_text(site.usage_terms)

    item["renditions"] = [
        {"name": "canonical", "href": canonical, "contenttype": "text/html", "title": title}
    ]
    if not retracted:
        pictures = [_picture(name, image, article, site) for name, image in _named_images(article)]
        if pictures:
            item["associations"] = pictures
    return item


def _descriptions(article: Article, *, retracted: bool) -> list[dict[str, str]]:
    descriptions: list[dict[str, str]] = []
    summary = clean_text(article.summary).strip()
    if summary and not retracted:
        descriptions.append(_plain("summary", summary))
    for correction in _corrections(article):
        descriptions.append(_plain("correction", clean_text(correction.note)))
    if retracted and article.retraction is not None:
        descriptions.append(_plain("retraction", clean_text(article.retraction.reason)))
    return descriptions


def _ednote(article: Article, site: Site, *, retracted: bool) -> str:
    lines = [
        f"Corrected {_datetime(correction.at, site)}: {clean_text(correction.note)}"
        for correction in _corrections(article)
    ]
    if retracted and article.retraction is not None:
        retraction = article.retraction
        lines.append(f"Retracted {_datetime(retraction.at, site)}: {clean_text(retraction.reason)}")
    return "\n".join(lines)


def _corrections(article: Article) -> list[Correction]:
    # Oldest first, whatever order the document kept them in (ties keep their stored order).
    return sorted(article.corrections, key=lambda c: c.at)


def _subjects(article: Article, site: Site) -> list[dict[str, str]]:
    subjects = [_subject("section", article.section.name, article.section.slug, site)]
    subjects.extend(_subject("tag", tag.name, tag.slug, site) for tag in article.tags)
    return subjects


def _subject(kind: Literal["section", "tag"], name: str, slug: str, site: Site) -> dict[str, str]:
    return {
        "name": clean_text(name),
        "rel": kind,
        "uri": _uri(site.absolute(listing_path(kind, slug))),
        "literal": slug,
    }


def _named_images(article: Article) -> list[tuple[str, Image]]:
    """The lead image first (named "featureimage"), then the others as image1, image2...; each src once."""
    named: list[tuple[str, Image]] = []
    seen: set[str] = set()
    if article.image is not None:
        named.append(("featureimage", article.image))
        seen.add(article.image.src)
    others = 0
    for image in article.images:
        if image.src in seen:
            continue
        seen.add(image.src)
        others += 1
        named.append((f"image{others}", image))
    return named


def _picture(name: str, image: Image, article: Article, site: Site) -> dict[str, Any]:
    href = _uri(site.absolute(image.src))
    rendition: dict[str, Any] = {"name": "original", "href": href}
    if image.content_type:
        rendition["contenttype"] = image.content_type
    if image.length:
        rendition["sizeinbytes"] = image.length

    # The image file's URL identifies it: media keys are never reused for other content.
    picture: dict[str, Any] = {"name": name, "uri": href, "type": "picture"}
    if article.language:
        picture["language"] = article.language
    caption = clean_text(image.caption).strip()
    alt = clean_text(image.alt).strip()
    descriptions = []
    if caption:
        descriptions.append(_plain("caption", caption))
    if alt:
        descriptions.append(_plain("alternative-text", alt))
    if descriptions:
        picture["descriptions"] = descriptions
    credit = clean_text(image.credit).strip()
    if credit:
        # The credit line names the photographer or agency: ninjs 2.0's "by". Who holds the
        # copyright is not known from it, so the picture claims no copyrightholder.
        picture["by"] = credit
    picture["renditions"] = [rendition]
    return picture


def _plain(role: str, value: str) -> dict[str, str]:
    """A headline or description object: plain text with its role."""
    return {"role": role, "contenttype": "text/plain", "value": value}


def _datetime(value: datetime, site: Site) -> str:
    # astimezone() would read a naive datetime as the server's local time and shift it silently.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing to put a naive datetime in a ninjs item: {value!r}")
    return value.astimezone(site.zone).isoformat()


def _uri(url: str) -> str:
    return quote(clean_text(url), safe=_URI_SAFE)
