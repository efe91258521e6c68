"""Article bodies as safe HTML: sanitizing, format conversion, and image discovery/rewriting.

Everything here treats its input as hostile (reporters paste from anywhere) and uses real HTML
parsers (nh3/html5ever for sanitizing, the stdlib ``html.parser`` for reading), never regexes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from html import escape
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import nh3

from functions.text.normalize import clean_text

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p",
        "h2",
        "h3",
        "h4",
        "a",
        "em",
        "strong",
        "ul",
        "ol",
        "li",
        "blockquote",
        "figure",
        "img",
        "figcaption",
        "br",
    }
)
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt"}),
}
ALLOWED_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
EXTERNAL_LINK_REL = "noopener noreferrer nofollow"

# Tags whose *content* is not article text. Merely disallowing a tag keeps its children as text,
# which for these would leak script source, CSS, iframe fallback markup or SVG/MathML text.
_DROP_WITH_CONTENT: frozenset[str] = frozenset(
    {
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "noscript",
        "noembed",
        "noframes",
        "template",
        "svg",
        "math",
        "textarea",
        "select",
        "title",
        "head",
    }
)

# Block-level boundaries become spaces in plain text so "<p>a</p><p>b</p>" reads "a b", not "ab".
_BLOCK_TAGS: frozenset[str] = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "figure",
        "figcaption",
        "img",
        "tr",
        "td",
        "th",
        "table",
        "section",
        "article",
        "hr",
        "pre",
    }
)
_INVISIBLE_TAGS: frozenset[str] = frozenset({"script", "style", "template", "noscript", "title"})

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")

_Attrs = list[tuple[str, str | None]]
_StartTagRewrite = Callable[[str, _Attrs], _Attrs | None]


@dataclass(frozen=True)
class ExtractedImage:
    src: str
    alt: str
    caption: str


def sanitize_html(html: str) -> str:
    """Reduce ``html`` to the article allowlist (see ``ALLOWED_TAGS``/``ALLOWED_ATTRIBUTES``).

    URLs must be http, https, mailto or relative; script/style (and similar) are dropped with
    their content. External links get ``rel="noopener noreferrer nofollow"``; site-relative links
    are left alone so internal linking is not nofollowed. The result is NFC and free of
    XML-illegal characters, so it can be escaped into feeds. Idempotent.
    """
    cleaned = nh3.clean(
        clean_text(html),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        # "*": empty set, otherwise nh3 keeps its default generic attributes (lang, title).
        attributes={"*": set(), **{tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()}},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )
    # Character references such as "&#11;" decode to XML-illegal characters inside nh3, so the
    # output needs the same hygiene as the input.
    return clean_text(_rewrite_start_tags(cleaned, _external_link_rel))


def body_to_html(body: str, body_format: Literal["html", "markdown", "text"]) -> str:
    """Render a submitted body as sanitized HTML according to its declared format."""
    text = clean_text(body)
    if body_format == "html":
        rendered = text
    elif body_format == "markdown":
        # html=False makes markdown-it escape raw HTML instead of passing it through; the
        # sanitizer then still trims what markdown itself can produce (h1, code, image titles).
        rendered = _markdown().render(text)
    elif body_format == "text":
        rendered = _text_to_html(text)
    else:
        raise ValueError(f"unknown body format: {body_format!r}")
    return sanitize_html(rendered)


def extract_images(html: str) -> list[ExtractedImage]:
    """Every ``<img>`` with a non-empty src, in document order.

    ``caption`` is the whitespace-collapsed text of the ``<figcaption>`` of the innermost
    ``<figure>`` enclosing the image, or ``""``. Images without a src are skipped: they
    cannot be fetched, uploaded or shown.
    """
    collector = _ImageCollector()
    collector.feed(html)
    collector.close()
    return [ExtractedImage(src=src, alt=alt, caption=caption) for src, alt, caption in collector.images]


def rewrite_image_sources(html: str, mapping: dict[str, str]) -> str:
    """Replace each ``<img src>`` found in ``mapping`` (keys compared after HTML unescaping).

    Only the start tags of matching images are re-serialized; all other markup passes through
    unchanged. The new URLs are trusted (they come from our own uploads), but are escaped.
    """
    if not mapping:
        return html

    def replace_src(tag: str, attrs: _Attrs) -> _Attrs | None:
        if tag != "img":
            return None
        changed = False
        new_attrs: _Attrs = []
        for name, value in attrs:
            if name == "src" and value is not None:
                # Browsers ignore surrounding whitespace in URLs, so the mapping should too.
                replacement = mapping.get(value, mapping.get(value.strip()))
                if replacement is not None:
                    value, changed = replacement, True
            new_attrs.append((name, value))
        return new_attrs if changed else None

    return _rewrite_start_tags(html, replace_src)


def html_to_text(html: str) -> str:
    """The visible text of ``html`` on one line, whitespace collapsed (for summaries and meta)."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return clean_text(" ".join("".join(extractor.parts).split()))


