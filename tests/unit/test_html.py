import json
import re
import unicodedata
from pathlib import Path

import pytest

from functions.text import (
    ExtractedImage,
    body_to_html,
    extract_images,
    html_to_text,
    rewrite_image_sources,
    sanitize_html,
)
from functions.text.normalize import _XML_ILLEGAL

SEED = json.loads((Path(__file__).parents[2] / "examples/seed/seed-article.json").read_text("utf-8"))
SEED_BODY: str = SEED["body"]
SEED_CAPTION_1 = "Quang cảnh lớp tập huấn"
SEED_CAPTION_2 = (
    "Bà Nguyễn Thúy Hằng, Phó Chủ tịch Ủy ban MTTQ Việt Nam thành phố báo cáo bài tại lớp tập huấn"
)


def _text_nodes(html: str) -> list[str]:
    return [part for part in re.split(r"<[^>]*>", html) if part.strip()]


# --- sanitize_html: what is kept ---------------------------------------------------------------


def test_seed_body_survives_sanitization_byte_identical():
    assert sanitize_html(SEED_BODY) == SEED_BODY


def test_seed_body_vietnamese_text_is_byte_identical_after_sanitization():
    assert _text_nodes(sanitize_html(SEED_BODY)) == _text_nodes(SEED_BODY)
    assert sanitize_html(SEED_BODY).encode("utf-8") == SEED_BODY.encode("utf-8")


def test_seed_body_keeps_both_figures_after_sanitization():
    cleaned = sanitize_html(SEED_BODY)
    assert cleaned.count("<figure>") == 2
    assert cleaned.count("</figcaption></figure>") == 2
    assert '<img src="media/quang-canh-lop-tap-huan.jpg" alt="Quang cảnh lớp tập huấn">' in cleaned
    assert f"<figcaption>{SEED_CAPTION_2}</figcaption>" in cleaned


@pytest.mark.parametrize(
    "fragment",
    [
        "<p>Đoạn văn</p>",
        "<h2>Tiêu đề</h2>",
        "<h3>Mục</h3>",
        "<h4>Tiểu mục</h4>",
        "<p><em>nghiêng</em> <strong>đậm</strong><br>dòng mới</p>",
        "<ul><li>một</li></ul>",
        "<ol><li>hai</li></ol>",
        "<blockquote>trích dẫn</blockquote>",
        '<figure><img src="media/a.jpg" alt="Ảnh">'
        "<figcaption>Chú thích tiếng Việt: Ủy ban</figcaption></figure>",
        '<a href="/2023/05/10/bai-viet/">liên kết nội bộ</a>',
        '<a href="mailto:toasoan@example.vn">thư</a>',
        '<img src="https://cdn.example.vn/a.jpg" alt="">',
    ],
)
def test_allowed_tags_and_attributes_are_kept(fragment):
    assert sanitize_html(fragment) == fragment


def test_external_links_get_rel_noopener_noreferrer_nofollow():
    assert sanitize_html('<a href="https://example.com/x" rel="author">x</a>') == (
        '<a href="https://example.com/x" rel="noopener noreferrer nofollow">x</a>'
    )
    assert 'rel="noopener noreferrer nofollow"' in sanitize_html('<a href="//example.com/x">x</a>')


def test_relative_links_are_kept_without_forced_rel():
    assert sanitize_html('<a href="../khac/" rel="nofollow">x</a>') == '<a href="../khac/">x</a>'


def test_sanitize_is_idempotent():
    messy = (
        '<p onclick="x">A &amp; B &lt;c&gt; "q" \'s\'<a href="https://e.com/?a=1&amp;b=2">l</a>'
        '<img alt="a &quot;b&quot;" src="x.jpg"></p>'
    )
    once = sanitize_html(messy)
    assert sanitize_html(once) == once


def test_sanitize_output_is_nfc():
    assert sanitize_html(unicodedata.normalize("NFD", "<p>Đảng bộ Ô Môn</p>")) == "<p>Đảng bộ Ô Môn</p>"


# --- sanitize_html: what is removed ------------------------------------------------------------


