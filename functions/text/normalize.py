"""Unicode hygiene for every piece of text that enters the system."""

from __future__ import annotations

import re
import unicodedata

# Characters XML 1.0 forbids (lxml refuses them, so one pasted \x0b would break a feed):
# C0 controls other than tab, LF and CR, lone surrogates, and the non-characters U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: str) -> str:
    """NFC-normalize and drop characters that XML cannot carry. Idempotent."""
    return _XML_ILLEGAL.sub("", unicodedata.normalize("NFC", value))
