"""Where a partner's webhook may point: public addresses only, unless private ones are allowed.

Partners choose their webhook URLs and the notifier POSTs to them from inside AWS, next to what a
request from there must never reach: the instance metadata service (169.254.169.254), the Lambda
runtime API and anything else on 127.0.0.1, and the private networks an account peers with. A URL
is checked twice. At registration, by its text: https only, and a host that is neither this machine
by name (localhost, *.localhost) nor a non-public IP literal, in any of the forms a resolver reads
(2130706433, 0177.0.0.1, 0x7f.1, ::ffff:127.0.0.1). At delivery, by what its name resolves to then
(functions/syndication/outbound.py): a name may point anywhere, and may change where it points
between registration and delivery (DNS rebinding).

Pure: the caller passes the policy, and resolving names is outbound.py's.
"""

from __future__ import annotations

import string
from ipaddress import IPv4Address, IPv6Address, ip_address
from urllib.parse import urlsplit

IPAddress = IPv4Address | IPv6Address

WEB_SCHEMES = frozenset({"http", "https"})
_DIGITS = {8: frozenset("01234567"), 10: frozenset(string.digits), 16: frozenset(string.hexdigits)}
# After IDNA: letters, digits, hyphens, dots; underscores occur in real names (SRV-style labels).
_NAME_CHARACTERS = frozenset(string.ascii_lowercase + string.digits + "-._")


class RefusedAddress(ValueError):
    """A webhook URL, or an address its host resolves to, that the notifier must not reach. A
    ValueError: raised by a request model's validator, it is the 422 of the field at fault."""


def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """The URL, if a webhook may point at it; RefusedAddress saying why not otherwise. Resolves
    nothing: a name that resolves to a private address is refused at delivery."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in WEB_SCHEMES:
        raise RefusedAddress("must be an http:// or https:// URL")
    if scheme != "https" and not allow_private:
        raise RefusedAddress("must be an https:// URL")
    host = normalized_host(parts.hostname or "")
    if not allow_private:
        refuse_named_host(host)
    return url


def normalized_host(host: str) -> str:
    """The host as a resolver gets it: IDNA-encoded (so fullwidth "ｌｏｃａｌｈｏｓｔ" is
    "localhost"), lower case, without the root's trailing dot. RefusedAddress if it is neither a
    DNS name nor an IP address."""
    if not host:
        raise RefusedAddress("must name a host, e.g. https://partner.example/hooks")
    if ":" in host:
        try:
            ip_address(host)
        except ValueError as error:
            raise RefusedAddress(f"{host!r} is not a valid IPv6 address") from error
        return host.lower()
    try:
        name = host.encode("idna").decode("ascii").lower()
    except UnicodeError as error:
        raise RefusedAddress(f"{host!r} is not a valid host name") from error
    name = name.removesuffix(".")
    if not name or not set(name) <= _NAME_CHARACTERS or "" in name.split("."):
        raise RefusedAddress(f"{host!r} is not a valid host name")
    return name


def refuse_named_host(host: str) -> None:
    """RefusedAddress if the (normalized) host is this machine by name or a non-public literal."""
    if host == "localhost" or host.endswith(".localhost"):
        # RFC 6761: resolvers answer these with the loopback address, whatever DNS says.
        raise RefusedAddress(f"must not name this machine ({host})")
    address = literal_address(host)
    if address is not None and not is_public(address):
        raise RefusedAddress(
            f"must not point at a private or otherwise non-public address ({described(address)})"
        )


def literal_address(host: str) -> IPAddress | None:
    """The address a (normalized) host is written as, or None for a DNS name. IPv4 in every form
    that the WHATWG URL standard and inet_aton read: one to four parts, each decimal, octal (a
    leading 0) or hex (0x), the last filling the remaining bytes. RefusedAddress for a host that
    ends in a number but is no address (a resolver would not treat it as a name either)."""
    if ":" in host:
        return ip_address(host)
    parts = host.split(".")
    if _ipv4_number(parts[-1]) is None:
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if len(parts) > 4 or any(number is None for number in numbers):
        raise RefusedAddress(f"{host!r} is neither a host name nor an IP address")
    *leading, last = [number for number in numbers if number is not None]
    if any(number > 255 for number in leading) or last >= 256 ** (4 - len(leading)):
        raise RefusedAddress(f"{host!r} is not a valid IPv4 address")
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return IPv4Address(value)


def _ipv4_number(part: str) -> int | None:
    if not part:
        return None
    base, digits = 10, part
    if part[:2] in ("0x", "0X"):
        base, digits = 16, part[2:]
    elif len(part) > 1 and part.startswith("0"):
        base, digits = 8, part[1:]
    if not digits:
        return 0  # "0x" alone is zero, as inet_aton and browsers read it
    if not set(digits) <= _DIGITS[base]:
        return None
    return int(digits, base)


def embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 address carries and is routed to (mapped, 6to4), if any."""
    if isinstance(address, IPv6Address):
        return address.ipv4_mapped or address.sixtofour
    return None


def described(address: IPAddress) -> str:
    """The address as written, and the IPv4 address it stands for: ::ffff:7f00:1 (127.0.0.1)."""
    embedded = embedded_ipv4(address)
    return f"{address} ({embedded})" if embedded is not None else str(address)


def is_public(address: IPAddress) -> bool:
    """Whether the address is reachable on the public internet only: not private (RFC 1918, ULA),
    loopback, link-local (cloud metadata), CGNAT (100.64.0.0/10), multicast, reserved,
    unspecified, documentation or benchmarking space. IPv6 forms that carry an IPv4 address
    (mapped ::ffff:a.b.c.d, 6to4 2002::/16) are judged by that address."""
    embedded = embedded_ipv4(address)
    if embedded is not None:
        return is_public(embedded)
    if isinstance(address, IPv6Address) and (address.is_site_local or address.teredo is not None):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )
