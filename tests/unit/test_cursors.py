"""Listing cursors are unsigned, so a forged one must be refused before it reaches DynamoDB."""

from __future__ import annotations

import base64
import json

import pytest

from functions.dal.aws import decode_cursor, encode_cursor
from functions.models.errors import InvalidRequest

ISSUED = {
    "pk": {"S": "ARTICLE#4b0c"},
    "sk": {"S": "LIST#home"},
    "lpk": {"S": "home#published"},
    "lsk": {"S": "2023-05-10T01:00:00Z#4b0c"},
}


def forge(**changes: str) -> str:
    plain = {name: value["S"] for name, value in ISSUED.items()} | changes
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def test_a_cursor_continues_the_query_that_issued_it() -> None:
    cursor = encode_cursor(ISSUED)
    assert cursor is not None

    assert decode_cursor(cursor, "home#published") == ISSUED


def test_a_cursor_issued_for_another_listing_is_refused() -> None:
    cursor = encode_cursor(ISSUED)
    assert cursor is not None

    with pytest.raises(InvalidRequest) as refused:
        decode_cursor(cursor, "home#draft")
    assert refused.value.problem().field == "cursor"


def test_a_cursor_outside_the_querys_time_range_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        decode_cursor(forge(), "home#published", "2024-01-01T00:00:00Z", "2024-12-31T00:00:00Z")


@pytest.mark.parametrize("field", ["pk", "sk", "lsk"])
def test_a_cursor_with_an_empty_key_is_refused(field: str) -> None:
    with pytest.raises(InvalidRequest):
        decode_cursor(forge(**{field: ""}), "home#published")
