import unicodedata

import pytest

from functions.text import clean_line, clean_text, strip_xml_illegal


def test_nfd_input_becomes_nfc():
    nfd = unicodedata.normalize("NFD", "Tập huấn Đảng bộ")
    assert nfd != "Tập huấn Đảng bộ"
    assert clean_text(nfd) == "Tập huấn Đảng bộ"
    assert unicodedata.is_normalized("NFC", clean_text(nfd))


@pytest.mark.parametrize("control", ["\x00", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff", "\ud800"])
def test_xml_illegal_characters_are_removed(control):
    assert clean_text(f"a{control}b") == "ab"


def test_vertical_tab_and_nul_are_removed():
    assert clean_text("Ô\x0bMôn\x00") == "ÔMôn"


def test_tab_newline_and_carriage_return_are_kept():
    assert clean_text("a\tb\nc\rd") == "a\tb\nc\rd"


def test_emoji_and_other_astral_characters_survive():
    text = "Chúc mừng 🎉👨‍👩‍👧 𝔸 𠀀"
    assert clean_text(text) == text


def test_clean_text_is_idempotent():
    messy = unicodedata.normalize("NFD", "Ô Môn\x0b 🎉\x00 Đảng")
    once = clean_text(messy)
    assert clean_text(once) == once


# --- what clean_text removes beyond XML's rules, and what it keeps (see normalize.py) ----------


@pytest.mark.parametrize("invisible", ["\x7f", "\x80", "\x85", "\x92", "\x9f"])
def test_delete_and_c1_controls_are_removed(invisible):
    assert clean_text(f"a{invisible}b") == "ab"


@pytest.mark.parametrize("noncharacter", ["\ufdd0", "\ufdef", "\U0001fffe", "\U0001ffff", "\U0010ffff"])
def test_noncharacters_are_removed(noncharacter):
    assert clean_text(f"a{noncharacter}b") == "ab"


def test_a_byte_order_mark_inside_text_is_removed():
    assert clean_text("\ufeffÔ\ufeffMôn") == "ÔMôn"


@pytest.mark.parametrize("control", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e"])
def test_bidi_embeddings_and_overrides_are_removed_everywhere(control):
    assert clean_text(f"{control}gpj.exe") == "gpj.exe"
    assert clean_line(f"{control}gpj.exe") == "gpj.exe"


@pytest.mark.parametrize(
    "kept", ["\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c", "\u200b"]
)
def test_prose_keeps_bidi_isolates_marks_and_zero_width_spaces(kept):
    assert clean_text(f"a{kept}b") == f"a{kept}b"


@pytest.mark.parametrize(
    "removed",
    ["\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c", "\u200b", "\u2060", "\u180e"],
)
def test_single_line_text_drops_every_bidi_control_and_invisible_separator(removed):
    assert clean_line(f"Ô{removed}Môn") == "ÔMôn"


def test_joiners_are_kept_everywhere_for_emoji_and_orthography():
    text = "👩\u200d👩\u200d👧 می\u200cخواهم"
    assert clean_text(text) == text
    assert clean_line(text) == text


def test_single_line_text_folds_line_breaks_and_space_runs_and_is_trimmed():
    assert clean_line("  Ô Môn\r\n\ttập   huấn\u2028 2023\n") == "Ô Môn tập huấn 2023"


def test_single_line_text_is_nfc():
    assert clean_line(unicodedata.normalize("NFD", "Tập huấn Đảng bộ")) == "Tập huấn Đảng bộ"


def test_astral_characters_are_not_compatibility_normalized():
    assert clean_text("𝕍 🇻🇳") == "𝕍 🇻🇳"
    assert clean_line("𝕍 🇻🇳") == "𝕍 🇻🇳"


def test_a_removed_character_between_a_letter_and_its_mark_still_gives_nfc_in_one_pass():
    for messy in ("e\u202a\u0301", "e\x0b\u0301", "e\x85\u0301"):
        assert clean_text(messy) == "é"
        assert clean_text(clean_text(messy)) == clean_text(messy)
    assert clean_line("e\u200b\u0301") == "é"


def test_clean_line_is_idempotent():
    messy = unicodedata.normalize("NFD", " Ô\u202eMôn\u200b\u2067x\u2069\n 🎉\x00 Đảng ")
    once = clean_line(messy)
    assert clean_line(once) == once


def test_strip_xml_illegal_removes_only_what_xml_forbids_and_never_normalizes():
    # For serialized markup: NFC would compose ">" + U+0338 into "≯" and eat the tag's end.
    markup = "<em>\u0338 x\x0b\u202e</em>"
    assert strip_xml_illegal(markup) == "<em>\u0338 x\u202e</em>"
