"""Webhook URLs may point only at public addresses (SSRF): the checks at registration, the
resolution at delivery, the connection to the vetted address, and how a refusal is recorded.
No network: the resolver is a function the tests pass, and sockets are socket pairs."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any, ClassVar

import pytest

from functions.config import settings_from_environment
from functions.logic import notify
from functions.models.api import PartnerRequest
from functions.models.article import Delivery, Partner
from functions.models.errors import ValidationFailed
from functions.syndication import outbound
from functions.syndication.addresses import (
    IPAddress,
    RefusedAddress,
    check_webhook_url,
    is_public,
    literal_address,
)

PUBLIC = IPv4Address("93.184.216.34")

ALLOWED = [
    "https://partner.example/hooks",
    "https://partner.example:8443/hooks?source=presswire",
    "https://partner.example./hooks",  # the root's trailing dot
    "https://localhost.partner.example/hooks",  # only localhost and *.localhost are this machine
    "https://bücher.example/hooks",
    "https://8.8.8.8/hooks",
    "https://134744072/hooks",  # 8.8.8.8 as one number: odd, but public
    "https://[2606:4700:4700::1111]/hooks",
    "https://[::ffff:8.8.8.8]/hooks",  # IPv4-mapped: judged by the IPv4 address
    "https://[2002:808:808::1]/hooks",  # 6to4 of 8.8.8.8
]

# URL -> part of the reason given.
REFUSED = {
    "http://partner.example/hooks": "https://",
    "ftp://partner.example/hooks": "http:// or https://",
    "gopher://partner.example/hooks": "http:// or https://",
    # IPv4 literals in every range that is not the public internet.
    "https://127.0.0.1/hooks": "127.0.0.1",
    "https://127.0.0.2:9001/2018-06-01/runtime/invocation/next": "127.0.0.2",
    "https://169.254.169.254/latest/meta-data/": "169.254.169.254",
    "https://169.254.170.2/v2/credentials": "169.254.170.2",
    "https://10.0.0.5/hooks": "10.0.0.5",
    "https://172.16.0.1/hooks": "172.16.0.1",
    "https://172.31.255.254/hooks": "172.31.255.254",
    "https://192.168.1.1/hooks": "192.168.1.1",
    "https://100.64.0.1/hooks": "100.64.0.1",  # CGNAT
    "https://0.0.0.0/hooks": "0.0.0.0",
    "https://224.0.0.1/hooks": "224.0.0.1",  # multicast
    "https://240.0.0.1/hooks": "240.0.0.1",  # reserved
    "https://255.255.255.255/hooks": "255.255.255.255",
    "https://192.0.2.10/hooks": "192.0.2.10",  # documentation
    "https://198.18.0.1/hooks": "198.18.0.1",  # benchmarking
    # The same addresses in the numeric forms resolvers and browsers still read.
    "https://2130706433/hooks": "127.0.0.1",  # one decimal number
    "https://0x7f000001/hooks": "127.0.0.1",  # one hex number
    "https://017700000001/hooks": "127.0.0.1",  # one octal number
    "https://0177.0.0.1/hooks": "127.0.0.1",  # octal part
    "https://0x7f.0.0.1/hooks": "127.0.0.1",  # hex part
    "https://0X7F.1/hooks": "127.0.0.1",  # two parts, upper-case hex
    "https://127.1/hooks": "127.0.0.1",
    "https://127.0.0.1./hooks": "127.0.0.1",
    "https://2852039166/latest/meta-data/": "169.254.169.254",
    "https://0251.0376.0251.0376/latest/meta-data/": "169.254.169.254",
    "https://0xa9.0xfe.0xa9.0xfe/latest/meta-data/": "169.254.169.254",
    "https://167772165/hooks": "10.0.0.5",
    "https://0/hooks": "0.0.0.0",
    # Fullwidth characters that IDNA folds into the same addresses and names.
    "https://１２７.０.０.１/hooks": "127.0.0.1",
    "https://ｌｏｃａｌｈｏｓｔ/hooks": "localhost",
    # IPv6, and IPv6 forms that carry an IPv4 address.
    "https://[::1]/hooks": "::1",
    "https://[::]/hooks": "::",
    "https://[::ffff:127.0.0.1]/hooks": "127.0.0.1",
    "https://[::ffff:7f00:1]/hooks": "127.0.0.1",
    "https://[::ffff:169.254.169.254]/latest/meta-data/": "169.254.169.254",
    "https://[::ffff:10.0.0.5]/hooks": "10.0.0.5",
    "https://[::127.0.0.1]/hooks": "::7f00:1",  # IPv4-compatible (deprecated)
    "https://[64:ff9b::7f00:1]/hooks": "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "https://[2002:7f00:1::]/hooks": "127.0.0.1",  # 6to4 of 127.0.0.1
    "https://[2001::1]/hooks": "2001::1",  # Teredo
    "https://[fe80::1]/hooks": "fe80::1",
    "https://[fe80::1%25eth0]/hooks": "fe80::1",
    "https://[fd00:ec2::254]/latest/meta-data/": "fd00:ec2::254",  # EC2's IPv6 metadata service
    "https://[fc00::1]/hooks": "fc00::1",
    "https://[fec0::1]/hooks": "fec0::1",  # site-local
    "https://[ff02::1]/hooks": "ff02::1",
    "https://[2001:db8::1]/hooks": "2001:db8::1",
    # This machine by name (RFC 6761).
    "https://localhost/hooks": "localhost",
    "https://LOCALHOST:8080/hooks": "localhost",
    "https://localhost./hooks": "localhost",
    "https://api.localhost/hooks": "api.localhost",
    # Hosts that end in a number but are no address.
    "https://1.2.3.4.5/hooks": "neither a host name nor an IP address",
    "https://256.0.0.1/hooks": "not a valid IPv4 address",
    "https://1.2.3.0x100/hooks": "not a valid IPv4 address",
    "https://4294967296/hooks": "not a valid IPv4 address",
    "https://partner.0x10/hooks": "neither a host name nor an IP address",
    "https://0x7g.0.0.1/hooks": "neither a host name nor an IP address",
    # Not host names at all.
    "https://partner..example/hooks": "not a valid host name",
    "https://part%6eer.example/hooks": "not a valid host name",
}


@pytest.mark.parametrize("url", ALLOWED)
def test_a_webhook_url_on_a_public_host_is_accepted(url: str) -> None:
    assert check_webhook_url(url, allow_private=False) == url


@pytest.mark.parametrize(("url", "reason"), REFUSED.items(), ids=list(REFUSED))
def test_a_webhook_url_that_could_reach_a_private_address_is_refused_with_the_reason(
    url: str, reason: str
) -> None:
    with pytest.raises(RefusedAddress) as refused:
        check_webhook_url(url, allow_private=False)
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "http://localhost:8080/hooks",
        "https://10.0.0.5/hooks",
        "http://[::1]:8080/hooks",
        "http://2130706433/hooks",
    ],
)
def test_with_private_webhooks_allowed_local_and_plain_http_urls_are_accepted(url: str) -> None:
    assert check_webhook_url(url, allow_private=True) == url


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/hooks", "file:///etc/passwd", "https://partner..example/hooks"]
)
def test_with_private_webhooks_allowed_other_schemes_and_broken_hosts_are_still_refused(url: str) -> None:
    with pytest.raises(RefusedAddress):
        check_webhook_url(url, allow_private=True)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.2", "10.1.0.2"),
        ("0x", "0.0.0.0"),
        ("8.8.8.8", "8.8.8.8"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("partner.example", None),
        ("1password.example", None),
    ],
)
def test_literal_addresses_are_read_as_resolvers_and_browsers_read_them(
    host: str, address: str | None
) -> None:
    assert literal_address(host) == (ip_address(address) if address else None)


def test_only_global_unicast_addresses_are_public() -> None:
    assert is_public(IPv4Address("8.8.8.8"))
    assert is_public(IPv6Address("2606:4700:4700::1111"))
    assert not is_public(IPv4Address("100.127.255.255"))
    assert not is_public(IPv6Address("::ffff:192.168.0.1"))


def test_private_webhooks_are_off_unless_the_environment_turns_them_on() -> None:
    required = {
        "CONTENT_BUCKET": "c-b",
        "SITE_BUCKET": "s-b",
        "TABLE_NAME": "t-t",
        "SITE_URL": "https://a.example",
    }
    assert settings_from_environment(required).allow_private_webhooks is False
    assert (
        settings_from_environment({**required, "ALLOW_PRIVATE_WEBHOOKS": "false"}).allow_private_webhooks
        is False
    )
    assert (
        settings_from_environment({**required, "ALLOW_PRIVATE_WEBHOOKS": "true"}).allow_private_webhooks
        is True
    )


class Partners:
    """A partner store that keeps what it is given."""

    def __init__(self) -> None:
        self.saved: list[Partner] = []

    def put_partner(self, partner: Partner) -> None:
        self.saved.append(partner)


def register(url: str, *, allow_private_webhooks: bool) -> Partners:
    from functions.logic.syndication import register_partner
    from functions.models.api import ApiKeyRecord

    admin = ApiKeyRecord(
        key_id="admin001",
        key_hash="0" * 64,
        role="admin",
        name="Quản trị",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    partners = Partners()
    request = PartnerRequest.model_validate({"url": url})
    register_partner(
        partners,  # type: ignore[arg-type]
        admin,
        request,
        datetime(2026, 11, 27, tzinfo=UTC),
        allow_private_webhooks=allow_private_webhooks,
    )
    return partners


def test_registering_a_private_webhook_url_is_the_url_fields_422_and_saves_nothing() -> None:
    with pytest.raises(ValidationFailed) as refused:
        register("https://169.254.169.254/latest/meta-data/", allow_private_webhooks=False)

    problem = refused.value.problem()
    assert problem.status == 422 and problem.field == "url"
    assert "169.254.169.254" in problem.detail


def test_registering_requires_https_unless_private_webhooks_are_allowed() -> None:
    with pytest.raises(ValidationFailed, match="https://"):
        register("http://partner.example/hooks", allow_private_webhooks=False)

    assert register("https://partner.example/hooks", allow_private_webhooks=False).saved
    assert register("http://127.0.0.1:8081/hooks", allow_private_webhooks=True).saved


# -- delivery ---------------------------------------------------------------------------------


@dataclass
class Resolver:
    """DNS as the test says: name -> addresses; counts the look-ups."""

    answers: Mapping[str, list[IPAddress]]
    asked: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return list(self.answers[host])


@dataclass
class Server:
    """One HTTP/1.1 exchange over a socket pair: what the client sent, and a canned answer."""

    answer: bytes = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
    connected_to: list[tuple[str, int]] = field(default_factory=list)
    received: bytearray = field(default_factory=bytearray)

    def connect(self, address: tuple[str, int], timeout: float | None = None, *_: Any) -> socket.socket:
        self.connected_to.append(address)
        client, server = socket.socketpair()
        threading.Thread(target=self._serve, args=(server,), daemon=True).start()
        return client

    def _serve(self, server: socket.socket) -> None:
        with server:
            while b"\r\n\r\n" not in self.received:
                self.received += server.recv(65536)
            head, _, rest = bytes(self.received).partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                ),
                0,
            )
            while len(rest) < length:
                chunk = server.recv(65536)
                rest += chunk
                self.received += chunk
            server.sendall(self.answer)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    served = Server()
    monkeypatch.setattr(outbound.socket, "create_connection", served.connect)
    yield served


def post(url: str, resolver: Resolver, *, allow_private: bool = False) -> int:
    return outbound.post(
        url,
        b'{"type":"test"}',
        {"Content-Type": "application/json"},
        allow_private=allow_private,
        timeout=5,
        resolver=resolver,
    )


def test_delivery_refuses_a_name_that_resolves_to_loopback_and_sends_nothing(server: Server) -> None:
    resolver = Resolver({"partner.example": [IPv4Address("127.0.0.1")]})

    with pytest.raises(RefusedAddress, match=r"partner\.example resolves to .*127\.0\.0\.1"):
        post("https://partner.example/hooks", resolver)

    assert server.connected_to == []


def test_delivery_refuses_a_name_with_one_private_address_among_public_ones(server: Server) -> None:
    resolver = Resolver({"partner.example": [PUBLIC, IPv6Address("::ffff:169.254.169.254")]})

    with pytest.raises(RefusedAddress, match=r"169\.254\.169\.254"):
        post("https://partner.example/hooks", resolver)

    assert server.connected_to == []


def test_delivery_refuses_private_literals_and_localhost_without_asking_dns(server: Server) -> None:
    resolver = Resolver({})
    for url in ("https://2130706433/hooks", "https://[::ffff:10.0.0.5]/hooks", "https://api.localhost/hooks"):
        with pytest.raises(RefusedAddress):
            post(url, resolver)
    assert resolver.asked == []
    assert server.connected_to == []


def test_delivery_connects_to_the_vetted_address_once_resolved_and_sends_the_name_as_host(
    server: Server,
) -> None:
    resolver = Resolver({"partner.example": [PUBLIC]})

    status = post("http://partner.example:8080/hooks?source=presswire", resolver)

    assert status == 204
    assert resolver.asked == ["partner.example"]  # resolved once, never again to connect
    assert server.connected_to == [(str(PUBLIC), 8080)]
    head = bytes(server.received).split(b"\r\n")
    assert head[0] == b"POST /hooks?source=presswire HTTP/1.1"
    assert b"Host: partner.example:8080" in head
    assert bytes(server.received).endswith(b'{"type":"test"}')


def test_delivery_sends_a_non_ascii_path_percent_encoded(server: Server) -> None:
    resolver = Resolver({"partner.example": [PUBLIC]})

    assert post("http://partner.example/tin-tức?mục=thời-sự", resolver) == 204

    request_line = bytes(server.received).split(b"\r\n")[0]
    assert request_line == b"POST /tin-t%E1%BB%A9c?m%E1%BB%A5c=th%E1%BB%9Di-s%E1%BB%B1 HTTP/1.1"


def test_delivery_does_not_follow_a_redirect_to_the_metadata_service(server: Server) -> None:
    server.answer = (
        b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    resolver = Resolver({"partner.example": [PUBLIC]})

    assert post("http://partner.example/hooks", resolver) == 302
    assert server.connected_to == [(str(PUBLIC), 80)]


def test_with_private_webhooks_allowed_delivery_reaches_loopback(server: Server) -> None:
    resolver = Resolver({"receiver.localhost": [IPv4Address("127.0.0.1")]})

    assert post("http://receiver.localhost:8080/hooks", resolver, allow_private=True) == 204
    assert server.connected_to == [("127.0.0.1", 8080)]


def test_https_delivery_verifies_the_certificate_against_the_name_not_the_address(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Recording(ssl.SSLContext):
        server_hostnames: ClassVar[list[str | None]] = []

        def wrap_socket(  # type: ignore[override]
            self, sock: socket.socket, *args: Any, server_hostname: str | None = None, **kwargs: Any
        ) -> socket.socket:
            self.server_hostnames.append(server_hostname)
            return sock  # plain text from here on: the test's server speaks HTTP

    def default_context() -> ssl.SSLContext:
        # The verifying defaults (CERT_REQUIRED, check_hostname), as ssl.create_default_context.
        return Recording(ssl.PROTOCOL_TLS_CLIENT)

    monkeypatch.setattr(outbound.ssl, "create_default_context", default_context)
    resolver = Resolver({"partner.example": [PUBLIC]})

    assert post("https://partner.example/hooks", resolver) == 204

    assert server.connected_to == [(str(PUBLIC), 443)]
    assert Recording.server_hostnames == ["partner.example"]  # SNI and the hostname check
    assert b"Host: partner.example" in bytes(server.received).split(b"\r\n")


def test_a_malformed_answer_is_a_network_failure_that_is_retried(server: Server) -> None:
    server.answer = b"SMTP ready\r\n"
    resolver = Resolver({"partner.example": [PUBLIC]})

    with pytest.raises(OSError, match="bad HTTP response"):
        post("http://partner.example/hooks", resolver)


# -- how the notifier records a refusal ----------------------------------------------------------


@dataclass
class Store:
    partner: Partner
    deliveries: list[Delivery] = field(default_factory=list)

    def get_partner(self, partner_id: str) -> Partner | None:
        return self.partner if partner_id == self.partner.id else None

    def put_delivery(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)


def delivery_message(partner: Partner) -> dict[str, Any]:
    return {
        "kind": "delivery",
        "partner_id": partner.id,
        "message_id": "msg_1_1_published",
        "event": "article.published",
        "article_id": "a1",
        "payload": '{"type":"article.published"}',
    }


@pytest.fixture
def partner() -> Partner:
    return Partner(
        id="p1",
        url="https://rebinding.example/hooks",
        events=["article.published"],
        sections=[],
        tags=[],
        secret="whsec_" + "A" * 43 + "=",
        created_at=datetime(2026, 11, 27, tzinfo=UTC),
        created_by="k1",
    )


def test_a_refused_delivery_is_recorded_as_failed_with_the_reason_and_not_retried(partner: Partner) -> None:
    store = Store(partner)

    def refusing(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        raise RefusedAddress(
            "rebinding.example resolves to a private or otherwise non-public address (127.0.0.1)"
        )

    # The first of eight attempts: a network failure would be retried, a refusal is not.
    notify.deliver(delivery_message(partner), 1, store, refusing, datetime(2026, 11, 27, tzinfo=UTC))  # type: ignore[arg-type]

    (delivery,) = store.deliveries
    assert delivery.status == "failed"
    assert delivery.response_status is None
    assert delivery.error.startswith("refused: rebinding.example resolves to")
    assert "127.0.0.1" in delivery.error


def test_a_redirect_answer_is_a_failed_delivery_that_says_redirects_are_not_followed(
    partner: Partner,
) -> None:
    store = Store(partner)

    notify.deliver(
        delivery_message(partner),
        1,
        store,
        lambda url, body, headers: 301,
        datetime(2026, 11, 27, tzinfo=UTC),
    )  # type: ignore[arg-type]

    (delivery,) = store.deliveries
    assert (delivery.status, delivery.response_status) == ("failed", 301)
    assert "redirects are not followed" in delivery.error


def test_the_notifier_uses_the_public_only_transport_unless_private_webhooks_are_allowed() -> None:
    assert notify.sender(allow_private=False) is notify.send_http_to_public
    assert notify.sender(allow_private=True) is notify.send_http
