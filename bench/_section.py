"""Write one benchmark's section of docs/benchmarks.md and nothing else.

`_common.write_section` also rewrites the file's header (machine line, date, the list of
commands); the benchmarks that use this module document their command in their own section, so
that their runs leave every other part of the file as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

from _common import DOCS


def write_own_section(name: str, body: str) -> Path:
    """Replace the text between <!-- bench:NAME --> and <!-- /bench:NAME -->, or append the
    section at the end of the file when it is not there yet."""
    text = DOCS.read_text(encoding="utf-8")
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    section = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    DOCS.write_text(text, encoding="utf-8")
    return DOCS
