"""One 50-entry feed set (RSS + Atom + JSON Feed) as the publisher renders it, against feedgen alone.

The entries are 50 articles made from the seed article (`examples/seed/seed-article.json`:
Vietnamese text, two images with captions, three tags plus one of five others), each with its
own id, title, summary, body and image URLs, its body sanitized as a submit leaves it.

- presswire: `functions.render.feed_set.render_feed_set`, which the publisher calls for every
  listing (here the site's feeds, with the head's RFC 5005 prev-archive link), cold (its render
  caches emptied first) and warm (one new article on top of 49 rendered before).
- baseline: the same 50 entries with the same fields handed to one feedgen `FeedGenerator`
  (its media and dc extensions loaded), `rss_str` + `atom_str` (pretty-printed, as ours are), and
  the same JSON Feed document built as a plain dict and passed to `json.dumps`: what calling the
  libraries directly costs, with none of presswire's hygiene (clean_text, URI escaping, Atom link
  repair, WebSub hubs).

The three are interleaved (order alternating per round) so drift on a shared machine hits them
alike; each ratio is the median of per-round ratios. `--profile` prints a cProfile of cold renders.

    .venv/bin/python bench/feed_regeneration.py [--runs 15] [--repeat 5] [--profile] [--write-docs]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, machine, median, table, today
from _section import write_own_section

SEED = REPO / "examples" / "seed" / "seed-article.json"
ENTRIES = 50
IMAGE_SIZES = {"quang-canh-lop-tap-huan.jpg": 40633, "ba-nguyen-thuy-hang.jpg": 39678}
EXTRA_TAGS = ("Cần Thơ", "Đại hội", "Đoàn kết", "An sinh xã hội", "Chuyển đổi số")


def load_site_and_articles() -> tuple[Any, list[Any]]:
    """The seed customer's site (as the unit tests build it) and 50 published variants of the seed."""
    from functions.logic.content import taxon
    from functions.models.article import Article, Image
    from functions.models.site import Site
    from functions.text import slugify
    from functions.text.html import sanitize_html

    seed = json.loads(SEED.read_text(encoding="utf-8"))
    site = Site(
        name="Cổng thông tin quận Ô Môn",
        description="Tin tức Ủy ban Mặt trận Tổ quốc Việt Nam quận Ô Môn",
        url="https://news.example.vn",
        banner="THI ĐUA LẬP THÀNH TÍCH CHÀO MỪNG ĐẠI HỘI MẶT TRẬN TỔ QUỐC VIỆT NAM",
        language="vi",
        timezone="Asia/Ho_Chi_Minh",
        tag_authority="news.example.vn",
        feed_size=ENTRIES,
        websub_hubs=("https://pubsubhubbub.appspot.com/",),
    )
    start = datetime.fromisoformat(seed["published_at"]).astimezone(UTC)
    articles = []
    for number in range(ENTRIES):
        # Every article its own text and images (as a day's articles have), so nothing is
        # computed once for all 50; the section, the author and most tags are shared.
        when = start + timedelta(hours=3 * number)
        title = f"{seed['title']} (kỳ {number + 1})"
        slug = slugify(title)
        folder = f"/media/{number:04d}"
        body = seed["body"] + f"\n<p>Kỳ {number + 1}: {seed['summary']}</p>"
        for name in IMAGE_SIZES:
            body = body.replace(f'src="media/{name}"', f'src="{folder}/{name}"')
        images = [
            Image(src=f"{folder}/{name}", content_type="image/jpeg", length=length, caption=caption)
            for (name, length), caption in zip(
                IMAGE_SIZES.items(),
                ("Quang cảnh lớp tập huấn", "Bà Nguyễn Thúy Hằng báo cáo tại lớp tập huấn"),
                strict=True,
            )
        ]
        tags = [*seed["tags"], EXTRA_TAGS[number % len(EXTRA_TAGS)]]
        articles.append(
            Article(
                id=f"00000000-0000-4000-8000-{number:012d}",
                slug=slug,
                path=f"/{when.astimezone(site.zone):%Y/%m/%d}/{slug}/",
                title=title,
                summary=f"Kỳ {number + 1}. {seed['summary']}",
                author=taxon(seed["author"]),
                section=taxon(seed["section"]),
                tags=[taxon(tag) for tag in tags],
                language=seed["language"],
                status="published",
                published_at=when,
                created_at=when,
                updated_at=when + timedelta(minutes=number % 7),
                body=body,
                body_format="html",
                body_html=sanitize_html(body),
                images=images,
                image=images[0],
                sequence=number + 1,
            )
        )
    articles.reverse()  # newest first, as the listing query hands them over
    return site, articles


