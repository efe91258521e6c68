"""Rebuild planning, checkpoints, the directory sink and the command's bad input (no AWS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.logic.rebuild import (
    CHECKPOINT_FILE,
    DirectorySink,
    FileCheckpoint,
    RebuildError,
    RebuildPlan,
    ShardResult,
    plan_shards,
)
from functions.models.site import Output
from infra.cli import main


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
    )

    assert ShardResult.from_dict(result.as_dict()) == result


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
