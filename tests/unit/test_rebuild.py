"""Rebuild planning, checkpoints, the directory sink, reading each input once, and the command's
bad input (no AWS)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.logic import publish_articles
from functions.logic import rebuild as rebuild_logic
from functions.logic.listings import listings_of
from functions.logic.rebuild import (
    CHECKPOINT_FILE,
    DirectorySink,
    FileCheckpoint,
    RebuildError,
    RebuildPlan,
    ShardResult,
    finish_rebuild,
    plan_shards,
    render_listings,
    render_shard,
)
from functions.models.article import Article, ArticleRecord, ArticleStatus
from functions.models.site import Output, Site
from infra.cli import main
from tests.unit.conftest import ArticleFactory
from tests.unit.test_publish_logic import MemoryStore, record_of


def test_shards_cover_every_sequence_number_once_in_archive_aligned_ranges() -> None:
    shards = plan_shards(1234, 500)

    assert [(shard.first, shard.last) for shard in shards] == [(1, 500), (501, 1000), (1001, 1234)]
    assert [shard.number for shard in shards] == [0, 1, 2]


def test_an_empty_archive_has_no_shards() -> None:
    assert plan_shards(0, 500) == []


@pytest.mark.parametrize("size", [0, -50, 75])
def test_a_shard_size_that_would_split_an_archive_page_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="multiple of 50"):
        plan_shards(1000, size)


def test_a_shard_result_survives_its_json_round_trip() -> None:
    result = ShardResult(
        shard=3,
        articles=2,
        pages=2,
        written=5,
        unchanged=1,
        listings={"tag#o-mon": ["tag", "o-mon", "Ô Môn"]},
        months={"2023-05": "id-1"},
        listing_months={"tag#o-mon": ["2023-04", "2023-05"]},
    )

    assert ShardResult.from_dict(result.as_dict()) == result


def test_a_shard_result_kept_before_month_pages_existed_still_loads() -> None:
    kept = ShardResult(shard=0, listings={"home": ["home", "", ""]}).as_dict()
    del kept["listing_months"]

    assert ShardResult.from_dict(kept).listing_months == {}


def test_a_file_checkpoint_remembers_finished_shards_until_the_rebuild_finishes(tmp_path: Path) -> None:
    plan = RebuildPlan(run="r1", last_sequence=1500, shard_size=500)
    checkpoint = FileCheckpoint(tmp_path)
    checkpoint.begin(plan)

    assert checkpoint.record(plan, ShardResult(shard=1, articles=500)) == 2
    state = FileCheckpoint(tmp_path).load()

    assert state is not None and state.plan == plan
    assert [shard.number for shard in state.pending] == [0, 2]
    checkpoint.finish()
    assert FileCheckpoint(tmp_path).load() is None


def test_a_corrupt_checkpoint_file_asks_for_restart(tmp_path: Path) -> None:
    (tmp_path / CHECKPOINT_FILE).write_text("{not json", encoding="utf-8")

    with pytest.raises(RebuildError, match="--restart"):
        FileCheckpoint(tmp_path).load()


def test_the_directory_sink_writes_keys_as_paths_and_skips_unchanged_bytes(tmp_path: Path) -> None:
    sink = DirectorySink(tmp_path)
    output = Output("feeds/tag/o-mon/rss.xml", "<rss>Ô Môn</rss>".encode(), "application/rss+xml", "")

    assert sink.write_if_changed(output) is True
    assert sink.write_if_changed(output) is False
    assert (tmp_path / "feeds/tag/o-mon/rss.xml").read_bytes() == output.body


def test_the_directory_sink_refuses_a_key_outside_its_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside"):
        DirectorySink(tmp_path / "out").write_if_changed(Output("../escape.html", b"x", "text/html", ""))


def test_rebuild_without_a_running_stack_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rebuild", "--state-dir", str(tmp_path)]) == 1

    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no running `presswire serve`" in error


def test_rebuild_out_naming_a_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "site.html"
    target.write_text("x", encoding="utf-8")

    assert main(["rebuild", "--state-dir", str(tmp_path), "--out", str(target)]) == 1

    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "is not a directory" in error


@pytest.mark.parametrize("workers", ["0", "many", "65"])
def test_rebuild_refuses_a_bad_worker_count_in_one_line(
    workers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["rebuild", "--workers", workers])

    assert exited.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


class CountingStore(MemoryStore):
    """MemoryStore counting the reads a rebuild makes."""

    def __init__(self, articles: list[Article]) -> None:
        super().__init__([record_of(article) for article in articles], {a.id: a for a in articles})
        self.archive_reads: list[tuple[int, int]] = []
        self.documents_read: Counter[str] = Counter()
        self.listing_reads: Counter[tuple[str, int]] = Counter()

    def list_archive(self, first: int, last: int) -> list[ArticleRecord]:
        self.archive_reads.append((first, last))
        return super().list_archive(first, last)

    def get_canonical(self, record: ArticleRecord) -> Article:
        self.documents_read[record.id] += 1
        return super().get_canonical(record)

    def list_listing(
        self, listing_id: str, status: ArticleStatus, limit: int, cursor: Any = None, **filters: Any
    ) -> Any:
        if all(value is None for value in filters.values()):
            self.listing_reads[(listing_id, limit)] += 1
        return super().list_listing(listing_id, status, limit, cursor, **filters)


@pytest.fixture
def sequenced(make_article: ArticleFactory) -> list[Article]:
    """Eight articles a day apart, sequenced oldest first, in two tags."""
    return [
        make_article(
            24 * number,
            sequence=number + 1,
            tags=[*make_article().tags[:1], make_article().tags[number % 2 + 1]],
        )
        for number in range(8)
    ]


@pytest.fixture
def small_archive_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Archive pages of two articles, so that a shard of eight renders four of them."""
    monkeypatch.setattr(publish_articles, "ARCHIVE_PAGE_SIZE", 2)
    monkeypatch.setattr(rebuild_logic, "ARCHIVE_PAGE_SIZE", 2)


