"""Standard Webhooks signing and verifying, and the article event payload.

The test vector is the Standard Webhooks reference test (standard-webhooks/standard-webhooks,
libraries/python/tests/test_webhooks.py, test_sign_function): secret
whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, id msg_p5jXN8AQM9LWM0D4loKWxJek, timestamp 1614265330,
payload {"test": 2432232314} -> v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
"""

from __future__ import annotations

import base64
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from functions.models.article import Article
from functions.models.site import Site
from functions.syndication import webhooks
from functions.syndication.ninjs import to_ninjs
from functions.syndication.webhooks import (
    EVENT_TYPES,
    WebhookVerificationError,
    encode_payload,
    event_payload,
    headers,
    new_secret,
    sign,
    verify,
)

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# The reference suite's "invalid signature": the vector's with its last base64 digit changed.
VECTOR_BAD_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="

NOW = 1_700_000_000
BODY = '{"type":"article.published","data":{"title":"Ô Môn"}}'.encode()


def vector_headers(signature: str = VECTOR_SIGNATURE) -> dict[str, str]:
    return {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": signature,
    }


@pytest.fixture
def secret() -> str:
    return new_secret()


# --- the published test vector ------------------------------------------------------------------------


def test_sign_matches_the_reference_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_secret_prefix_is_optional_when_signing() -> None:
    bare = VECTOR_SECRET.removeprefix("whsec_")
    assert sign(bare, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_verify_accepts_the_reference_vector() -> None:
    verify(VECTOR_SECRET, vector_headers(), VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_verify_rejects_the_reference_invalid_signature() -> None:
    with pytest.raises(WebhookVerificationError):
        verify(VECTOR_SECRET, vector_headers(VECTOR_BAD_SIGNATURE), VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_signature_is_hmac_sha256_of_id_timestamp_body() -> None:
    key = base64.b64decode(VECTOR_SECRET.removeprefix("whsec_"))
    digest = hmac.digest(key, f"{VECTOR_ID}.{VECTOR_TIMESTAMP}.".encode() + VECTOR_BODY, "sha256")
    assert "v1," + base64.b64encode(digest).decode() == VECTOR_SIGNATURE


# --- secrets ----------------------------------------------------------------------------------------------


def test_new_secret_format() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    assert 24 <= len(key) <= 32
    assert new_secret() != secret


@pytest.mark.parametrize(
    "bad",
    [
        "whsec_",
        "whsec_not base64!",
        "whsec_" + base64.b64encode(b"x" * 23).decode(),  # shorter than the spec's 24 bytes
        "whsec_" + base64.b64encode(b"x" * 65).decode(),  # longer than its 512 bits
    ],
)
def test_bad_secrets_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        sign(bad, "msg_1", NOW, BODY)


def test_unpadded_secret_is_accepted() -> None:
    raw = base64.b64encode(b"k" * 25).decode()
    assert raw.endswith("=")
    assert sign("whsec_" + raw.rstrip("="), "msg_1", NOW, BODY) == sign("whsec_" + raw, "msg_1", NOW, BODY)


def test_message_id_must_not_contain_a_dot(secret: str) -> None:
    with pytest.raises(ValueError, match="webhook-id"):
        sign(secret, "msg.1", NOW, BODY)


# --- headers and round trips --------------------------------------------------------------------------------


def test_header_names_and_values(secret: str) -> None:
    sent = headers(secret, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", NOW, BODY)
    assert sent == {
        "webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        "webhook-timestamp": str(NOW),
        "webhook-signature": sign(secret, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", NOW, BODY),
        "Content-Type": "application/json",
    }


def test_round_trip(secret: str) -> None:
    verify(secret, headers(secret, "msg_1", NOW, BODY), BODY, now=NOW)


def test_header_names_are_case_insensitive(secret: str) -> None:
    sent = {name.title(): value for name, value in headers(secret, "msg_1", NOW, BODY).items()}
    assert "Webhook-Signature" in sent
    verify(secret, sent, BODY, now=NOW)


def test_tampered_body_fails(secret: str) -> None:
    sent = headers(secret, "msg_1", NOW, BODY)
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify(secret, sent, BODY.replace("Ô Môn".encode(), b"O Mon"), now=NOW)


def test_tampered_timestamp_fails(secret: str) -> None:
    sent = headers(secret, "msg_1", NOW, BODY)
    sent["webhook-timestamp"] = str(NOW + 1)
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify(secret, sent, BODY, now=NOW)


def test_tampered_id_fails(secret: str) -> None:
    sent = headers(secret, "msg_1", NOW, BODY)
    sent["webhook-id"] = "msg_2"
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify(secret, sent, BODY, now=NOW)


def test_another_secret_fails(secret: str) -> None:
    sent = headers(secret, "msg_1", NOW, BODY)
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify(new_secret(), sent, BODY, now=NOW)


# --- tolerance ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("skew", [-300, -1, 0, 1, 300])
def test_timestamps_within_tolerance_pass(secret: str, skew: int) -> None:
    verify(secret, headers(secret, "msg_1", NOW + skew, BODY), BODY, now=NOW)


@pytest.mark.parametrize(("skew", "message"), [(-301, "too old"), (301, "too new")])
def test_timestamps_outside_tolerance_fail(secret: str, skew: int, message: str) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        verify(secret, headers(secret, "msg_1", NOW + skew, BODY), BODY, now=NOW)


def test_custom_tolerance(secret: str) -> None:
    sent = headers(secret, "msg_1", NOW - 60, BODY)
    verify(secret, sent, BODY, now=NOW, tolerance=60)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(secret, sent, BODY, now=NOW, tolerance=59)


def test_the_reference_vector_is_stale_five_minutes_later() -> None:
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(VECTOR_SECRET, vector_headers(), VECTOR_BODY, now=VECTOR_TIMESTAMP + 301)


# --- missing and malformed headers ----------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_fails(missing: str) -> None:
    sent = vector_headers()
    del sent[missing]
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify(VECTOR_SECRET, sent, VECTOR_BODY, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize("timestamp", ["hello", "1614265330.0", "-1614265330", "1e9", ""])
def test_malformed_timestamp_fails(timestamp: str) -> None:
    sent = vector_headers()
    sent["webhook-timestamp"] = timestamp
    with pytest.raises(WebhookVerificationError):
        verify(VECTOR_SECRET, sent, VECTOR_BODY, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize("signature", ["v1", "v1,", "g0hM9SsE", "v1,***", "v2," + VECTOR_SIGNATURE[3:]])
def test_malformed_or_foreign_signatures_fail(signature: str) -> None:
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(VECTOR_SECRET, vector_headers(signature), VECTOR_BODY, now=VECTOR_TIMESTAMP)


# --- several signatures -----------------------------------------------------------------------------------


def test_one_matching_signature_among_several_is_enough() -> None:
    # The reference suite's multi-signature case: the valid one among v1/v2 decoys.
    signatures = [
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        VECTOR_SIGNATURE,
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
    ]
    verify(VECTOR_SECRET, vector_headers(" ".join(signatures)), VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_asymmetric_and_junk_entries_are_skipped() -> None:
    signatures = f"v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw== junk v1,@@@ {VECTOR_SIGNATURE}"
    verify(VECTOR_SECRET, vector_headers(signatures), VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_signing_with_two_secrets_during_rotation() -> None:
    old, current = new_secret(), new_secret()
    sent = headers([current, old], "msg_1", NOW, BODY)
    assert sent["webhook-signature"] == f"{sign(current, 'msg_1', NOW, BODY)} {sign(old, 'msg_1', NOW, BODY)}"
    verify(old, sent, BODY, now=NOW)
    verify(current, sent, BODY, now=NOW)
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), sent, BODY, now=NOW)


def test_signing_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        headers([], "msg_1", NOW, BODY)


def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    signatures = f"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {VECTOR_SIGNATURE}"
    verify(VECTOR_SECRET, vector_headers(signatures), VECTOR_BODY, now=VECTOR_TIMESTAMP)
    assert len(calls) == 2


# --- the event payload -------------------------------------------------------------------------------------


def test_event_payload(seed_article: Article, site: Site) -> None:
    occurred = datetime(2023, 5, 10, 9, 30, tzinfo=timezone(timedelta(hours=7)))
    payload = event_payload("article.published", seed_article, site, occurred)
    assert list(payload) == ["type", "timestamp", "data"]
    assert payload["type"] == "article.published"
    assert payload["timestamp"] == "2023-05-10T02:30:00Z"
    assert payload["data"] == {
        "id": seed_article.id,
        "url": "https://news.example.vn" + seed_article.path,
        "title": seed_article.title,
        "status": "published",
        "revision": 1,
        "ninjs": to_ninjs(seed_article, site),
    }


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_is_accepted(seed_article: Article, site: Site, event_type: str) -> None:
    assert (
        event_payload(event_type, seed_article, site, datetime(2023, 5, 10, tzinfo=UTC))["type"] == event_type
    )


def test_event_types() -> None:
    assert set(EVENT_TYPES) == {
        "article.published",
        "article.updated",
        "article.corrected",
        "article.retracted",
    }


def test_unknown_event_type_is_refused(seed_article: Article, site: Site) -> None:
    with pytest.raises(ValueError, match="event type"):
        event_payload("article.deleted", seed_article, site, datetime(2023, 5, 10, tzinfo=UTC))


def test_naive_occurred_at_is_refused(seed_article: Article, site: Site) -> None:
    with pytest.raises(ValueError, match="naive"):
        event_payload("article.updated", seed_article, site, datetime(2023, 5, 10))


def test_encoded_payload_signs_and_verifies(seed_article: Article, site: Site, secret: str) -> None:
    payload = event_payload("article.published", seed_article, site, datetime(2023, 5, 10, tzinfo=UTC))
    body = encode_payload(payload)
    assert body == encode_payload(payload)  # deterministic
    assert b", " not in body[:60]  # compact
    assert "Ô Môn".encode() in body  # UTF-8, not \u escapes
    assert json.loads(body) == payload
    verify(secret, headers(secret, "msg_1", NOW, body), body, now=NOW)
