"""URL slugs for titles, sections, tags and authors (Vietnamese-aware, ASCII only)."""

from __future__ import annotations

from slugify import slugify as _library_slugify

from functions.text.normalize import clean_line

DEFAULT_MAX_LENGTH = 80

# Transliteration tables disagree on the stroked d: some give "dj" (Serbo-Croatian), which would
# turn "Đảng" into "djang". Replacing it before transliteration pins the Vietnamese reading.
# U+00D0 (Icelandic eth) is included because it is visually identical and gets pasted for Đ.
_VIETNAMESE_REPLACEMENTS = [["đ", "d"], ["Đ", "D"], ["Ð", "D"]]


def slugify(value: str, max_length: int = DEFAULT_MAX_LENGTH) -> str:
    """Turn ``value`` into a lowercase ASCII, hyphen-separated slug of at most ``max_length`` chars.

    Tone marks are dropped and "đ"/"Đ" become "d"; NFC and NFD input give the same slug.
    Overlong slugs are cut at a word boundary (a single word longer than the limit is cut hard),
    never leaving a trailing hyphen.

    Returns ``""`` when nothing in ``value`` is sluggable (punctuation only, emoji only, blank):
    callers must substitute a fallback such as the article id.
    """
    if max_length < 1:
        raise ValueError("max_length must be at least 1")
    # NFC first so that an NFD "đ"-with-combining-marks sequence matches the replacement table.
    # clean_line, not clean_text: invisible characters (zero width space, BOM, word joiner, bidi
    # controls) are dropped rather than read as word breaks, so the slug follows what readers
    # see ("Ô\u200bMôn" reads "ÔMôn" and slugs "omon").
    text = clean_line(value)
    slug = _library_slugify(text, replacements=_VIETNAMESE_REPLACEMENTS, lowercase=True)
    return _truncate(slug, max_length)


def unique_slug(base: str, attempt: int, max_length: int = DEFAULT_MAX_LENGTH) -> str:
    """The slug to try on the ``attempt``-th clash: ``base``, then ``base-2``, ``base-3``...

    ``base`` is shortened (at a word boundary) so that the suffix never pushes the result past
    ``max_length``; numbering starts at 2 because "base-1" reads as a different title.
    """
    if attempt < 0:
        raise ValueError("attempt must not be negative")
    if attempt == 0:
        return _truncate(base, max_length)
    suffix = str(attempt + 1)
    room = max_length - len(suffix) - 1
    stem = _truncate(base, room) if room > 0 else ""
    return f"{stem}-{suffix}" if stem else suffix


def _truncate(slug: str, max_length: int) -> str:
    # python-slugify's own word-boundary truncation may drop words from the middle
    # ("o-mon-tap-huan-vu"), so cut here: keep a prefix and back off to the last hyphen.
    if len(slug) <= max_length:
        return slug.strip("-")
    head = slug[:max_length]
    if slug[max_length] != "-" and "-" in head:
        head = head.rsplit("-", 1)[0]
    return head.strip("-")
