"""Article bodies as safe HTML: sanitizing, format conversion, and image discovery/rewriting.

Everything here treats its input as hostile (reporters paste from anywhere) and uses real HTML
parsers (nh3/html5ever for sanitizing, the stdlib ``html.parser`` for reading), never regexes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from html import escape
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import nh3

from functions.text.normalize import clean_text, strip_xml_illegal

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
    are left alone so internal linking is not nofollowed. Every text node and attribute value is
    ``clean_text``-clean (NFC, no XML-illegal characters), so the result can be escaped into
    feeds, and NFC of the whole result is the result itself. Idempotent.
    """
    cleaned = nh3.clean(
        # Only removal here: NFC over markup is unsafe (see strip_xml_illegal), and the text is
        # normalized after parsing, node by node, which also covers characters that arrive as
        # character references.
        strip_xml_illegal(html),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        # "*": empty set, otherwise nh3 keeps its default generic attributes (lang, title).
        attributes={"*": set(), **{tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()}},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )
    # Character references such as "&#11;" or "e&#x301;" decode inside nh3 to XML-illegal or
    # unnormalized characters, so the output needs the same hygiene as the input, per token.
    return _rewrite_start_tags(cleaned, _external_link_rel, hygiene=True)


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

    Character references are kept unconverted so text round-trips without re-escaping. With
    ``hygiene``, every token (a tag, or a run of text between tags and references) goes through
    ``clean_text`` on its own: normalizing tokens separately can never merge a character into
    the markup around it, as normalizing the serialized document as a whole can.
    """

    def __init__(self, rewrite: _StartTagRewrite, *, hygiene: bool = False) -> None:
        super().__init__(convert_charrefs=False)
        self._rewrite = rewrite
        self._hygiene = hygiene
        self._text: list[str] = []
        self.out: list[str] = []

    def _emit(self, markup: str) -> None:
        self._flush_text()
        self.out.append(clean_text(markup) if self._hygiene else markup)

    def _flush_text(self) -> None:
        # The parser may hand one text run over in pieces; a letter and its combining mark must
        # be normalized together.
        if not self._text:
            return
        text = "".join(self._text)
        self._text.clear()
        if self._hygiene:
            text = _detach_from_markup(self.out[-1] if self.out else "", clean_text(text))
        self.out.append(text)

    def _start(self, tag: str, attrs: _Attrs, self_closing: bool) -> None:
        new_attrs = self._rewrite(tag, attrs)
        if new_attrs is None:
            self._emit(self.get_starttag_text() or "")
            return
        rendered = "".join(
            f" {name}" if value is None else f' {name}="{_escape_attribute(value)}"'
            for name, value in new_attrs
        )
        self._emit(f"<{tag}{rendered}{' /' if self_closing else ''}>")

    def handle_starttag(self, tag: str, attrs: _Attrs) -> None:
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: _Attrs) -> None:
        self._start(tag, attrs, self_closing=True)

    def handle_endtag(self, tag: str) -> None:
        self._emit(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_entityref(self, name: str) -> None:
        self._emit(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._emit(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self._emit(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self._emit(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self._emit(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self._emit(f"<![{data}]>")

    def close(self) -> None:
        super().close()
        self._flush_text()


def _detach_from_markup(markup: str, text: str) -> str:
    """``text`` as it may follow ``markup`` so that NFC of the two together changes neither.

    ">" followed by U+0338 COMBINING LONG SOLIDUS OVERLAY composes into "≯" (likewise "<" and
    "="): whoever normalizes the serialized document later (a feed reader, a partner, our own
    code before this existed) would lose the tag's end and read the text as attributes. Such a
    leading mark is written as a character reference instead, which means the same text.
    """
    if markup and text and not unicodedata.is_normalized("NFC", markup[-1] + text[0]):
        return f"&#x{ord(text[0]):x};{text[1:]}"
    return text


def _rewrite_start_tags(html: str, rewrite: _StartTagRewrite, *, hygiene: bool = False) -> str:
    rewriter = _StartTagRewriter(rewrite, hygiene=hygiene)
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
