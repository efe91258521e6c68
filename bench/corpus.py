"""A synthetic Vietnamese news corpus, the same articles for presswire and for Hugo.

Deterministic (a seeded random.Random): titles, leads, 5-10 paragraph bodies with diacritics,
one lead image each, a section, an author and 2-4 tags from fixed pools, one article every 47
minutes back from 2026-11-01. `seed_presswire` stores them through the storage layer as a submit
would (the canonical JSON to S3, then the items of create_article's transaction, in bulk for a
fresh table, without the API around it), and `write_hugo_content` writes the same articles as
Markdown with front matter.

    .venv/bin/python bench/corpus.py --count 20 --hugo /tmp/content   # a look at the output
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

SEED = 20231105
NEWEST = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
GAP = timedelta(minutes=47)
# Requests in flight while seeding: moto answers one at a time, the rest is client-side work.
SEED_THREADS = 4

SECTIONS = ("Thời sự", "Kinh tế", "Xã hội", "Giáo dục", "Sức khỏe", "Văn hóa", "Thể thao", "Pháp luật")
AUTHORS = (
    "Na Ra", "Trần Thị Hồng Nhung", "Nguyễn Văn Đức", "Lê Minh Khôi", "Phạm Thu Hà", "Đặng Quốc Bảo",
    "Võ Thị Ánh Tuyết", "Huỳnh Gia Hưng", "Bùi Thanh Tâm", "Đỗ Ngọc Lan", "Hoàng Anh Tuấn", "Dương Mỹ Linh",
)  # fmt: skip
PLACES = (
    "Ô Môn", "Cần Thơ", "Ninh Kiều", "Bình Thủy", "Cái Răng", "Thốt Nốt", "Phong Điền", "Cờ Đỏ",
    "Vĩnh Thạnh", "Thới Lai", "Hậu Giang", "Sóc Trăng", "Vĩnh Long", "An Giang", "Kiên Giang", "Đồng Tháp",
)  # fmt: skip
TOPICS = (
    "tập huấn", "đại hội", "an sinh xã hội", "chuyển đổi số", "nông thôn mới", "giao thông", "y tế cơ sở",
    "khuyến học", "phòng chống thiên tai", "du lịch", "khởi nghiệp", "cải cách hành chính", "môi trường",
    "văn hóa truyền thống", "thể dục thể thao", "an ninh trật tự", "xây dựng Đảng", "Mặt trận Tổ quốc",
    "thanh niên tình nguyện", "phụ nữ", "người cao tuổi", "bảo hiểm y tế", "giảm nghèo", "đô thị",
)  # fmt: skip
VERBS = ("tổ chức", "triển khai", "khai mạc", "tổng kết", "phát động", "ra mắt", "kiểm tra", "trao tặng")
# Sentence templates; long lines are prose.
SENTENCES = (
    "Sáng ngày {day} tháng {month}, tại {place}, Ủy ban nhân dân đã {verb} chương trình {topic} với sự tham dự của đông đảo cán bộ và người dân.",  # noqa: E501
    "Theo báo cáo, trong năm qua địa phương đã đạt nhiều kết quả quan trọng, nhất là trong lĩnh vực {topic}.",
    "Phát biểu tại buổi lễ, đồng chí lãnh đạo đề nghị các ngành tiếp tục đẩy mạnh công tác {topic}, bảo đảm hiệu quả và thiết thực.",  # noqa: E501
    "Nhiều hộ gia đình ở {place} cho biết đời sống đã được cải thiện rõ rệt nhờ sự quan tâm của chính quyền các cấp.",  # noqa: E501
    "Dịp này, Ban tổ chức đã trao {count} phần quà cho các hộ có hoàn cảnh khó khăn, mỗi phần trị giá {money} đồng.",  # noqa: E501
    "Các đại biểu đã thảo luận sôi nổi, đóng góp nhiều ý kiến tâm huyết nhằm nâng cao chất lượng {topic} trong thời gian tới.",  # noqa: E501
    "Được biết, đây là hoạt động thiết thực chào mừng kỷ niệm ngày thành lập Mặt trận Dân tộc Thống nhất Việt Nam.",  # noqa: E501
    "Ông Nguyễn Văn Tư, người dân ấp Thới Hòa, chia sẻ: “Chúng tôi rất phấn khởi khi được tham gia chương trình này”.",  # noqa: E501
    "Kết thúc đợt {verb}, {count} học viên đã hoàn thành chương trình và được cấp giấy chứng nhận.",
    "Thời gian tới, {place} sẽ tập trung nguồn lực cho {topic}, phấn đấu hoàn thành vượt mức chỉ tiêu đề ra.",
)


@dataclass(frozen=True)
class CorpusArticle:
    number: int
    title: str
    summary: str
    paragraphs: tuple[str, ...]
    section: str
    author: str
    tags: tuple[str, ...]
    image: str
    image_alt: str
    published_at: datetime


def generate(count: int, seed: int = SEED) -> list[CorpusArticle]:
    """`count` articles, oldest first."""
    rng = random.Random(seed)  # nosec B311 - a reproducible corpus, not a secret
    articles = []
    for number in range(count):
        place, topic, verb = rng.choice(PLACES), rng.choice(TOPICS), rng.choice(VERBS)
        when = NEWEST - GAP * (count - 1 - number)
        local = when + timedelta(hours=7)

        def sentence(template: str, local: datetime = local) -> str:
            return template.format(
                day=local.day,
                month=local.month,
                place=rng.choice(PLACES),
                verb=rng.choice(VERBS),
                topic=rng.choice(TOPICS),
                count=rng.randint(10, 500),
                money=f"{rng.randint(2, 50) * 100_000:,}".replace(",", "."),
            )

        paragraphs = tuple(
            " ".join(sentence(rng.choice(SENTENCES)) for _ in range(rng.randint(2, 4)))
            for _ in range(rng.randint(5, 10))
        )
        tags = tuple(dict.fromkeys([place, topic.capitalize(), *rng.sample(PLACES, rng.randint(0, 2))]))
        articles.append(
            CorpusArticle(
                number=number,
                title=f"{place}: {verb} {topic} năm {local.year} (bài {number + 1})",
                summary=sentence(SENTENCES[0]),
                paragraphs=paragraphs,
                section=rng.choice(SECTIONS),
                author=rng.choice(AUTHORS),
                tags=tags,
                image=f"/media/{number:06d}/anh-{number % 97}.jpg",
                image_alt=f"Quang cảnh buổi {verb} tại {place}",
                published_at=when,
            )
        )
    return articles


def body_html(article: CorpusArticle) -> str:
    figure = (
        f'<figure><img src="{article.image}" alt="{article.image_alt}">'
        f"<figcaption>{article.image_alt}</figcaption></figure>"
    )
    return figure + "".join(f"<p>{paragraph}</p>" for paragraph in article.paragraphs)


# -- presswire ----------------------------------------------------------------------------


def canonical_article(article: CorpusArticle, site: Any, sequence: int) -> Any:
    """The canonical Article a submit of this corpus article stores (published, sequenced)."""
    from functions.logic.content import taxon
    from functions.models.article import Article, Image
    from functions.models.paths import article_path
    from functions.text import slugify
    from functions.text.html import sanitize_html

    slug = slugify(article.title)
    image = Image(
        src=article.image,
        content_type="image/jpeg",
        length=40_000 + article.number % 997,
        alt=article.image_alt,
    )
    return Article(
        id=f"00000000-0000-4000-8000-{article.number:012d}",
        slug=slug,
        path=article_path(article.published_at, slug, site.zone),
        title=article.title,
        summary=article.summary,
        author=taxon(article.author),
        section=taxon(article.section),
        tags=[taxon(tag) for tag in article.tags],
        language="vi",
        status="published",
        published_at=article.published_at,
        created_at=article.published_at,
        updated_at=article.published_at,
        body=body_html(article),
        body_format="html",
        body_html=sanitize_html(body_html(article)),
        images=[image],
        image=image,
        sequence=sequence,
    )


def first_revision(canonical: Any, version_id: str) -> Any:
    from functions.models.article import Revision

    return Revision(
        revision=1,
        article_id=canonical.id,
        version_id=version_id,
        at=canonical.published_at,
        by="bench",
        by_key_id="bench",
        action="create",
    )


def _creation_items(storage: Any) -> Callable[[Any, Any, list[str]], list[dict[str, Any]]]:
    """The items storage.create_article would commit, without committing them: its transaction
    is captured instead of sent, so the bulk seed writes exactly what a submit writes."""
    from functions.dal.aws import AwsStorage

    captured: list[dict[str, Any]] = []
    capturing = copy.copy(storage)
    capturing._transact = captured.extend

    def items(record: Any, revision: Any, listings: list[str]) -> list[dict[str, Any]]:
        captured.clear()
        AwsStorage.create_article(capturing, record, revision, listings)
        return [write["Put"]["Item"] for write in captured]

    return items


def _batch_write(storage: Any, items: list[dict[str, Any]]) -> None:
    """BatchWriteItem, 25 items a call (its limit), unprocessed items sent again."""
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {
            storage.table_name: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        }
        while pending:
            response = storage.dynamodb.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}


def seed_presswire(articles: list[CorpusArticle], site: Any, storage: Any, log: Any = print) -> None:
    """Store the articles as a submit of each would, in bulk for a fresh table: the canonical JSON
    first (concurrent PutObjects: the records need their version ids), then the items each
    create_article transaction holds (slug, article, first revision, listings), 25 to a
    BatchWriteItem, and the sequence counter at the last number given. Against moto over HTTP, one
    transaction and counter update per article cost ~0.1 s each (16 minutes for 10,000)."""
    from boto3.dynamodb.types import TypeSerializer

    from functions.dal.aws import SEQUENCE_COUNTER_KEY
    from functions.logic.records import listing_ids, record_for

    base = storage.last_sequence()
    canonicals = [
        canonical_article(article, site, base + number) for number, article in enumerate(articles, 1)
    ]
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        stored = list(pool.map(storage.put_canonical, canonicals))
    log(f"  stored {len(stored)} canonical documents")
    creation_items = _creation_items(storage)
    items: list[dict[str, Any]] = []
    for canonical, version in zip(canonicals, stored, strict=True):
        record = record_for(canonical, version)
        items += creation_items(record, first_revision(canonical, version.version_id), listing_ids(record))
    serializer = TypeSerializer()
    counter = {**SEQUENCE_COUNTER_KEY, "value": base + len(articles)}
    items.append({name: serializer.serialize(value) for name, value in counter.items()})
    chunks = [items[start : start + 25 * 40] for start in range(0, len(items), 25 * 40)]
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        for _ in pool.map(lambda chunk: _batch_write(storage, chunk), chunks):
            pass
    log(f"  wrote {len(items)} table items")


# -- Hugo ---------------------------------------------------------------------------------


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_hugo_content(articles: list[CorpusArticle], content: Path) -> None:
    """content/<section slug>/<n>.md with TOML front matter (title, date, summary, author,
    tags, image), the body as Markdown paragraphs after the lead figure."""
    from functions.text import slugify

    for article in articles:
        folder = content / slugify(article.section)
        folder.mkdir(parents=True, exist_ok=True)
        index = folder / "_index.md"
        if not index.exists():
            index.write_text(f"+++\ntitle = {_toml_string(article.section)}\n+++\n", encoding="utf-8")
        front = "\n".join(
            [
                "+++",
                f"title = {_toml_string(article.title)}",
                f"date = {article.published_at.isoformat()}",
                f"summary = {_toml_string(article.summary)}",
                f"description = {_toml_string(article.summary)}",
                f"slug = {_toml_string(slugify(article.title))}",
                f"authors = [{_toml_string(article.author)}]",
                f"tags = [{', '.join(_toml_string(tag) for tag in article.tags)}]",
                f"image = {_toml_string(article.image)}",
                f"image_alt = {_toml_string(article.image_alt)}",
                "+++",
            ]
        )
        body = f'![{article.image_alt}]({article.image} "{article.image_alt}")\n\n' + "\n\n".join(
            article.paragraphs
        )
        (folder / f"{article.number:06d}.md").write_text(front + "\n\n" + body + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--hugo", type=Path, help="write the Hugo content here")
    args = parser.parse_args(argv)
    articles = generate(args.count)
    if args.hugo:
        write_hugo_content(articles, args.hugo)
    for article in articles[:3]:
        print(article.title, "|", article.section, "|", ", ".join(article.tags))
    return 0


if __name__ == "__main__":
    sys.exit(main())