def test_script_and_style_are_removed_with_their_content():
    cleaned = sanitize_html("<p>a<script>alert('x')</script>b</p><style>p{color:red}</style>")
    assert cleaned == "<p>ab</p>"


@pytest.mark.parametrize(
    "fragment",
    [
        '<iframe src="https://evil.example/">fallback</iframe>',
        "<svg><script>alert(1)</script><text>svgtext</text></svg>",
        "<svg onload=alert(1)>",
        "<math><mi>mathtext</mi></math>",
        "<object data='x.swf'>objtext</object>",
        "<noscript>nstext</noscript>",
    ],
)
def test_embedding_tags_are_removed_with_their_content(fragment):
    cleaned = sanitize_html(f"<p>before</p>{fragment}<p>after</p>")
    assert cleaned == "<p>before</p><p>after</p>"


def test_event_handler_attributes_are_removed():
    cleaned = sanitize_html('<img src="a.jpg" onerror="alert(1)" alt="x"><p onclick="y">t</p>')
    assert "onerror" not in cleaned
    assert "onclick" not in cleaned
    assert "alert" not in cleaned
    assert '<img src="a.jpg" alt="x">' in cleaned


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "&#106;avascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "data:image/png;base64,iVBORw0KGgo=",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
    ],
)
def test_dangerous_url_schemes_are_removed_from_links_and_images(url):
    cleaned = sanitize_html(f'<a href="{url}">l</a><img src="{url}" alt="i">')
    assert "href" not in cleaned
    assert "src" not in cleaned
    assert "script" not in cleaned.lower()
    assert "data:" not in cleaned


def test_disallowed_attributes_are_removed():
    cleaned = sanitize_html(
        '<p style="color:red" class="x" id="y" title="t" lang="vi">t</p><img src="a.jpg" width="9">'
    )
    assert cleaned == '<p>t</p><img src="a.jpg">'


def test_disallowed_tags_are_unwrapped_keeping_text():
    assert sanitize_html("<div><span>Chữ</span> <b>đậm</b></div>") == "Chữ đậm"


def test_comments_are_removed():
    assert sanitize_html("<p>a<!-- bí mật --></p>") == "<p>a</p>"


def test_xml_illegal_characters_from_character_references_are_removed():
    cleaned = sanitize_html("<p>a&#11;b&#x0C;c\x0bd\x00e</p>")
    assert cleaned == "<p>abcde</p>"
    assert not _XML_ILLEGAL.search(cleaned)


def test_unbalanced_markup_is_closed():
    assert sanitize_html("<p><strong>đậm") == "<p><strong>đậm</strong></p>"


# --- body_to_html ------------------------------------------------------------------------------


def test_body_to_html_html_format_sanitizes():
    assert body_to_html("<p>Xin chào<script>x()</script></p>", "html") == "<p>Xin chào</p>"


def test_body_to_html_html_format_keeps_seed_body():
    assert body_to_html(SEED_BODY, "html") == SEED_BODY


def test_body_to_html_markdown_renders_commonmark():
    html = body_to_html("## Mục\n\nĐoạn *nghiêng* và **đậm**.\n\n- một\n- hai\n\n> trích", "markdown")
    assert html == (
        "<h2>Mục</h2>\n<p>Đoạn <em>nghiêng</em> và <strong>đậm</strong>.</p>\n"
        "<ul>\n<li>một</li>\n<li>hai</li>\n</ul>\n<blockquote>\n<p>trích</p>\n</blockquote>\n"
    )


def test_body_to_html_markdown_escapes_raw_html():
    html = body_to_html("Chữ <script>alert(1)</script> <b>x</b>", "markdown")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_body_to_html_markdown_links_and_images_are_sanitized():
    html = body_to_html(
        '[ok](https://a.vn) [bad](javascript:alert(1)) ![Ảnh](media/a.jpg "tiêu đề")', "markdown"
    )
    assert '<a href="https://a.vn" rel="noopener noreferrer nofollow">ok</a>' in html
    # markdown-it refuses the javascript: link, so it stays literal (escaped) text, never an href.
    assert "[bad](javascript:alert(1))" in html
    assert 'href="javascript' not in html
    assert '<img src="media/a.jpg" alt="Ảnh">' in html  # title attribute dropped


