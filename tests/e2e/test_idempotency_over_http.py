"""Idempotency-Key on the real local stack, over HTTP."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import ServedStack
from tests.e2e.test_lifecycle_over_http import call

pytestmark = pytest.mark.e2e

ARTICLE = {
    "title": "Ô Môn: gửi lại",
    "body": "<p>Nội dung.</p>",
    "author": "Na Ra",
    "section": "Thời sự",
    "published_at": "2023-05-10T16:30:00+07:00",
}


def test_a_resent_submit_gets_the_first_answer_and_a_changed_one_gets_422_over_http(
    served: ServedStack,
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = call(served, "POST", "/articles", ARTICLE, headers=key)
    again = call(served, "POST", "/articles", ARTICLE, headers=key)
    changed = call(served, "POST", "/articles", {**ARTICLE, "title": "Ô Môn: đổi"}, headers=key)

    assert first[0] == again[0] == 201, first[2]
    assert again[2] == first[2]
    assert again[1]["ETag"] == first[1]["ETag"] and again[1]["Location"] == first[1]["Location"]
    assert changed[0] == 422 and changed[2]["field"] == "Idempotency-Key"
    listed = call(served, "GET", "/articles?limit=100")[2]["items"]
    assert [item["id"] for item in listed if item["title"].startswith("Ô Môn")] == [first[2]["id"]]
