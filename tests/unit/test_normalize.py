import unicodedata

import pytest

from functions.text import clean_text


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