@cache
def _markdown() -> MarkdownIt:
    # Imported on first use: markdown-it costs ~50 ms to import, and every function imports this
    # package (via the models) while only submissions of markdown bodies need it.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})


def _text_to_html(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = []
    for block in _BLANK_LINE.split(text):
        lines = [escape(line.strip()) for line in block.split("\n") if line.strip()]
        if lines:
            paragraphs.append("<p>" + "<br>".join(lines) + "</p>")
    return "\n".join(paragraphs)


def _external_link_rel(tag: str, attrs: _Attrs) -> _Attrs | None:
    if tag != "a":
        return None
    href = dict(attrs).get("href")
    if href is None:
        return None
    try:
        parts = urlsplit(href.strip())
    except ValueError:
        return None
    # Scheme-relative "//host/..." is external too; mailto: has no "follow" to speak of.
    if parts.scheme in ("http", "https") or (not parts.scheme and parts.netloc):
        return [(name, value) for name, value in attrs if name != "rel"] + [("rel", EXTERNAL_LINK_REL)]
    return None


def _escape_attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


class _StartTagRewriter(HTMLParser):
    """Re-emits markup verbatim except for start tags the callback chooses to rebuild.

    Character references are kept unconverted so text round-trips without re-escaping.
    """

    def __init__(self, rewrite: _StartTagRewrite) -> None:
        super().__init__(convert_charrefs=False)
        self._rewrite = rewrite
        self.out: list[str] = []

    def _start(self, tag: str, attrs: _Attrs, self_closing: bool) -> None:
        new_attrs = self._rewrite(tag, attrs)
        if new_attrs is None:
            self.out.append(self.get_starttag_text() or "")
            return
        rendered = "".join(
            f" {name}" if value is None else f' {name}="{_escape_attribute(value)}"'
            for name, value in new_attrs
        )
        self.out.append(f"<{tag}{rendered}{' /' if self_closing else ''}>")

    def handle_starttag(self, tag: str, attrs: _Attrs) -> None:
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: _Attrs) -> None:
        self._start(tag, attrs, self_closing=True)

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.out.append(f"<![{data}]>")


def _rewrite_start_tags(html: str, rewrite: _StartTagRewrite) -> str:
    rewriter = _StartTagRewriter(rewrite)
    rewriter.feed(html)
    rewriter.close()
    return "".join(rewriter.out)


@dataclass
class _OpenFigure:
    image_indices: list[int] = field(default_factory=list)
    caption_parts: list[str] = field(default_factory=list)
    caption_depth: int = 0


class _ImageCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[tuple[str, str, str]] = []
        self._figures: list[_OpenFigure] = []

    def handle_starttag(self, tag: str, attrs: _Attrs) -> None:
        if tag == "img":
            values = dict(attrs)
            src = (values.get("src") or "").strip()
            if src:
                self.images.append((src, values.get("alt") or "", ""))
                if self._figures:
                    self._figures[-1].image_indices.append(len(self.images) - 1)
        elif tag == "figure":
            self._figures.append(_OpenFigure())
        elif tag == "figcaption" and self._figures:
            self._figures[-1].caption_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "figcaption" and self._figures and self._figures[-1].caption_depth:
            self._figures[-1].caption_depth -= 1
        elif tag == "figure" and self._figures:
            self._finish_figure()

    def handle_data(self, data: str) -> None:
        if self._figures and self._figures[-1].caption_depth:
            self._figures[-1].caption_parts.append(data)

    def close(self) -> None:
        super().close()
        # Unclosed figures (truncated or sloppy input) still own their captions.
        while self._figures:
            self._finish_figure()

    def _finish_figure(self) -> None:
        figure = self._figures.pop()
        caption = " ".join("".join(figure.caption_parts).split())
        for index in figure.image_indices:
            src, alt, _ = self.images[index]
            self.images[index] = (src, alt, caption)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: _Attrs) -> None:
        if tag in _INVISIBLE_TAGS:
            self._hidden_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: _Attrs) -> None:
        # A self-closed "<script/>" opens nothing, so it must not hide what follows.
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE_TAGS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)
