"""Text handling shared by models, logic and rendering: normalization, slugs, safe HTML."""

from functions.text.normalize import clean_text

__all__ = ["clean_text"]