def feedgen_alone(site: Any, articles: list[Any]) -> Callable[[], int]:
    from feedgen.feed import FeedGenerator

    def absolute(path: str) -> str:
        return site.url + path

    def run() -> int:
        fg = FeedGenerator()
        fg.load_extension("media", atom=True, rss=True)
        fg.load_extension("dc", atom=False, rss=True)
        fg.id(f"tag:{site.tag_authority},2000:feed")
        fg.title(site.name)
        fg.subtitle(site.description)
        fg.language(site.language)
        fg.generator("presswire")
        fg.author(name=site.name)
        updated = max(article.updated_at for article in articles).astimezone(site.zone)
        fg.updated(updated)
        fg.pubDate(updated)
        fg.link(href=absolute("/feeds/atom.xml"), rel="self", type="application/atom+xml")
        fg.link(href=absolute("/"), rel="alternate", type="text/html")
        items = []
        for article in articles:
            published = article.published_at.astimezone(site.zone)
            modified = article.updated_at.astimezone(site.zone)
            guid = f"tag:{site.tag_authority},{published.date().isoformat()}:{article.id}"
            url = absolute(article.path)
            fe = fg.add_entry(order="append")
            fe.id(guid)
            fe.title(article.title)
            fe.published(published)
            fe.updated(modified)
            fe.summary(article.summary)
            fe.description(article.summary)
            fe.content(article.body_html, type="html")
            fe.author(name=article.author.name)
            fe.dc.dc_creator(article.author.name)
            for taxon in (article.section, *article.tags):
                fe.category(term=taxon.slug, label=taxon.name)
            lead = article.image
            fe.link(
                [
                    {"href": url, "rel": "alternate", "type": "text/html"},
                    {
                        "href": absolute(lead.src),
                        "rel": "enclosure",
                        "type": lead.content_type,
                        "length": str(lead.length),
                    },
                ]
            )
            for image in article.images:
                fe.media.content(
                    {"url": absolute(image.src), "medium": "image", "type": image.content_type}, group=None
                )
            items.append(
                {
                    "id": guid,
                    "url": url,
                    "title": article.title,
                    "content_html": article.body_html,
                    "summary": article.summary,
                    "image": absolute(lead.src),
                    "date_published": published.isoformat(),
                    "date_modified": modified.isoformat(),
                    "authors": [{"name": article.author.name}],
                    "tags": [taxon.name for taxon in (article.section, *article.tags)],
                    "attachments": [
                        {"url": absolute(image.src), "mime_type": image.content_type, "title": image.caption}
                        for image in article.images
                    ],
                }
            )
        rss = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
        atom = fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
        document = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": site.name,
            "home_page_url": absolute("/"),
            "feed_url": absolute("/feeds/feed.json"),
            "description": site.description,
            "language": site.language,
            "items": items,
        }
        json_feed = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        return len(rss) + len(atom) + len(json_feed)

    return run


def fresh_article(newest: Any, number: int) -> Any:
    """A new article on top of the listing, with text and images of its own (new strings)."""
    when = newest.published_at + timedelta(hours=1)
    folder = f"/media/new-{number:05d}"
    images = [
        image.model_copy(update={"src": f"{folder}/{image.src.rsplit('/', 1)[1]}"}) for image in newest.images
    ]
    return newest.model_copy(
        update={
            "id": f"10000000-0000-4000-8000-{number:012d}",
            "title": f"Tin mới số {number}: {newest.title}",
            "summary": f"Tin mới số {number}. {newest.summary}",
            "body_html": newest.body_html.replace("/media/", f"/media/new-{number:05d}-")
            + f"<p>{number}</p>",
            "path": f"/{when:%Y/%m/%d}/tin-moi-so-{number}/",
            "published_at": when,
            "updated_at": when,
            "images": images,
            "image": images[0],
        }
    )


Sample = tuple[float, float]  # (wall ms, CPU ms) of one call


def timed(function: Callable[[], object], before: Callable[[], object] = lambda: None) -> Sample:
    before()  # not timed
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def mean(samples: list[Sample]) -> Sample:
    return sum(s[0] for s in samples) / len(samples), sum(s[1] for s in samples) / len(samples)


