"""The Idempotency-Key header's rules, and how a header at fault is named."""

from __future__ import annotations

import re

import pytest

from functions.models.api import IDEMPOTENCY_KEY_MAX_CHARS, IDEMPOTENCY_KEY_PATTERN, check_idempotency_key
from functions.models.errors import field_errors


@pytest.mark.parametrize(
    "value",
    [
        # A fixed UUID: a random one would give each pytest-xdist worker a different test id.
        "3d79b193-af91-475c-964d-6817451b32e3",
        "1",
        "x" * IDEMPOTENCY_KEY_MAX_CHARS,
        "nightly import #42: item 7",  # spaces and punctuation inside are fine
        "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./",
    ],
)
def test_printable_ascii_keys_up_to_255_characters_are_accepted_as_sent(value: str) -> None:
    assert check_idempotency_key(value) == value
    assert re.fullmatch(IDEMPOTENCY_KEY_PATTERN, value)  # the documented pattern agrees


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x" * (IDEMPOTENCY_KEY_MAX_CHARS + 1),
        "khóa",
        "tab\tinside",
        "new line\n",
        "\x7f",
        " leading",
        "trailing ",
        " ",
        42,
    ],
)
def test_empty_too_long_non_ascii_control_or_space_padded_keys_are_refused_in_words(value: object) -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        check_idempotency_key(value)
    if isinstance(value, str) and len(value) <= IDEMPOTENCY_KEY_MAX_CHARS:
        assert not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, value)


def test_no_header_means_no_key() -> None:
    assert check_idempotency_key(None) is None


def test_a_header_at_fault_is_named_as_the_api_names_it() -> None:
    errors = [
        {"loc": ("header", "idempotency-key"), "type": "value_error", "msg": "Value error, must be"},
        {"loc": ("header", "if_match"), "type": "missing", "msg": "Field required"},
    ]

    named = field_errors(errors)

    assert [(error.field, error.location) for error in named] == [
        ("Idempotency-Key", "header"),
        ("If-Match", "header"),
    ]
    assert named[0].message == "must be"
