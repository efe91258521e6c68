"""to_ninjs(): IPTC ninjs 2.0 items, validated against the official ninjs 2.0 JSON schema.

tests/unit/schemas/ninjs-2.0.json is IPTC's own file, unmodified: specification/ninjs-schema_2.0.json
of the iptc/newsinjson repository (commit b827f839ec5b3f2723b140b46c34ed961d60ad25), published at
http://www.iptc.org/std/ninjs/ninjs-schema_2.0.json under CC BY 4.0. It is JSON Schema draft-04,
hence Draft4Validator. Format checking ("uri", "date-time") needs rfc3986-validator and
rfc3339-validator, both in the dev extra; a test below proves the checks are really on.

The stored copy may predate IPTC's May 2022 errata, which changed only how "places" embeds GeoJSON
(its remote $ref is never reached: presswire emits no places).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from functions.models.article import Article, Correction, Image, Retraction
from functions.models.site import Site
from functions.render.feeds import entry_id
from functions.syndication.ninjs import (
    NINJS_MEDIA_TYPE,
    NINJS_SCHEMA_URI,
    NINJS_STANDARD,
    to_ninjs,
)

SCHEMA_PATH = Path(__file__).parent / "schemas" / "ninjs-2.0.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft4Validator(SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER)


def assert_valid(item: dict[str, Any]) -> None:
    """Valid against the schema, and each association valid as a ninjs object in its own right.

    The 2.0 schema lets an association through when it merely has a "name" (anyOf), so its other
    properties are checked here against the root schema, which knows no "name".
    """
    errors = sorted(VALIDATOR.iter_errors(item), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    for association in item.get("associations", []):
        inner = {key: value for key, value in association.items() if key != "name"}
        errors = list(VALIDATOR.iter_errors(inner))
        assert not errors, "\n".join(f"{association['name']}: {e.message}" for e in errors)
    # JSON-ready: no datetimes or other objects left in it.
    json.dumps(item, ensure_ascii=False, allow_nan=False)


@pytest.fixture
def rights_site(site: Site) -> Site:
    return site.model_copy(
        update={
            "rights_holder": "Ủy ban MTTQ Việt Nam quận Ô Môn",
            "usage_terms": "Ghi rõ nguồn khi đăng lại.",
        }
    )


# --- the schema and the validator -------------------------------------------------------------------


def test_schema_is_the_official_draft4_file() -> None:
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert SCHEMA["id"] == NINJS_SCHEMA_URI + "#"
    Draft4Validator.check_schema(SCHEMA)


def test_format_checks_are_really_on() -> None:
    base = {"uri": "tag:news.example.vn,2023-05-10:x"}
    assert VALIDATOR.is_valid(base)
    assert not VALIDATOR.is_valid({**base, "versioncreated": "2023-05-10 08:00"})
    assert not VALIDATOR.is_valid({**base, "versioncreated": "2023-05-10T08:00:00"})  # no offset
    assert not VALIDATOR.is_valid({"uri": "not a uri"})
    assert not VALIDATOR.is_valid({"uri": "https://news.example.vn/tin-tức/"})  # an IRI, not a URI


def test_schema_rejects_the_1x_and_guessed_shapes() -> None:
    """What the 2.0 schema refuses, so that to_ninjs does not produce it."""
    base = {"uri": "tag:news.example.vn,2023-05-10:x"}
    assert not VALIDATOR.is_valid({**base, "links": [{"rel": "canonical", "href": "https://x.vn/"}]})
    assert not VALIDATOR.is_valid({**base, "bylines": [{"byline": "Na Ra"}]})
    assert not VALIDATOR.is_valid({**base, "renditions": {"original": {"href": "https://x.vn/a.jpg"}}})
    assert not VALIDATOR.is_valid({**base, "rightsinfo": {"copyrightholder": "X"}})
    assert not VALIDATOR.is_valid({**base, "headline": "1.x style"})


# --- a published article ------------------------------------------------------------------------------


def test_published_article(seed_article: Article, site: Site) -> None:
    item = to_ninjs(seed_article, site)
    assert_valid(item)

    assert item["uri"] == entry_id(seed_article, site)
    assert item["uri"].startswith("tag:news.example.vn,2023-05-10:")
    assert (
        item["standard"] == NINJS_STANDARD == {"name": "ninjs", "version": "2.0", "schema": NINJS_SCHEMA_URI}
    )
    assert item["type"] == "text"
    assert item["representationtype"] == "full"
    assert item["version"] == "1"
    assert item["pubstatus"] == "usable"
    assert "embargoed" not in item
    assert item["language"] == "vi"
    assert item["slugline"] == seed_article.slug
    assert item["altids"] == [{"role": "id", "value": seed_article.id}]
    assert item["headlines"] == [{"role": "main", "contenttype": "text/plain", "value": seed_article.title}]
    assert item["descriptions"] == [
        {"role": "summary", "contenttype": "text/plain", "value": seed_article.summary}
    ]
    assert item["by"] == seed_article.author.name
    assert "ednote" not in item


def test_datetimes_are_rfc3339_in_the_site_offset(seed_article: Article, site: Site) -> None:
    created = datetime(2023, 5, 9, 20, 15, tzinfo=UTC)
    updated = datetime(2023, 5, 10, 3, 30, 5, tzinfo=UTC)
    item = to_ninjs(seed_article.model_copy(update={"created_at": created, "updated_at": updated}), site)
    assert item["firstcreated"] == "2023-05-10T03:15:00+07:00"
    assert item["versioncreated"] == "2023-05-10T10:30:05+07:00"
    assert item["contentcreated"] == seed_article.published_at.astimezone(site.zone).isoformat()
    assert item["contentcreated"].endswith("+07:00")


def test_body_is_the_html_with_absolute_urls(seed_article: Article, site: Site) -> None:
    (body,) = to_ninjs(seed_article, site)["bodies"]
    assert body["role"] == "main"
    assert body["contenttype"] == "text/html"
    assert 'src="/media/' not in body["value"]
    assert 'src="https://news.example.vn/media/seed/quang-canh-lop-tap-huan.jpg"' in body["value"]


def test_subjects_are_the_section_and_the_tags(seed_article: Article, site: Site) -> None:
    subjects = to_ninjs(seed_article, site)["subjects"]
    assert subjects[0] == {
        "name": "Hoạt động Mặt trận",
        "rel": "section",
        "uri": "https://news.example.vn/section/hoat-dong-mat-tran/",
        "literal": "hoat-dong-mat-tran",
    }
    assert [(s["rel"], s["name"], s["uri"]) for s in subjects[1:]] == [
        ("tag", tag.name, f"https://news.example.vn/tag/{tag.slug}/") for tag in seed_article.tags
    ]


def test_canonical_page_is_a_rendition(seed_article: Article, site: Site) -> None:
    assert to_ninjs(seed_article, site)["renditions"] == [
        {
            "name": "canonical",
            "href": "https://news.example.vn" + seed_article.path,
            "contenttype": "text/html",
            "title": seed_article.title,
        }
    ]


def test_rights_come_from_the_site(seed_article: Article, site: Site, rights_site: Site) -> None:
    item = to_ninjs(seed_article, rights_site)
    assert_valid(item)
    assert item["copyrightholder"] == "Ủy ban MTTQ Việt Nam quận Ô Môn"
    assert item["usageterms"] == "Ghi rõ nguồn khi đăng lại."
    assert "rightsinfo" not in item  # 2.0's rightsinfo needs a rights URL or encoded rights

    plain = to_ninjs(seed_article, site)  # rights_holder unset: the site's name
    assert plain["copyrightholder"] == site.name
    assert "usageterms" not in plain


# --- pictures -----------------------------------------------------------------------------------------------


def test_images_are_picture_associations(seed_article: Article, site: Site) -> None:
    item = to_ninjs(seed_article, site)
    associations = item["associations"]
    # The lead image is also the first of images: it appears once, as the feature image.
    assert [a["name"] for a in associations] == ["featureimage", "image1"]
    feature = associations[0]
    assert feature["type"] == "picture"
    assert feature["uri"] == "https://news.example.vn/media/seed/quang-canh-lop-tap-huan.jpg"
    assert feature["renditions"] == [
        {
            "name": "original",
            "href": "https://news.example.vn/media/seed/quang-canh-lop-tap-huan.jpg",
            "contenttype": "image/jpeg",
            "sizeinbytes": 40633,
        }
    ]
    assert feature["descriptions"] == [
        {"role": "caption", "contenttype": "text/plain", "value": "Quang cảnh lớp tập huấn"},
        {"role": "alternative-text", "contenttype": "text/plain", "value": "Quang cảnh lớp tập huấn"},
    ]
    assert "by" not in feature  # no credit given


def test_image_credit_and_missing_metadata(seed_article: Article, site: Site) -> None:
    lead = Image(src="/media/ảnh đẹp.png", credit="Ảnh: Na Ra", caption="Lễ khai giảng")
    bare = Image(src="https://cdn.example.org/x.webp")
    article = seed_article.model_copy(update={"image": lead, "images": [bare, lead]})
    item = to_ninjs(article, site)
    assert_valid(item)
    feature, other = item["associations"]
    assert feature["by"] == "Ảnh: Na Ra"
    assert feature["uri"] == "https://news.example.vn/media/%E1%BA%A3nh%20%C4%91%E1%BA%B9p.png"
    assert feature["descriptions"] == [
        {"role": "caption", "contenttype": "text/plain", "value": "Lễ khai giảng"}
    ]
    assert other == {
        "name": "image1",
        "uri": "https://cdn.example.org/x.webp",
        "type": "picture",
        "language": "vi",
        "renditions": [{"name": "original", "href": "https://cdn.example.org/x.webp"}],
    }


def test_no_images_no_associations(seed_article: Article, site: Site) -> None:
    item = to_ninjs(seed_article.model_copy(update={"image": None, "images": []}), site)
    assert_valid(item)
    assert "associations" not in item


def test_images_without_a_lead_are_numbered_from_one(seed_article: Article, site: Site) -> None:
    item = to_ninjs(seed_article.model_copy(update={"image": None}), site)
    assert [a["name"] for a in item["associations"]] == ["image1", "image2"]


# --- corrections, retraction, embargo, drafts ---------------------------------------------------------


def test_corrected_article(seed_article: Article, site: Site) -> None:
    first = Correction(at=seed_article.published_at + timedelta(hours=2), note="Sửa tên diễn giả.")
    second = Correction(at=seed_article.published_at + timedelta(days=1), note="Bổ sung ảnh.")
    corrected = seed_article.model_copy(
        update={"corrections": [second, first], "revision": 3, "updated_at": second.at}
    )
    item = to_ninjs(corrected, site)
    assert_valid(item)

    assert item["uri"] == to_ninjs(seed_article, site)["uri"]  # same item, a new version
    assert item["version"] == "3"
    assert item["versioncreated"] == second.at.astimezone(site.zone).isoformat()
    assert item["pubstatus"] == "usable"
    assert [d for d in item["descriptions"] if d["role"] == "correction"] == [
        {"role": "correction", "contenttype": "text/plain", "value": "Sửa tên diễn giả."},
        {"role": "correction", "contenttype": "text/plain", "value": "Bổ sung ảnh."},
    ]
    assert item["ednote"] == (
        f"Corrected {first.at.astimezone(site.zone).isoformat()}: Sửa tên diễn giả.\n"
        f"Corrected {second.at.astimezone(site.zone).isoformat()}: Bổ sung ảnh."
    )
    assert "bodies" in item


def test_retracted_article(seed_article: Article, site: Site) -> None:
    at = seed_article.published_at + timedelta(days=2)
    retracted = seed_article.model_copy(
        update={
            "status": "retracted",
            "retraction": Retraction(at=at, reason="Thông tin chưa được kiểm chứng."),
            "revision": 4,
            "updated_at": at,
        }
    )
    item = to_ninjs(retracted, site)
    assert_valid(item)

    assert item["uri"] == to_ninjs(seed_article, site)["uri"]
    assert item["pubstatus"] == "canceled"
    assert item["representationtype"] == "partial"
    assert item["version"] == "4"
    assert "bodies" not in item
    assert "associations" not in item
    assert item["descriptions"] == [
        {"role": "retraction", "contenttype": "text/plain", "value": "Thông tin chưa được kiểm chứng."}
    ]
    assert (
        item["ednote"] == f"Retracted {at.astimezone(site.zone).isoformat()}: Thông tin chưa được kiểm chứng."
    )
    assert seed_article.body_html[:40] not in json.dumps(item, ensure_ascii=False)
    # Still identifiable: headline, byline, subjects, canonical URL.
    assert item["headlines"][0]["value"] == seed_article.title
    assert item["renditions"][0]["name"] == "canonical"


def test_retracted_after_corrections_keeps_both_notices(seed_article: Article, site: Site) -> None:
    correction = Correction(at=seed_article.published_at + timedelta(hours=1), note="Sửa lỗi chính tả.")
    retraction = Retraction(at=seed_article.published_at + timedelta(hours=5), reason="Gỡ theo yêu cầu.")
    article = seed_article.model_copy(
        update={"status": "retracted", "retraction": retraction, "corrections": [correction]}
    )
    item = to_ninjs(article, site)
    assert_valid(item)
    assert [d["role"] for d in item["descriptions"]] == ["correction", "retraction"]
    assert item["ednote"].splitlines()[0].startswith("Corrected ")
    assert item["ednote"].splitlines()[1].startswith("Retracted ")


def test_embargoed_article(seed_article: Article, site: Site) -> None:
    until = datetime(2023, 5, 10, 6, 0, tzinfo=UTC)
    item = to_ninjs(seed_article.model_copy(update={"embargo_until": until}), site)
    assert_valid(item)
    assert item["embargoed"] == "2023-05-10T13:00:00+07:00"
    assert item["pubstatus"] == "usable"


@pytest.mark.parametrize("status", ["draft", "scheduled"])
def test_unpublished_article_is_withheld(seed_article: Article, site: Site, status: str) -> None:
    item = to_ninjs(seed_article.model_copy(update={"status": status}), site)
    assert_valid(item)
    assert item["pubstatus"] == "withheld"


# --- determinism ------------------------------------------------------------------------------------------


def test_output_is_deterministic(seed_article: Article, site: Site) -> None:
    first = json.dumps(to_ninjs(seed_article, site), ensure_ascii=False)
    second = json.dumps(to_ninjs(seed_article, site), ensure_ascii=False)
    assert first == second


def test_output_does_not_depend_on_the_stored_offset(seed_article: Article, site: Site) -> None:
    plus7 = timezone(timedelta(hours=7))
    shifted = seed_article.model_copy(
        update={
            field: getattr(seed_article, field).astimezone(plus7)
            for field in ("published_at", "created_at", "updated_at")
        }
    )
    assert to_ninjs(shifted, site) == to_ninjs(seed_article, site)


def test_naive_datetimes_are_refused(seed_article: Article, site: Site) -> None:
    naive = seed_article.model_copy(update={"updated_at": datetime(2023, 5, 10, 8, 0)})
    with pytest.raises(ValueError, match="naive"):
        to_ninjs(naive, site)


def test_media_type_is_plain_json() -> None:
    # IPTC defines no ninjs media type; items say what they are in "standard".
    assert NINJS_MEDIA_TYPE == "application/json"
