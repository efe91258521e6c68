"""Full rebuild under moto: every page and feed re-rendered from the canonical store, resumable,
to the site bucket or a directory, and on AWS through RebuildQueue's worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.config import get_settings
from functions.dal.factory import get_storage
from functions.logic import publish_articles
from functions.logic import rebuild as rebuild_logic
from functions.logic.rebuild import (
    DirectorySink,
    FileCheckpoint,
    ShardResult,
    SiteBucketSink,
    TableCheckpoint,
)
from functions.models.site import Site
from functions.render.assets import asset_outputs
from infra.local.queue_poller import QueuePoller
from infra.local.rebuild import RebuildSummary, drive_rebuild
from tests.conftest import SEED_DIR
from tests.integration.conftest import Harness

ARTICLES = 5


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, as the command would receive it between two shards."""


@pytest.fixture(scope="module")
def site_articles(module_harness: Harness) -> Iterator[list[dict[str, Any]]]:
    """Five articles, the second retracted, published once for the module; each test renames the
    site its own way, so none depends on what another left."""
    harness = module_harness
    seed_article = json.loads((SEED_DIR / "seed-article.json").read_text(encoding="utf-8"))
    article = {**seed_article, "body": "<p>Qua 3 ngày tập huấn, các học viên đã nghiên cứu.</p>"}
    article.pop("published_at")
    with pytest.MonkeyPatch.context() as patch:
        # Archive pages of one article and shards of one page: five articles are five shards, and
        # every archive page is complete.
        patch.setattr(publish_articles, "ARCHIVE_PAGE_SIZE", 1)
        patch.setattr(rebuild_logic, "ARCHIVE_PAGE_SIZE", 1)
        created = []
        for number in range(ARTICLES):
            tags = [*article["tags"], f"Khóa {number % 2}"]
            body = {**article, "title": f"Ô Môn: lớp {number}", "tags": tags}
            response = harness.call("POST", "/articles", body)
            assert response.status == 201, response.body
            created.append(response.json())
        reason = {"reason": "Tin chưa kiểm chứng."}
        retracted = harness.call("POST", f"/articles/{created[1]['id']}/retract", reason)
        assert retracted.status == 200, retracted.body
        harness.publish()
        yield created


@pytest.fixture
def harness(module_harness: Harness, site_articles: list[dict[str, Any]]) -> Harness:
    return module_harness


@pytest.fixture(autouse=True)
def no_scan(harness: Harness) -> Iterator[None]:
    """A rebuild reads the table only by key and by Query: any Scan fails the test."""

    def refuse(**_: Any) -> None:
        raise AssertionError("the rebuild scanned the table")

    get_storage().dynamodb.meta.events.register("before-call.dynamodb.Scan", refuse)
    yield


def page_key(created: dict[str, Any]) -> str:
    return str(created["url"]).removeprefix("https://news.example.vn/") + "index.html"


def renamed_site(name: str) -> Site:
    """A template change, as the outputs see it: every page and feed carries the site's name."""
    return Site.from_settings(get_settings()).model_copy(update={"name": name})


def site_puts(harness: Harness) -> list[str]:
    written: list[str] = []
    get_storage().s3.meta.events.register(
        "provide-client-params.s3.PutObject",
        lambda params, **_: (
            written.append(params["Key"]) if params["Bucket"] == harness.name("SiteBucket") else None
        ),
    )
    return written


def bucket_rebuild(site: Site, **options: Any) -> RebuildSummary:
    storage = get_storage()
    storage.forget_site_outputs()
    return drive_rebuild(
        storage, site, SiteBucketSink(storage), TableCheckpoint(storage), shard_size=1, **options
    )


def test_rebuild_after_a_template_change_rewrites_every_article_page_feed_and_archive_page(
    harness: Harness, site_articles: list[dict[str, Any]]
) -> None:
    before = harness.site_keys()
    written = site_puts(harness)

    summary = bucket_rebuild(renamed_site("Cổng tin Ô Môn mới"))

    assert summary.shards == ARTICLES
    assert summary.articles == ARTICLES  # the retracted one's notice included
    # Every output, each once; only those that do not carry the site's name stay as they were.
    assets = {asset.key for asset in asset_outputs()}
    assert before - set(written) == {"robots.txt", "sitemap.xml", "sitemaps/2026-11.xml", *assets}
    assert len(written) == len(set(written))
    assert {page_key(created) for created in site_articles} <= set(written)
    feeds = [key for key in before if key.startswith("feeds/")]
    assert "feeds/archive/5.xml" in feeds and "feeds/tag/khoa-1/rss.xml" in feeds
    for key in [page_key(site_articles[0]), "index.html", *feeds]:
        assert "Cổng tin Ô Môn mới" in harness.site_object(key).decode(), key
    assert harness.site_status(page_key(site_articles[1])) == 410


def test_a_second_rebuild_writes_nothing(harness: Harness, site_articles: list[dict[str, Any]]) -> None:
    bucket_rebuild(Site.from_settings(get_settings()))
    written = site_puts(harness)

    summary = bucket_rebuild(Site.from_settings(get_settings()))

    assert written == []
    assert summary.written == 0 and summary.outputs > ARTICLES


