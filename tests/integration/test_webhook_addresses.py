"""Private webhook addresses (SSRF), through the API and the notifier under moto: with
ALLOW_PRIVATE_WEBHOOKS off, as on AWS, a private URL is refused at registration, and a name that
resolves to a private address (registered earlier, or rebound since) is refused at delivery."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address
from typing import Any

import pytest

from functions.config import get_settings
from functions.syndication import outbound
from functions.syndication.addresses import IPAddress
from tests.integration.conftest import Harness
from tests.webhook_receiver import Receiver, webhook_receiver


@pytest.fixture
def admin(harness: Harness) -> str:
    return harness.new_key("admin", "Quản trị")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


def private_webhooks(monkeypatch: pytest.MonkeyPatch, allowed: bool) -> None:
    monkeypatch.setenv("ALLOW_PRIVATE_WEBHOOKS", "true" if allowed else "false")
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
        "https://10.0.0.5/hooks",
        "https://2130706433/hooks",
        "https://0x7f.1/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://localhost/hooks",
        "http://partner.example/hooks",
    ],
)
def test_registering_a_private_or_plain_http_webhook_is_a_422_naming_url_when_private_webhooks_are_off(
    harness: Harness, admin: str, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    private_webhooks(monkeypatch, allowed=False)

    response = harness.call("POST", "/partners", {"url": url}, key=admin)

    assert response.status == 422, response.body
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["field"] == "url"
    assert [error["field"] for error in problem["errors"]] == ["url"]
    assert harness.call("GET", "/partners", key=admin).json()["items"] == []


def test_with_private_webhooks_on_as_in_the_local_stack_a_loopback_http_webhook_is_registered(
    harness: Harness, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    private_webhooks(monkeypatch, allowed=True)

    response = harness.call("POST", "/partners", {"url": "http://127.0.0.1:8080/hooks"}, key=admin)

    assert response.status == 201, response.body


def test_a_webhook_whose_name_resolves_to_loopback_is_refused_at_delivery_recorded_and_not_retried(
    harness: Harness,
    admin: str,
    seed_article: dict[str, Any],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Registered while its name pointed somewhere public (or before this check existed); by the
    # time of delivery the name resolves to this machine, where the receiver listens.
    port = int(receiver.url.rsplit(":", 1)[1])
    private_webhooks(monkeypatch, allowed=True)
    registered = harness.call(
        "POST", "/partners", {"url": f"http://rebound.partner.example:{port}/hooks"}, key=admin
    )
    assert registered.status == 201, registered.body
    partner = registered.json()
    private_webhooks(monkeypatch, allowed=False)
    asked: list[str] = []

    def rebinding(host: str, port: int) -> list[IPAddress]:
        asked.append(host)
        return [IPv4Address("127.0.0.1")]

    monkeypatch.setattr(outbound, "resolve", rebinding)
    article = {**seed_article, "body": "<p>Qua 3 ngày tập huấn, các học viên đã nghiên cứu.</p>"}
    assert harness.call("POST", "/articles", article).status == 201
    harness.publish()

    handled = harness.notify(rounds=3)

    assert asked == ["rebound.partner.example"]
    assert receiver.requests == []  # nothing reached the address the name was rebound to
    assert handled == 2  # the change, then its one delivery: refused once, never retried
    deliveries = harness.call("GET", f"/partners/{partner['id']}/deliveries", key=admin).json()["items"]
    assert [(item["status"], item["attempts"], item["response_status"]) for item in deliveries] == [
        ("failed", 1, None)
    ]
    assert deliveries[0]["error"].startswith("refused: rebound.partner.example resolves to")
    assert "127.0.0.1" in deliveries[0]["error"]
    dead = harness.sqs.receive_message(QueueUrl=harness.name("NotifyDeadLetterQueue"), MaxNumberOfMessages=10)
    assert "Messages" not in dead
