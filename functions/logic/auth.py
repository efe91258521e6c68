"""API keys: issued once, stored only as SHA-256 hashes, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

from functions.dal.protocol import KeyStore
from functions.models.errors import Forbidden, Unauthorized
from functions.models.keys import ApiKeyRecord, Role

KEY_PREFIX = "pw_"


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> str:
    # The key id is the secret's first 8 characters; one that began with "-" would read as an
    # option on a command line (`presswire keys revoke -ka6uLjP`), so such a draw is not used.
    while True:
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        if secret[len(KEY_PREFIX)] != "-":
            return secret


def issue_key(store: KeyStore, *, role: Role, name: str, now: datetime) -> tuple[str, ApiKeyRecord]:
    """Create a key; the secret is returned here once and never stored."""
    secret = _new_secret()
    record = ApiKeyRecord(
        key_id=secret[len(KEY_PREFIX) : len(KEY_PREFIX) + 8],
        key_hash=hash_key(secret),
        role=role,
        name=name,
        created_at=now,
    )
    store.put_api_key(record)
    return secret, record


def authenticate(store: KeyStore, authorization: str | None) -> ApiKeyRecord:
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("send the API key as 'Authorization: Bearer <key>'")
    key_hash = hash_key(secret.strip())
    record = store.get_api_key(key_hash)
    # The lookup is by hash, so timing reveals nothing about the secret; compare anyway so a
    # store that matched loosely can never let a different key through.
    if record is None or not hmac.compare_digest(record.key_hash, key_hash) or record.revoked:
        raise Unauthorized("the API key is not valid")
    return record


def require_role(principal: ApiKeyRecord, allowed: Iterable[Role]) -> None:
    allowed = tuple(allowed)
    if principal.role not in allowed and principal.role != "admin":
        raise Forbidden(f"a {principal.role} key may not do this; it needs one of: {', '.join(allowed)}")


def list_keys(store: KeyStore) -> list[ApiKeyRecord]:
    return sorted(store.list_api_keys(), key=lambda record: record.created_at)


def revoke_key(store: KeyStore, key_id: str) -> ApiKeyRecord:
    """Takes effect at once: every request reads its key with a consistent read."""
    return store.revoke_api_key(key_id)