def test_an_interrupted_rebuild_resumes_and_renders_each_remaining_shard_exactly_once(
    harness: Harness, site_articles: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[int] = []
    real_render = rebuild_logic.render_shard

    def counting(plan: Any, shard: Any, *args: Any) -> ShardResult:
        rendered.append(shard.number)
        return real_render(plan, shard, *args)

    monkeypatch.setattr(rebuild_logic, "render_shard", counting)

    def interrupt_after_two(result: ShardResult) -> None:
        if len(rendered) == 2:
            raise Interrupted

    site = renamed_site("Cổng tin Ô Môn: bản tiếp tục")
    with pytest.raises(Interrupted):
        bucket_rebuild(site, on_shard=interrupt_after_two)
    assert rendered == [0, 1]
    untouched = page_key(site_articles[4])
    assert "bản tiếp tục" not in harness.site_object(untouched).decode()
    written = site_puts(harness)

    summary = bucket_rebuild(site)

    assert rendered == [0, 1, 2, 3, 4]
    assert summary.resumed == 2 and summary.articles == ARTICLES
    article_pages = {page_key(created) for created in site_articles}
    assert sorted(key for key in written if key in article_pages) == sorted(
        page_key(created) for created in site_articles[2:]
    )
    assert "bản tiếp tục" in harness.site_object(untouched).decode()
    # Finished: the next run plans anew instead of resuming.
    assert TableCheckpoint(get_storage()).load() is None


def test_restart_starts_over_instead_of_resuming(
    harness: Harness, site_articles: list[dict[str, Any]]
) -> None:
    storage = get_storage()

    def interrupt(result: ShardResult) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        bucket_rebuild(renamed_site("Cổng tin Ô Môn: làm lại"), on_shard=interrupt)
    assert TableCheckpoint(storage).load() is not None

    summary = bucket_rebuild(renamed_site("Cổng tin Ô Môn: làm lại"), restart=True)

    assert summary.resumed == 0 and summary.articles == ARTICLES


def test_out_directory_holds_the_same_bytes_as_the_site_bucket(
    harness: Harness, site_articles: list[dict[str, Any]], tmp_path: Path
) -> None:
    storage = get_storage()
    site = Site.from_settings(get_settings())
    bucket_rebuild(site)
    out = tmp_path / "site"

    summary = drive_rebuild(storage, site, DirectorySink(out), FileCheckpoint(out), shard_size=1)

    files = {str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()}
    assert files == harness.site_keys()
    for key in files:
        assert (out / key).read_bytes() == harness.site_object(key), key
    assert summary.outputs == len(files)
    assert not (out / rebuild_logic.CHECKPOINT_FILE).exists()


def test_an_interrupted_directory_rebuild_resumes_from_its_checkpoint_file(
    harness: Harness, site_articles: list[dict[str, Any]], tmp_path: Path
) -> None:
    storage = get_storage()
    site = Site.from_settings(get_settings())

    def interrupt(result: ShardResult) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        drive_rebuild(
            storage, site, DirectorySink(tmp_path), FileCheckpoint(tmp_path), shard_size=1, on_shard=interrupt
        )
    saved = json.loads((tmp_path / rebuild_logic.CHECKPOINT_FILE).read_text(encoding="utf-8"))
    assert list(saved["done"]) == ["0"]

    summary = drive_rebuild(storage, site, DirectorySink(tmp_path), FileCheckpoint(tmp_path), shard_size=1)

    assert summary.resumed == 1 and summary.articles == ARTICLES


def test_the_worker_handler_starts_a_rebuild_and_renders_every_shard_from_the_queue(
    harness: Harness, site_articles: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.handlers import rebuilder
    from infra.local.lambda_runtime import invoke

    monkeypatch.setattr(rebuild_logic, "SHARD_SIZE", 2)
    monkeypatch.setattr(Site, "from_settings", classmethod(lambda cls, settings: renamed_site_of(settings)))
    get_storage().forget_site_outputs()
    written = site_puts(harness)

    started = invoke(rebuilder.lambda_handler, "RebuildWorkerFunction", {"start": True})
    assert started["shards"] == 3 and started["enqueued"] == 3
    poller = QueuePoller(
        harness.sqs,
        harness.name("RebuildQueue"),
        rebuilder.lambda_handler,
        "RebuildWorkerFunction",
        batch_size=1,
    )
    while poller.poll_once():
        pass

    assert {page_key(created) for created in site_articles} <= set(written)
    assert "Cổng tin Ô Môn: qua hàng đợi" in harness.site_object("feeds/atom.xml").decode()
    assert TableCheckpoint(get_storage()).load() is None  # the last shard finished it
    assert get_storage().get_rebuild("site")[2] is True  # type: ignore[index]


_from_settings = Site.from_settings


def renamed_site_of(settings: Any) -> Site:
    return _from_settings(settings).model_copy(update={"name": "Cổng tin Ô Môn: qua hàng đợi"})


@pytest.mark.e2e
def test_presswire_rebuild_renders_the_running_local_site_into_a_directory_and_prints_one_line(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT
    from tests.e2e.conftest import start_stack

    stack = start_stack(tmp_path / "state")
    out = tmp_path / "out"
    try:
        command = [sys.executable, "-m", "infra.cli", "rebuild", "--state-dir", str(tmp_path / "state")]
        to_directory = subprocess.run(
            [*command, "--out", str(out), "--workers", "2"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        to_bucket = subprocess.run(
            command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
        )
    finally:
        stack.stop()

    assert to_directory.returncode == 0, to_directory.stderr
    assert to_directory.stdout.splitlines() == [to_directory.stdout.strip()]
    assert to_directory.stdout.startswith("rebuilt 0 articles in 0 shards: 2 pages")
    assert (out / "index.html").is_file() and (out / "feeds" / "atom.xml").is_file()
    assert to_bucket.returncode == 0, to_bucket.stderr
    assert "0 written" in to_bucket.stdout  # the stack's publisher wrote the same bytes already
