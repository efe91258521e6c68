"""POST to a URL a partner chose, without letting it reach what it must not (addresses.py).

The host's name is resolved once, every address it resolves to is checked, and the connection
goes to one of those very addresses: a name whose DNS answers change between the check and the
connection (DNS rebinding) cannot slip a private address in, because the name is not resolved
again. TLS still verifies the certificate against the name (SNI and hostname check), and the Host
header carries the name. Redirects are never followed: a 3xx is the answer, and its Location
(which could point anywhere) is not visited.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from ipaddress import ip_address
from urllib.parse import quote, urlsplit

from functions.syndication.addresses import (
    WEB_SCHEMES,
    IPAddress,
    RefusedAddress,
    described,
    is_public,
    literal_address,
    normalized_host,
    refuse_named_host,
)

# (host, port) -> the addresses it resolves to, in the resolver's order of preference.
Resolver = Callable[[str, int], list[IPAddress]]
DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = "presswire-webhooks/1"


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for the name (A and AAAA), without duplicates.
    socket.gaierror (an OSError) when it gives none."""
    found: dict[IPAddress, None] = {}
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        found[ip_address(sockaddr[0])] = None
    return list(found)


def vetted_addresses(
    host: str, port: int, *, allow_private: bool, resolver: Resolver | None = None
) -> list[IPAddress]:
    """The addresses to connect to for this (normalized) host. RefusedAddress if the host is
    refused by name, or if any address it resolves to is not public: a name that resolves to a
    public and a private address could be answered with either."""
    if not allow_private:
        refuse_named_host(host)
    literal = literal_address(host)
    addresses = [literal] if literal is not None else (resolver or resolve)(host, port)
    if allow_private:
        return addresses
    private = [address for address in addresses if not is_public(address)]
    if private:
        listed = ", ".join(described(address) for address in private)
        raise RefusedAddress(f"{host} resolves to a private or otherwise non-public address ({listed})")
    return addresses


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allow_private: bool,
    timeout: float,
    resolver: Resolver | None = None,
) -> int:
    """POST body to url; the response's status. RefusedAddress if the URL may not be reached
    (nothing is sent); OSError for a network failure, a timeout or a broken response."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in WEB_SCHEMES:
        raise RefusedAddress(f"not an http(s) URL: {url}")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as error:
        raise RefusedAddress(f"not a valid URL: {error}") from error
    host = normalized_host(parts.hostname or "")
    addresses = vetted_addresses(host, port, allow_private=allow_private, resolver=resolver)
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(host, port, addresses, timeout, ssl.create_default_context())
        if scheme == "https"
        else _PinnedHTTPConnection(host, port, addresses, timeout)
    )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # HTTP/1.1 request targets are ASCII; a URL registered with Vietnamese in its path is sent
    # percent-encoded (UTF-8), as a browser would send it.
    target = "".join(char if char.isascii() else quote(char, safe="") for char in target)
    try:
        connection.request("POST", target, body=body, headers={"User-Agent": USER_AGENT, **headers})
        return connection.getresponse().status
    except http.client.HTTPException as error:
        # A malformed or truncated answer is the network's failure, retried like one.
        raise ConnectionError(f"bad HTTP response: {type(error).__name__}: {error}") from error
    finally:
        connection.close()


def _connect(addresses: Sequence[IPAddress], port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the first of the addresses that answers, as socket.create_connection
    does for a name, but to these addresses and no others."""
    failure: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout)
        except OSError as error:
            failure = error
    raise failure


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """http.client, with the Host header from the name and the socket to a vetted address."""

    def __init__(self, host: str, port: int, addresses: Sequence[IPAddress], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS over the vetted socket, verified against the name (SNI, hostname)."""

    def __init__(
        self,
        host: str,
        port: int,
        addresses: Sequence[IPAddress],
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._addresses = addresses
        self._tls = context

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
