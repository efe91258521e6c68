"""Text handling shared by models, logic and rendering: normalization, slugs, safe HTML."""

from functions.text.html import (
    ExtractedImage,
    body_to_html,
    extract_images,
    html_to_text,
    rewrite_image_sources,
    sanitize_html,
)
from functions.text.normalize import clean_line, clean_text, strip_xml_illegal
from functions.text.slugs import slugify, unique_slug

__all__ = [
    "ExtractedImage",
    "body_to_html",
    "clean_line",
    "clean_text",
    "extract_images",
    "html_to_text",
    "rewrite_image_sources",
    "sanitize_html",
    "slugify",
    "strip_xml_illegal",
    "unique_slug",
]