def test_a_shard_reads_its_archive_range_once_and_each_document_once(
    sequenced: list[Article], site: Site, tmp_path: Path, small_archive_pages: None
) -> None:
    store = CountingStore(sequenced)
    plan = RebuildPlan(run="r", last_sequence=8, shard_size=8)

    result = render_shard(plan, plan.shards[0], store, site, DirectorySink(tmp_path))  # type: ignore[arg-type]

    assert result.articles == 8
    assert sorted(path.name for path in (tmp_path / "feeds" / "archive").iterdir()) == [
        "1.xml", "2.xml", "3.xml", "4.xml"
    ]  # fmt: skip
    # The article pages and the four archive pages come from one read of the range.
    assert store.archive_reads == [(1, 8)]
    assert set(store.documents_read.values()) == {1}
    assert len(store.documents_read) == 8


def test_the_final_step_reads_each_listing_and_document_once_and_can_be_shared_out(
    sequenced: list[Article], site: Site, tmp_path: Path, small_archive_pages: None
) -> None:
    plan = RebuildPlan(run="r", last_sequence=8, shard_size=8)
    whole, shared = tmp_path / "whole", tmp_path / "shared"
    results = [render_shard(plan, plan.shards[0], CountingStore(sequenced), site, DirectorySink(whole))]  # type: ignore[arg-type]
    render_shard(plan, plan.shards[0], CountingStore(sequenced), site, DirectorySink(shared))  # type: ignore[arg-type]
    store = CountingStore(sequenced)

    finish_rebuild(plan, results, store, site, DirectorySink(whole))  # type: ignore[arg-type]

    assert set(store.listing_reads.values()) == {1}
    assert set(store.documents_read.values()) == {1}
    # Shared out: the listings but home in other processes, home and the rest here.
    listings = [found for found in rebuild_logic.rebuilt_listings(results).values() if found.id != "home"]
    months = rebuild_logic.listing_months(results)
    for part in (listings[::2], listings[1::2]):
        render_listings(plan, part, months, CountingStore(sequenced), site, DirectorySink(shared))  # type: ignore[arg-type]
    rendered = {listing.id for listing in listings}
    finish_rebuild(plan, results, CountingStore(sequenced), site, DirectorySink(shared), rendered=rendered)  # type: ignore[arg-type]
    files = sorted(str(path.relative_to(whole)) for path in whole.rglob("*") if path.is_file())
    assert files == sorted(str(path.relative_to(shared)) for path in shared.rglob("*") if path.is_file())
    assert any(key.startswith("tag/") and key.count("/") == 4 for key in files)  # month pages
    for key in files:
        assert (whole / key).read_bytes() == (shared / key).read_bytes(), key


def test_the_home_listing_is_never_shared_out(site: Site, tmp_path: Path) -> None:
    from functions.logic.listings import HOME

    with pytest.raises(ValueError, match="home"):
        render_listings(RebuildPlan("r", 0), [HOME], {}, CountingStore([]), site, DirectorySink(tmp_path))  # type: ignore[arg-type]


def test_a_held_snapshot_answers_listing_questions_as_the_listing_index_does(
    make_article: ArticleFactory, site: Site, tmp_path: Path
) -> None:
    # Every 5 hours for 40 days, three of them in the same second: order ties go by id.
    articles = [make_article(hours) for hours in range(0, 40 * 24, 5)]
    articles += [
        make_article(7, id=f"00000000-0000-4000-8000-{n:012d}", slug=f"dong-thoi-{n}") for n in (90, 91)
    ]
    index = MemoryStore([record_of(article) for article in articles], {a.id: a for a in articles})
    plan = RebuildPlan(run="r", last_sequence=0)
    view = rebuild_logic._view(index, DirectorySink(tmp_path), plan, pinned_archive=True)  # type: ignore[arg-type]
    view.hold(index.indexed)
    middle = articles[0].published_at + timedelta(days=20)
    questions: list[dict[str, Any]] = [
        {},
        {"published_before": middle},
        {"published_since": middle},
        {"published_since": middle - timedelta(days=3), "published_before": middle},
        {"published_since": middle, "oldest_first": True},
        {"published_before": articles[5].published_at},  # inclusive, as BETWEEN is
    ]
    listings = [
        "home",
        *sorted({listing.id for a in articles for listing in listings_of(record_of(a))} - {"home"}),
    ]

    for listing_id in listings:
        for question in questions:
            for limit in (1, 7, 1000):
                expected, _ = index.list_listing(listing_id, "published", 1000, **question)
                answered: list[ArticleRecord] = []
                cursor = None
                while True:  # page by page, through the snapshot's own cursor
                    page, cursor = view.list_listing(listing_id, "published", limit, cursor, **question)
                    assert len(page) <= limit
                    answered += page
                    if cursor is None:
                        break
                assert [r.id for r in answered] == [r.id for r in expected[:]], (listing_id, question, limit)
    assert view.list_listing("tag#none", "published", 10) == ([], None)
