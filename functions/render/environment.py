"""The one Jinja2 environment for every page, and the filters its templates use."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from functions.models.paths import ListingKind, listing_month_path, listing_path
from functions.render.assets import asset_path

# parents[2] is the directory holding functions/; templates/ sits beside it both in the repo and
# in the Lambda artifact, so no configuration is needed to find it.
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

_VI_WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Spelled out rather than strftime("%B"), which follows the process locale.
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# Every interface string a page shows, in one place, so a template never hard-codes a language.
# Keys are looked up strictly: a missing translation is a KeyError at render time, not a blank.
STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        "correction": "Đính chính",
        "photo": "Ảnh",
        "retracted": "Bài viết đã bị gỡ bỏ",
        "retracted_on": "Gỡ bỏ lúc",
        "reason": "Lý do",
        "listing_section": "Chuyên mục",
        "listing_tag": "Thẻ",
        "listing_author": "Tác giả",
        "preview": "Bản xem trước — chưa xuất bản",
        "expires": "hết hạn",
        "not_found": "Không tìm thấy trang",
        "not_found_text": "Trang bạn tìm không tồn tại hoặc đã được chuyển đi.",
        "home_link": "Về trang chủ",
        "no_articles": "Chưa có bài viết.",
        "skip_to_content": "Bỏ qua, đến nội dung chính",
        "sections": "Chuyên mục",
        "home": "Trang chủ",
        "latest": "Tin mới nhất",
        "pages": "Trang",
        "older": "Bài cũ hơn",
        "newer": "Bài mới hơn",
        "updated": "Cập nhật",
        "related": "Tin cùng chuyên mục",
        "tags": "Thẻ",
        "follow": "Theo dõi",
    },
    "en": {
        "correction": "Correction",
        "photo": "Photo",
        "retracted": "This article has been retracted",
        "retracted_on": "Retracted on",
        "reason": "Reason",
        "listing_section": "Section",
        "listing_tag": "Tag",
        "listing_author": "Author",
        "preview": "Preview — not published",
        "expires": "expires",
        "not_found": "Page not found",
        "not_found_text": "The page you asked for does not exist or has moved.",
        "home_link": "Back to the home page",
        "no_articles": "No articles yet.",
        "skip_to_content": "Skip to main content",
        "sections": "Sections",
        "home": "Home",
        "latest": "Latest news",
        "pages": "Pages",
        "older": "Older articles",
        "newer": "Newer articles",
        "updated": "Updated",
        "related": "More from this section",
        "tags": "Tags",
        "follow": "Follow",
    },
}
DEFAULT_UI_LANGUAGE = "vi"


def ui_language(language: str) -> str:
    """The interface language for a BCP 47 tag: "vi-VN" -> "vi"; anything untranslated -> "vi"."""
    primary = language.split("-")[0].lower()
    return primary if primary in STRINGS else DEFAULT_UI_LANGUAGE


def translate(key: str, language: str) -> str:
    return STRINGS[ui_language(language)][key]


# The label that names a listing, for its page heading and its feeds' titles alike.
LISTING_LABELS: dict[ListingKind, str] = {
    "section": "listing_section",
    "tag": "listing_tag",
    "author": "listing_author",
}


def listing_heading(kind: ListingKind, name: str, language: str) -> str:
    """What a section, tag or author listing is called: "Chuyên mục: Thể thao", "Tag: Sport"."""
    if kind not in LISTING_LABELS:
        raise ValueError(f"no listing heading for kind {kind!r}")
    return f"{translate(LISTING_LABELS[kind], language)}: {name}"


@pass_context
def _t(context: Context, key: str) -> str:
    # The site's language, not the article's: the chrome around an English article on a
    # Vietnamese site stays Vietnamese, like the rest of the site.
    return translate(key, context["site"].language)


def _in_zone(value: datetime, timezone: str) -> datetime:
    # A naive datetime has no instant: guessing a zone would silently shift times by hours.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing to render a naive datetime: {value!r}")
    return value.astimezone(ZoneInfo(timezone))


def _gmt_label(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"GMT{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_datetime(value: datetime, timezone: str, language: str = "vi") -> str:
    """Reader-facing date and time in the site's zone, e.g. "Thứ Tư, 10/05/2023, 16:30 (GMT+7)"."""
    local = _in_zone(value, timezone)
    gmt = _gmt_label(local.utcoffset())
    if language.split("-")[0].lower() == "vi":
        return f"{_VI_WEEKDAYS[local.weekday()]}, {local:%d/%m/%Y}, {local:%H:%M} ({gmt})"
    return (
        f"{_EN_WEEKDAYS[local.weekday()]}, {local.day} {_EN_MONTHS[local.month - 1]} {local.year}, "
        f"{local:%H:%M} ({gmt})"
    )


def month_label(month: tuple[int, int], language: str) -> str:
    """A calendar month as readers write it: "Tháng 5/2023", "May 2023"."""
    year, number = month
    if ui_language(language) == "vi":
        return f"Tháng {number}/{year}"
    return f"{_EN_MONTHS[number - 1]} {year}"


def count_label(count: int, language: str) -> str:
    """How many articles, grouped as the locale writes numbers: "1.234 bài viết", "1,234 articles"."""
    grouped = f"{count:,}"
    if ui_language(language) == "vi":
        return f"{grouped.replace(',', '.')} bài viết"
    return f"{grouped} article" + ("" if count == 1 else "s")


def local_date(value: datetime, timezone: str) -> str:
    """The short dd/mm/yyyy form used in listings."""
    return f"{_in_zone(value, timezone):%d/%m/%Y}"


def iso(value: datetime, timezone: str) -> str:
    """Machine-readable time (for <time datetime> and meta tags) with the site's offset."""
    return _in_zone(value, timezone).isoformat(timespec="seconds")


def register_filters(env: Environment) -> None:
    """Every filter and global the templates may use, registered in one place (as Pelican does)."""
    env.filters["local_datetime"] = local_datetime
    env.filters["local_date"] = local_date
    env.filters["iso"] = iso
    env.filters["month_label"] = month_label
    env.filters["count_label"] = count_label
    env.globals["t"] = _t
    env.globals["listing_path"] = listing_path
    env.globals["listing_month_path"] = listing_month_path
    env.globals["asset"] = asset_path


@cache
def get_environment() -> Environment:
    """The process-wide environment; compiled templates are cached on it across invocations."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates never change inside a deployed function; skip the per-render stat() calls.
        auto_reload=False,
    )
    register_filters(env)
    return env
