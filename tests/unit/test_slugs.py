import unicodedata

import pytest

from functions.text import slugify, unique_slug

SEED_TITLE = "Ô Môn: tập huấn nghiệp vụ công tác Mặt trận năm 2023"
SEED_SLUG = "o-mon-tap-huan-nghiep-vu-cong-tac-mat-tran-nam-2023"


def test_seed_title_gives_exact_slug():
    assert slugify(SEED_TITLE) == SEED_SLUG


def test_nfd_title_gives_same_slug_as_nfc():
    nfd = unicodedata.normalize("NFD", SEED_TITLE)
    assert nfd != SEED_TITLE
    assert slugify(nfd) == SEED_SLUG


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Đảng bộ", "dang-bo"),
        ("đường Đồng Khởi", "duong-dong-khoi"),
        ("ĐẢNG BỘ", "dang-bo"),
        ("Ðảng", "dang"),  # U+00D0 look-alike pasted for Đ
    ],
)
def test_stroked_d_becomes_d_not_dj(title, expected):
    assert slugify(title) == expected


def test_nfd_stroked_d_with_tone_marks_becomes_d():
    assert slugify(unicodedata.normalize("NFD", "Đảng bộ đồng")) == "dang-bo-dong"


def test_slug_is_lowercase_ascii_hyphen_separated_with_tone_marks_removed():
    slug = slugify("  Cần Thơ — Hội nghị   “Mặt trận” 10-12/5  ")
    assert slug == "can-tho-hoi-nghi-mat-tran-10-12-5"
    assert slug.isascii()


@pytest.mark.parametrize("title", ["!!!", "😀🎉", "   ", "", "— … ·"])
def test_title_with_nothing_sluggable_returns_empty_string(title):
    assert slugify(title) == ""


def test_emoji_are_dropped_but_words_kept():
    assert slugify("Tết 🎉 vui") == "tet-vui"


def test_truncation_cuts_at_word_boundary_without_trailing_hyphen():
    assert slugify(SEED_TITLE, max_length=20) == "o-mon-tap-huan"
    assert slugify(SEED_TITLE, max_length=21) == "o-mon-tap-huan-nghiep"
    for length in range(1, len(SEED_SLUG) + 2):
        slug = slugify(SEED_TITLE, max_length=length)
        assert len(slug) <= length
        assert not slug.endswith("-")
        assert not slug.startswith("-")
        assert SEED_SLUG.startswith(slug)


def test_truncation_keeps_words_in_order_instead_of_skipping_long_ones():
    # python-slugify's own word_boundary mode would give "o-mon-tap-huan-vu" here.
    assert slugify(SEED_TITLE, max_length=17) == "o-mon-tap-huan"


def test_single_overlong_word_is_cut_hard():
    assert slugify("a" * 100, max_length=10) == "a" * 10


def test_default_max_length_is_80():
    slug = slugify("tin " * 50)
    assert len(slug) <= 80
    assert slug.endswith("tin")


def test_max_length_below_one_is_rejected():
    with pytest.raises(ValueError, match="max_length"):
        slugify("abc", max_length=0)


def test_unique_slug_first_attempt_is_base():
    assert unique_slug(SEED_SLUG, 0) == SEED_SLUG


def test_unique_slug_clashes_get_suffixes_starting_at_2():
    assert [unique_slug("dang-bo", attempt) for attempt in range(1, 4)] == [
        "dang-bo-2",
        "dang-bo-3",
        "dang-bo-4",
    ]


def test_unique_slug_stays_within_max_length_by_shortening_base_at_word_boundary():
    assert unique_slug(SEED_SLUG, 1, max_length=20) == "o-mon-tap-huan-2"
    assert unique_slug(SEED_SLUG, 99, max_length=20) == "o-mon-tap-huan-100"
    long_base = slugify("tin " * 50)
    for attempt in (0, 1, 9, 99, 999):
        slug = unique_slug(long_base, attempt)
        assert len(slug) <= 80
        assert "--" not in slug


def test_unique_slug_of_empty_base_is_just_the_number():
    assert unique_slug("", 1) == "2"


def test_unique_slug_rejects_negative_attempt():
    with pytest.raises(ValueError, match="attempt"):
        unique_slug("x", -1)


@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u2060"])
def test_invisible_characters_are_removed_from_slugs_not_read_as_word_breaks(invisible):
    # "Ô\u200bMôn" shows as "ÔMôn": the slug follows what readers see.
    assert slugify(f"Ô{invisible}Môn") == "omon"


@pytest.mark.parametrize("control", ["\u202e", "\u2067", "\u200f"])
def test_bidi_controls_do_not_change_a_slug(control):
    assert slugify(f"{control}Ô Môn{control}") == "o-mon"