def measure(runs: int, repeat: int) -> dict[str, Any]:
    """Per round, in alternating order: presswire cold (render caches cleared before each render:
    a fresh container, or 50 articles it never rendered), presswire warm (the listing again with
    one new article on top, the others' text cached from the renders before: a warm publisher's
    next publish) and the baseline on the same 50 articles. Each sample is the mean of `repeat`
    calls."""
    from functions.models.feeds import SITE_FEED, ArchiveLinks
    from functions.models.paths import archive_path
    from functions.render.feed_set import render_feed_set
    from functions.render.feeds import clear_caches

    site, articles = load_site_and_articles()
    head = ArchiveLinks(prev_archive=archive_path(3))
    baseline = feedgen_alone(site, articles)
    sizes = {
        "presswire": sum(len(body) for body in render_feed_set(articles, site, SITE_FEED, head).values()),
        "baseline": baseline(),  # also the warm-up (imports, lazily built state)
    }
    counter = iter(range(1, 1_000_000))

    def cold() -> Sample:
        return mean(
            [
                timed(lambda: render_feed_set(articles, site, SITE_FEED, head), clear_caches)
                for _ in range(repeat)
            ]
        )

    def warm() -> Sample:
        samples = []
        for _ in range(repeat):
            listing = [fresh_article(articles[0], next(counter)), *articles[:-1]]
            render_feed_set(articles, site, SITE_FEED, head)  # the cache as the last publish left it
            samples.append(timed(lambda listing=listing: render_feed_set(listing, site, SITE_FEED, head)))
        return mean(samples)

    def base() -> Sample:
        return mean([timed(baseline) for _ in range(repeat)])

    modes = {"cold": cold, "warm": warm, "baseline": base}
    samples: dict[str, list[Sample]] = {mode: [] for mode in modes}
    ratios: dict[str, list[Sample]] = {"cold": [], "warm": []}
    for round_index in range(runs):
        order = list(modes) if round_index % 2 == 0 else list(reversed(modes))
        this_round = {mode: modes[mode]() for mode in order}
        for mode, sample in this_round.items():
            samples[mode].append(sample)
        for mode in ratios:
            ratios[mode].append(
                (
                    this_round[mode][0] / this_round["baseline"][0],
                    this_round[mode][1] / this_round["baseline"][1],
                )
            )
    return {"samples": samples, "ratios": ratios, "sizes": sizes}


