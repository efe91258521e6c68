"""Unicode hygiene for every piece of text that enters the system.

Two strengths, chosen by what the text is:

- ``clean_text`` for everything, prose included (bodies, summaries, captions, correction notes,
  retraction reasons): NFC, and no character that XML cannot carry or that has no business in
  published text.
- ``clean_line`` for single-line plain text that is shown inline next to other text (titles,
  author, section and tag names, image alt text and credits): ``clean_text`` plus no bidi
  controls or invisible separators at all, and one line.

``strip_xml_illegal`` is for serialized markup, which must never be NFC-normalized as a whole
(see its docstring).

What happens to each class of invisible character, and why:

- C0 controls other than tab, LF and CR, lone surrogates, U+FFFE/U+FFFF: removed everywhere.
  XML 1.0 forbids them (lxml refuses them, so one pasted \\x0b would break a feed).
- DEL and the C1 controls (U+007F-U+009F): removed everywhere. Legal in XML 1.0 but discouraged
  there and parse errors in HTML; in pasted text they are cp1252 mojibake, never meaning.
- Noncharacters (U+FDD0-U+FDEF, and the last two code points of every plane): removed
  everywhere. Unicode reserves them for process-internal use, never interchange.
- U+FEFF (BOM / zero width no-break space): removed everywhere. Mid-text it is an artefact of
  concatenated files; U+2060 WORD JOINER took over its joining role.
- Bidi embeddings and overrides (U+202A-U+202E): removed everywhere. An override reorders the
  characters it covers ("Trojan Source" spoofing: "gpj.exe" shown as "exe.jpg") and an unclosed
  embedding or override leaks into whatever text follows; news text has no use for them, and
  isolates (below) are Unicode's replacement for embeddings.
- Bidi isolates (U+2066-U+2069) and marks (U+200E LRM, U+200F RLM, U+061C ALM): kept in prose,
  where mixed-direction text (an Arabic or Hebrew name in a Vietnamese sentence) needs them, and
  where each field is rendered as a paragraph of its own, so an unclosed isolate ends with it.
  Removed from single-line text, which is shown inline before other text (a page's <title> is
  "title - site name", listings read "Section: name"): there an unclosed isolate or a stray mark
  would change how the text after it is ordered.
- U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER, U+180E MONGOLIAN VOWEL SEPARATOR: kept in prose
  (line-break hints in scripts written without spaces), removed from single-line text and so
  from slugs: there they only make two names that look the same differ ("Ô Môn" and
  "Ô\\u200bMôn" as two tags), and a slug must follow what the reader sees.
- U+200D ZERO WIDTH JOINER and U+200C ZERO WIDTH NON-JOINER: kept everywhere. Emoji sequences
  (👩‍👩‍👧) are built with ZWJ, and Persian and Indic orthography needs both.
- Emoji, astral-plane characters (𝕍, 🇻🇳), variation selectors and tag characters (which spell
  subdivision flags): kept byte-exact. NFC leaves them alone; NFKC would not (𝕍 -> V), which is
  why compatibility normalization is never used.
"""

from __future__ import annotations

import re
import unicodedata

# Characters XML 1.0 forbids (lxml refuses them, so one pasted \x0b would break a feed):
# C0 controls other than tab, LF and CR, lone surrogates, and the non-characters U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_ASTRAL_NONCHARACTERS = "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17)
)
# What clean_text removes beyond _XML_ILLEGAL (the reasons are in the module docstring).
_UNWANTED = re.compile("[\x7f-\x9f\ufdd0-\ufdef\ufeff\u202a-\u202e" + re.escape(_ASTRAL_NONCHARACTERS) + "]")
# What clean_line removes beyond clean_text: the remaining bidi controls and invisible separators.
_NOT_INLINE = re.compile("[\u061c\u180e\u200b\u200e\u200f\u2060\u2066-\u2069]")
# Line breaks, tabs and runs of spaces become one space in single-line text.
_LINE_SPACE = re.compile("[ \t\n\r\u2028\u2029]+")


def clean_text(value: str) -> str:
    """Drop characters that XML cannot carry or published text should not, then NFC. Idempotent."""
    # Removal comes first: a removed character may have stood between a letter and its combining
    # mark, and normalizing afterwards composes them, so a second pass finds nothing to change.
    return unicodedata.normalize("NFC", _UNWANTED.sub("", strip_xml_illegal(value)))


def clean_line(value: str) -> str:
    """``clean_text`` for single-line plain text: also no bidi controls, no invisible separators,
    line breaks and runs of spaces folded into one space, no surrounding spaces. Idempotent."""
    kept = _NOT_INLINE.sub("", _UNWANTED.sub("", strip_xml_illegal(value)))
    return unicodedata.normalize("NFC", _LINE_SPACE.sub(" ", kept)).strip()


def strip_xml_illegal(value: str) -> str:
    """Drop the characters XML 1.0 forbids, and nothing else.

    For serialized HTML, which may be escaped into XML but must not be NFC-normalized as a whole:
    NFC composes ">" followed by U+0338 into "≯", so a tag's closing ">" would vanish and the text
    after it would become attributes (``<em>&#x338; onmouseover=...`` would turn into an element
    with an event handler). Markup is normalized text node by text node (functions.text.html).
    """
    return _XML_ILLEGAL.sub("", value)
