"""Shared fixtures for the unit tests: the seed customer's site and its seed article."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.models.article import Article, Image, Taxon
from functions.models.site import Site

SEED_DIR = Path(__file__).resolve().parents[2] / "examples" / "seed"
SEED_ARTICLE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
SEED_SLUG = "o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023"
SEED_PATH = f"/2023/05/10/{SEED_SLUG}/"

# ASCII slugs as the slugifier would produce them ("đ" -> "d").
SECTION_SLUGS = {"Hoạt động Mặt trận": "hoat-dong-mat-tran"}
TAG_SLUGS = {"Ô Môn": "o-mon", "Tập huấn": "tap-huan", "Mặt trận Tổ quốc": "mat-tran-to-quoc"}
IMAGE_SIZES = {"quang-canh-lop-tap-huan.jpg": 40633, "ba-nguyen-thuy-hang.jpg": 39678}


def _load(name: str) -> dict[str, Any]:
    return json.loads((SEED_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def seed_json() -> dict[str, Any]:
    return _load("seed-article.json")


@pytest.fixture(scope="session")
def site() -> Site:
    return Site(
        name="Cổng thông tin quận Ô Môn",
        description="Tin tức Ủy ban Mặt trận Tổ quốc Việt Nam quận Ô Môn",
        url="https://news.example.vn",
        banner=_load("seed-site.json")["site_banner"],
        language="vi",
        timezone="Asia/Ho_Chi_Minh",
        tag_authority="news.example.vn",
        feed_size=50,
    )


@pytest.fixture(scope="session")
def seed_published_at(seed_json: dict[str, Any]) -> datetime:
    # Stored the way the store keeps times (UTC), so rendering must convert to +07:00 itself.
    return datetime.fromisoformat(seed_json["published_at"]).astimezone(UTC)


@pytest.fixture(scope="session")
def seed_article(seed_json: dict[str, Any], seed_published_at: datetime) -> Article:
    body_html = seed_json["body"]
    images: list[Image] = []
    for filename, length in IMAGE_SIZES.items():
        src = f"/media/seed/{filename}"
        body_html = body_html.replace(f'src="media/{filename}"', f'src="{src}"')
        images.append(Image(src=src, content_type="image/jpeg", length=length))
    # alt and caption come from the figure that shows each image.
    images[0] = images[0].model_copy(
        update={"alt": "Quang cảnh lớp tập huấn", "caption": "Quang cảnh lớp tập huấn"}
    )
    caption = "Bà Nguyễn Thúy Hằng, Phó Chủ tịch Ủy ban MTTQ Việt Nam thành phố báo cáo bài tại lớp tập huấn"
    images[1] = images[1].model_copy(update={"alt": caption, "caption": caption})
    return Article(
        id=SEED_ARTICLE_ID,
        slug=SEED_SLUG,
        path=SEED_PATH,
        title=seed_json["title"],
        summary=seed_json["summary"],
        author=Taxon(name=seed_json["author"], slug="na-ra"),
        section=Taxon(name=seed_json["section"], slug=SECTION_SLUGS[seed_json["section"]]),
        tags=[Taxon(name=name, slug=TAG_SLUGS[name]) for name in seed_json["tags"]],
        language=seed_json["language"],
        status="published",
        published_at=seed_published_at,
        created_at=seed_published_at,
        updated_at=seed_published_at,
        body=seed_json["body"],
        body_format=seed_json["body_format"],
        body_html=body_html,
        images=images,
        image=images[0],
    )


ArticleFactory = Callable[..., Article]


@pytest.fixture
def make_article(seed_article: Article) -> ArticleFactory:
    """Variants of the seed article: make_article(n) is n hours newer, with its own id/slug/path."""

    def factory(hours: int = 0, **changes: Any) -> Article:
        when = seed_article.published_at + timedelta(hours=hours)
        slug = f"bai-viet-{hours}"
        defaults: dict[str, Any] = {
            "id": f"00000000-0000-4000-8000-{hours:012d}",
            "slug": slug,
            "path": f"/{when:%Y/%m/%d}/{slug}/",
            "title": f"Bài viết số {hours}",
            "published_at": when,
            "created_at": when,
            "updated_at": when,
        }
        defaults.update(changes)
        return seed_article.model_copy(update=defaults)

    return factory