def profile(repeat: int, top: int = 25) -> str:
    from functions.models.feeds import SITE_FEED, ArchiveLinks
    from functions.models.paths import archive_path
    from functions.render.feed_set import render_feed_set
    from functions.render.feeds import clear_caches

    site, articles = load_site_and_articles()
    head = ArchiveLinks(prev_archive=archive_path(3))
    render_feed_set(articles, site, SITE_FEED, head)
    profiler = cProfile.Profile()
    for _ in range(repeat):
        clear_caches()
        profiler.enable()
        render_feed_set(articles, site, SITE_FEED, head)
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def render(result: dict[str, Any], runs: int, repeat: int, load: str) -> str:
    samples, ratios, sizes = result["samples"], result["ratios"], result["sizes"]
    rows = []
    for mode, description in (
        ("cold", "presswire, cold: `render_feed_set`, render caches empty"),
        ("warm", "presswire, warm: the same with 1 new article, 49 rendered before"),
        ("baseline", "baseline: feedgen alone (`rss_str` + `atom_str`) + `json.dumps`"),
    ):
        walls = [sample[0] for sample in samples[mode]]
        cpus = [sample[1] for sample in samples[mode]]
        ratio = (
            f"{median([r[0] for r in ratios[mode]]):.2f}x / {median([r[1] for r in ratios[mode]]):.2f}x"
            if mode in ratios
            else "1 (reference)"
        )
        size = sizes["baseline" if mode == "baseline" else "presswire"]
        rows.append(
            [
                description,
                f"{median(walls):.1f}",
                f"{min(walls):.1f}",
                f"{max(walls):.1f}",
                f"{median(cpus):.1f}",
                ratio,
                f"{size / 1024:.0f}",
            ]
        )
    cold_wall = median([r[0] for r in ratios["cold"]])
    warm_wall = median([r[0] for r in ratios["warm"]])
    lines = [
        "## Feed regeneration (one 50-entry feed set)",
        "",
        "`.venv/bin/python bench/feed_regeneration.py [--runs 15] [--repeat 5] [--profile] [--write-docs]`",
        "",
        f"Measured {today()} on {machine()}; load average at the start {load}",
        "(other engineers' test runs share the 2 CPUs: CPU time is shown beside wall time, as it",
        "suffers less from waiting for a CPU).",
        f"{ENTRIES} articles made from the seed article (Vietnamese text and names, 2 images with",
        "captions, 4 tags of which 3 shared), each with text and image URLs of its own. presswire",
        "renders the site's RSS, Atom (with its RFC 5005 prev-archive link) and JSON Feed as the",
        "publisher does (`functions.render.feed_set.render_feed_set`); the baseline hands the same",
        "entries and fields to one feedgen `FeedGenerator` (`rss_str` + `atom_str`, pretty-printed)",
        "and the JSON Feed dict to `json.dumps(indent=2)`, with none of presswire's hygiene",
        "(clean_text on every text, URI escaping, absolute body URLs, Atom link repair, WebSub hubs).",
        "Cold: the render caches (cleaned text, URIs, feed bodies) are emptied before each render.",
        "Warm: what a warm publisher does at the next publish of the listing: one new article on",
        f"top, the other 49 rendered before. {runs} rounds, the three in alternating order; each",
        f"sample is the mean of {repeat} renders; ratios are medians of the per-round ratios.",
        "",
        table(
            [
                "feed set (RSS + Atom + JSON Feed)",
                "wall ms",
                "min",
                "max",
                "CPU ms",
                "ratio wall / CPU",
                "KiB",
            ],
            rows,
        ),
        "",
        f"**presswire / feedgen alone: cold {cold_wall:.2f}x, warm {warm_wall:.2f}x** (wall clock). "
        "Goal: within 1.5x.",
        "",
        "What changed (output bytes unchanged: every feed of tests/unit/test_feeds.py,",
        "test_feed_validity.py and test_hostile_input.py, and 4,434 feeds of varied and hostile",
        "articles rendered by the old and the new code compared byte for byte). The renderers before",
        "these changes measured 4.1x (CPU, cold, these 50 articles; a one-off run of this method",
        "on 2026-11-27). `--profile` showed where:",
        "",
        "- JSON Feed: `str.translate` with a dict escaped `<`, `>`, `&`, U+2028/9 of the 200 KB",
        "  document one character at a time (~40 ms a feed); now one `str.replace` per character.",
        "- Every article went through clean_text, URI escaping and the body's URL rewriting three",
        "  times (once per format), and RSS and Atom each built their own feedgen generator: now",
        "  `entry_fields` prepares each article once per feed set and one generator serves both.",
        "- `absolutize_urls`: one regex led by `\\s` made the engine try every position of a body;",
        "  now it finds each `=\"/` and looks back at the attribute's name (10x faster, the same",
        "  matches: fuzzed against the old pattern).",
        "- RSS and Atom were serialized by feedgen, parsed back by lxml and serialized again; now",
        "  feedgen's tree is finished and serialized once (archive pages, with their fh:/at:",
        "  extensions, keep the round trip).",
        "- Cleaned text, URIs and feed bodies are cached (bounded LRU, pure functions of strings):",
        "  the site's and each listing's feeds share most articles, publish after publish (warm).",
        "",
        "The largest cost left in a cold render that the baseline does not pay is clean_text (about",
        "a quarter of the render): its pattern",
        "`_UNWANTED` in functions/text/normalize.py lists the 32 astral noncharacters one by one,",
        "which makes `re` test each character against them; a separate astral pattern, applied",
        "only to text holding astral characters, gives the same results 2-3x faster (left to that",
        "module's owners).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="interleaved rounds (at least 5)")
    parser.add_argument("--repeat", type=int, default=5, help="renders per sample")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of presswire's set and exit")
    parser.add_argument("--write-docs", action="store_true", help="refresh docs/benchmarks.md")
    args = parser.parse_args(argv)
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    if args.profile:
        print(profile(args.repeat))
        return 0
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    runs = max(5, args.runs)
    result = measure(runs, max(1, args.repeat))
    section = render(result, runs, args.repeat, load)
    print(section)
    if args.write_docs:
        print(f"\nwrote {write_own_section('feed_regeneration', section)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