def test_body_to_html_text_splits_paragraphs_on_blank_lines_and_lines_on_br():
    body = "Dòng một\nDòng hai\n\n\n  Đoạn hai  \r\n\r\nĐoạn ba"
    assert body_to_html(body, "text") == "<p>Dòng một<br>Dòng hai</p>\n<p>Đoạn hai</p>\n<p>Đoạn ba</p>"


def test_body_to_html_text_escapes_everything():
    html = body_to_html('<script>alert("x")</script> & <b>', "text")
    assert html == '<p>&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;b&gt;</p>'


def test_body_to_html_cleans_nfd_and_control_characters_in_every_format():
    body = unicodedata.normalize("NFD", "Đảng\x0b bộ")
    for body_format in ("html", "markdown", "text"):
        assert "Đảng bộ" in body_to_html(body, body_format)
        assert "\x0b" not in body_to_html(body, body_format)


def test_body_to_html_rejects_unknown_format():
    with pytest.raises(ValueError, match="format"):
        body_to_html("x", "rst")  # type: ignore[arg-type]


# --- extract_images ----------------------------------------------------------------------------


def test_extract_images_returns_both_seed_images_with_captions_in_order():
    assert extract_images(SEED_BODY) == [
        ExtractedImage(src="media/quang-canh-lop-tap-huan.jpg", alt=SEED_CAPTION_1, caption=SEED_CAPTION_1),
        ExtractedImage(src="media/ba-nguyen-thuy-hang.jpg", alt=SEED_CAPTION_2, caption=SEED_CAPTION_2),
    ]


def test_extract_images_outside_figure_have_empty_caption():
    assert extract_images("<p><img src='a.jpg'></p><figcaption>lạc</figcaption>") == [
        ExtractedImage(src="a.jpg", alt="", caption="")
    ]


def test_extract_images_caption_before_image_and_entities_and_whitespace():
    html = (
        "<figure><figcaption>  Ảnh &amp;\n <em>chú</em>  thích </figcaption>"
        '<img alt="A" src="b&amp;c.jpg"></figure>'
    )
    assert extract_images(html) == [ExtractedImage(src="b&c.jpg", alt="A", caption="Ảnh & chú thích")]


def test_extract_images_uses_innermost_figure_caption():
    html = (
        "<figure><img src='outer.jpg'>"
        "<figure><img src='inner.jpg'><figcaption>trong</figcaption></figure>"
        "<figcaption>ngoài</figcaption></figure>"
    )
    assert [(image.src, image.caption) for image in extract_images(html)] == [
        ("outer.jpg", "ngoài"),
        ("inner.jpg", "trong"),
    ]


def test_extract_images_skips_images_without_src_and_handles_unclosed_figure():
    html = "<img alt='x'><img src=''><figure><img src='a.jpg'/><figcaption>cuối"
    assert extract_images(html) == [ExtractedImage(src="a.jpg", alt="", caption="cuối")]


def test_extracted_image_is_frozen():
    image = ExtractedImage(src="a", alt="b", caption="c")
    with pytest.raises(AttributeError):
        image.src = "x"  # type: ignore[misc]


# --- rewrite_image_sources ---------------------------------------------------------------------


def test_rewrite_image_sources_replaces_seed_images_and_keeps_everything_else():
    mapping = {
        "media/quang-canh-lop-tap-huan.jpg": "https://cdn.example.vn/media/1/quang-canh.jpg",
        "media/ba-nguyen-thuy-hang.jpg": "https://cdn.example.vn/media/2/ba-hang.jpg",
    }
    rewritten = rewrite_image_sources(SEED_BODY, mapping)
    expected = SEED_BODY
    for old, new in mapping.items():
        expected = expected.replace(f'src="{old}"', f'src="{new}"')
    assert rewritten == expected
    assert [image.src for image in extract_images(rewritten)] == list(mapping.values())


