"""API keys and settings: pure behaviour, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from functions.config import ENVIRONMENT_VARIABLES, settings_from_environment
from functions.logic.auth import authenticate, hash_key, issue_key, require_role
from functions.models.api import ApiKeyRecord
from functions.models.errors import Forbidden, Unauthorized


class MemoryKeys:
    def __init__(self) -> None:
        self.records: dict[str, ApiKeyRecord] = {}

    def get_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        return self.records.get(key_hash)

    def put_api_key(self, record: ApiKeyRecord) -> None:
        self.records[record.key_hash] = record


NOW = datetime(2026, 11, 27, tzinfo=UTC)


def test_issued_keys_are_stored_only_as_their_sha256() -> None:
    store = MemoryKeys()
    secret, record = issue_key(store, role="reporter", name="Na Ra", now=NOW)

    assert secret.startswith("pw_") and len(secret) > 40
    assert list(store.records) == [hash_key(secret)]
    assert secret not in record.model_dump_json()


def test_a_bearer_key_authenticates_and_anything_else_is_401() -> None:
    store = MemoryKeys()
    secret, record = issue_key(store, role="editor", name="desk", now=NOW)

    assert authenticate(store, f"Bearer {secret}") == record
    for header in (None, "", secret, f"Basic {secret}", "Bearer ", "Bearer pw_unknown"):
        with pytest.raises(Unauthorized):
            authenticate(store, header)


def test_a_revoked_key_stops_working() -> None:
    store = MemoryKeys()
    secret, record = issue_key(store, role="editor", name="desk", now=NOW)
    store.records[record.key_hash] = record.model_copy(update={"revoked": True})

    with pytest.raises(Unauthorized):
        authenticate(store, f"Bearer {secret}")


def test_roles_are_checked_and_admin_may_do_everything() -> None:
    partner = ApiKeyRecord(key_id="p", key_hash="h", role="partner", name="x", created_at=NOW)
    admin = partner.model_copy(update={"role": "admin"})

    with pytest.raises(Forbidden):
        require_role(partner, ["reporter", "editor"])
    require_role(admin, ["reporter", "editor"])


def test_settings_come_from_the_declared_environment_variables_only() -> None:
    environment = {
        "CONTENT_BUCKET": "content",
        "SITE_BUCKET": "site",
        "TABLE_NAME": "table",
        "SITE_URL": "https://news.example.vn/",
        "SITE_BANNER": "THI ĐUA",
        "UNRELATED": "ignored",
    }
    settings = settings_from_environment(environment)

    assert settings.site_url == "https://news.example.vn"
    assert settings.site_banner == "THI ĐUA"
    assert settings.tag_authority == "news.example.vn"
    assert set(ENVIRONMENT_VARIABLES.values()) == set(type(settings).model_fields)


def test_tag_uris_never_use_an_ip_address_as_authority() -> None:
    settings = settings_from_environment(
        {
            "CONTENT_BUCKET": "c-b",
            "SITE_BUCKET": "s-b",
            "TABLE_NAME": "t-t",
            "SITE_URL": "http://127.0.0.1:8080",
        }
    )

    assert settings.tag_authority == "presswire.localhost"


def test_an_unusable_site_url_is_refused_at_cold_start() -> None:
    with pytest.raises(ValueError, match="SITE_URL"):
        settings_from_environment(
            {
                "CONTENT_BUCKET": "c-b",
                "SITE_BUCKET": "s-b",
                "TABLE_NAME": "t-t",
                "SITE_URL": "news.example.vn",
            }
        )


def test_no_key_id_begins_with_a_dash_so_the_cli_never_takes_it_for_an_option(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.logic import auth

    draws = iter(["-ka6uLjPdash" + "x" * 31, "Ka6uLjPplain" + "x" * 31])
    monkeypatch.setattr(auth.secrets, "token_urlsafe", lambda size: next(draws))
    saved: list[Any] = []
    store = type("Keys", (), {"put_api_key": lambda self, record: saved.append(record)})()

    secret, record = auth.issue_key(
        store, role="reporter", name="Na Ra", now=datetime(2026, 1, 1, tzinfo=UTC)
    )

    assert record.key_id == "Ka6uLjPp"
    assert secret.startswith("pw_Ka6uLjPp") and saved == [record]
