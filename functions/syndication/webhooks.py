"""Standard Webhooks (https://www.standardwebhooks.com, spec 1.0.0): symmetric signing and verifying.

- The secret is "whsec_" + base64 of random bytes: the spec asks for "at least 24 bytes (192 bits,
  512 maximum)", so 24 to 64 bytes are accepted and new ones have 32; one per partner endpoint.
- The signed content is f"{webhook-id}.{webhook-timestamp}." followed by the exact body bytes,
  HMAC-SHA256 with the decoded secret; the header value is "v1," + base64 of the digest.
- webhook-signature is a space-delimited list (for zero-downtime secret rotation); a verifier
  accepts the message when any v1 entry matches, compared in constant time, and rejects a
  webhook-timestamp further than the tolerance from its clock either way (replays).

Everything here is pure: the caller passes the clock (`now`) and the message id, so tests and
retries are reproducible (a retry keeps its webhook-id and gets a new timestamp and signature).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

from functions.models.article import Article
from functions.models.site import Site
from functions.syndication.ninjs import to_ninjs

__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_TOLERANCE",
    "EVENT_TYPES",
    "ID_HEADER",
    "SECRET_PREFIX",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "EventType",
    "WebhookVerificationError",
    "encode_payload",
    "event_payload",
    "headers",
    "new_secret",
    "sign",
    "verify",
]

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the format marker of every secret, not a secret
ID_HEADER: Final = "webhook-id"
TIMESTAMP_HEADER: Final = "webhook-timestamp"
SIGNATURE_HEADER: Final = "webhook-signature"
CONTENT_TYPE: Final = "application/json"
DEFAULT_TOLERANCE: Final = 300  # seconds, either way: the reference libraries' five minutes

SIGNATURE_VERSION: Final = "v1"
MIN_SECRET_BYTES: Final = 24  # the spec: "at least 24 bytes"
MAX_SECRET_BYTES: Final = 64  # the spec: "512 maximum" (bits)
NEW_SECRET_BYTES: Final = 32

EventType = Literal["article.published", "article.updated", "article.corrected", "article.retracted"]
EVENT_TYPES: Final[tuple[str, ...]] = get_args(EventType)

# The spec: id and timestamp must not contain "." (they are the delimiters of the signed content).
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_\-:]{1,256}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,15}$")


class WebhookVerificationError(Exception):
    """The message is not authentic: a header is missing or malformed, no signature matches, or
    its timestamp is outside the tolerance."""


def new_secret() -> str:
    """A fresh signing secret: "whsec_" + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(NEW_SECRET_BYTES)).decode("ascii")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The "v1,<base64>" signature of one message under one secret."""
    digest = _digest(_key(secret), message_id, timestamp, body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def headers(secret: str | Sequence[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The request headers of one delivery attempt.

    `secret` may be several secrets (current first) while a partner rotates: the message is then
    signed with each, space-separated, and a receiver holding either one accepts it.
    """
    keys = [secret] if isinstance(secret, str) else list(secret)
    if not keys:
        raise ValueError("at least one secret is needed to sign a webhook")
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(sign(key, message_id, timestamp, body) for key in keys),
        "Content-Type": CONTENT_TYPE,
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE,
) -> None:
    """Raise WebhookVerificationError unless `body` with `headers` was signed with `secret` and
    sent within `tolerance` seconds of `now` (Unix seconds). Header names match case-insensitively.
    """
    key = _key(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get(ID_HEADER, "").strip()
    timestamp_text = lowered.get(TIMESTAMP_HEADER, "").strip()
    signatures = lowered.get(SIGNATURE_HEADER, "").strip()
    if not (message_id and timestamp_text and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not _MESSAGE_ID.fullmatch(message_id):
        raise WebhookVerificationError("malformed webhook-id")
    if not _TIMESTAMP.fullmatch(timestamp_text):
        raise WebhookVerificationError("malformed webhook-timestamp")
    timestamp = int(timestamp_text)
    if timestamp < now - tolerance:
        raise WebhookVerificationError("message timestamp too old")
    if timestamp > now + tolerance:
        raise WebhookVerificationError("message timestamp too new")

    expected = _digest(key, message_id, timestamp, body)
    matched = False
    for entry in signatures.split():
        version, _, encoded = entry.partition(",")
        if version != SIGNATURE_VERSION or not encoded:
            continue  # another scheme (v1a: asymmetric), or junk: not ours to judge
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        # Every candidate is compared (no early exit), each in constant time.
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookVerificationError("no matching signature")


def event_payload(event_type: str, article: Article, site: Site, occurred_at: datetime) -> dict[str, Any]:
    """The Standard Webhooks payload {type, timestamp, data} of an article event.

    `timestamp` is when the event happened (not when it is delivered: retries keep it), in UTC.
    `data` carries the article's identity and the full ninjs item, so a partner needs no call back.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}; expected one of {EVENT_TYPES}")
    return {
        "type": event_type,
        "timestamp": _utc(occurred_at),
        "data": {
            "id": article.id,
            "url": site.absolute(article.path),
            "title": article.title,
            "status": article.status,
            "revision": article.revision,
            "ninjs": to_ninjs(article, site),
        },
    }


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """The body bytes to sign and send: compact UTF-8 JSON, keys in the order given.

    Sign exactly these bytes and send exactly these bytes: re-serializing after signing (or a
    receiver re-serializing before verifying) is the classic way to break a signature.
    """
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX).strip()
    try:
        # Tolerate unpadded base64, as the reference libraries do.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("a webhook secret must be 'whsec_' followed by base64") from error
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError(f"a webhook secret must decode to {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes")
    return key


def _digest(key: bytes, message_id: str, timestamp: int, body: bytes) -> bytes:
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError("a webhook-id must be 1 to 256 characters of [A-Za-z0-9_-:] (no '.')")
    if timestamp < 0:
        raise ValueError("a webhook-timestamp is a non-negative number of Unix seconds")
    return hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def _utc(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing a naive datetime as a webhook timestamp: {value!r}")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