def test_rewrite_image_sources_handles_attribute_order_quoting_and_case():
    html = "<IMG alt='x' SRC='a.jpg'><img src=b.jpg alt=y/><img src=\"c.jpg\">"
    rewritten = rewrite_image_sources(html, {"a.jpg": "A.jpg", "b.jpg": "B.jpg"})
    assert [image.src for image in extract_images(rewritten)] == ["A.jpg", "B.jpg", "c.jpg"]
    assert [image.alt for image in extract_images(rewritten)] == ["x", "y/", ""]
    assert rewritten.endswith('<img src="c.jpg">')


def test_rewrite_image_sources_matches_unescaped_src_and_escapes_replacement():
    html = '<p>A &amp; B &nbsp;&#8230;</p><img src="x.jpg?a=1&amp;b=2" alt="q">'
    rewritten = rewrite_image_sources(html, {"x.jpg?a=1&b=2": 'https://cdn/y.jpg?c=3&d="4"'})
    assert rewritten == (
        '<p>A &amp; B &nbsp;&#8230;</p><img src="https://cdn/y.jpg?c=3&amp;d=&quot;4&quot;" alt="q">'
    )
    assert extract_images(rewritten)[0].src == 'https://cdn/y.jpg?c=3&d="4"'


def test_rewrite_image_sources_ignores_non_img_tags_and_unmapped_images():
    html = '<a href="a.jpg">a.jpg</a><img src="z.jpg"><!-- a.jpg -->'
    assert rewrite_image_sources(html, {"a.jpg": "b.jpg", "src": "x"}) == html


def test_rewrite_image_sources_with_empty_mapping_returns_input_unchanged():
    assert rewrite_image_sources(SEED_BODY, {}) == SEED_BODY


# --- html_to_text ------------------------------------------------------------------------------


def test_html_to_text_collapses_whitespace_and_separates_blocks():
    html = "<h2>Tiêu đề</h2><p>Đoạn\n  một</p><p>Đoạn&nbsp;hai<br>dòng &amp; ba</p>"
    assert html_to_text(html) == "Tiêu đề Đoạn một Đoạn hai dòng & ba"


def test_html_to_text_drops_script_and_style_content():
    assert html_to_text("<p>a<script>evil()</script>b</p><style>p{}</style>c") == "ab c"


def test_html_to_text_of_seed_body_starts_with_first_paragraph_and_includes_captions():
    text = html_to_text(SEED_BODY)
    assert text.startswith("Nhằm trang bị cho đội ngũ cán bộ Mặt trận")
    assert SEED_CAPTION_1 in text
    assert "<" not in text
    assert "  " not in text


# --- normalization happens per text node, never over the serialized markup ------------------


@pytest.mark.parametrize("mark", ["&#x338;", "&#824;", "\u0338"])
def test_a_combining_mark_after_a_tag_cannot_merge_into_it(mark):
    # NFC composes ">" + U+0338 into "≯": normalizing the serialized HTML would turn the text after
    # <em> into attributes of an element named "em≯" (an event handler, here).
    cleaned = sanitize_html(f"<p><em>{mark} onmouseover=alert(1) x</em></p>")
    assert cleaned == "<p><em>&#x338; onmouseover=alert(1) x</em></p>"
    assert unicodedata.normalize("NFC", cleaned) == cleaned
    assert sanitize_html(cleaned) == cleaned


@pytest.mark.parametrize("body_format", ["markdown", "text"])
def test_markdown_and_text_bodies_starting_with_a_combining_mark_keep_their_text(body_format):
    html = body_to_html("\u0338 onmouseover=alert(1)", body_format)
    assert html.startswith("<p>&#x338; onmouseover=alert(1)</p>")
    assert html_to_text(html) == "\u0338 onmouseover=alert(1)"


def test_character_references_are_normalized_per_text_node_and_attribute():
    assert (
        sanitize_html('<p>e&#x301;<img src="/a.jpg" alt="e&#x301;"></p>')
        == '<p>é<img src="/a.jpg" alt="é"></p>'
    )


def test_bidi_overrides_from_character_references_are_removed():
    assert sanitize_html("<p>&#x202E;gpj.exe</p>") == "<p>gpj.exe</p>"
