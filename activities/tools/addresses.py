"""Which addresses tools may connect to: public ones only, unless the allowlist names the host.

Used by the outbound HTTP guard (net.py) after DNS resolution and on every redirect hop.
"""

from __future__ import annotations

import ipaddress
import socket

from activities.tools.base import ToolError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Where clouds serve instance credentials (AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(text) for text in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
ALLOW_HINT = "set OUTBOUND_ALLOW_HOSTS to allow a host"


class BlockedDestination(ToolError):
    """The URL points somewhere tools may not go: the message names the host or address, why,
    and the setting that allows it, for the model and the operator alike."""


def normal_host(host: str) -> str:
    """A host as the allowlist compares it: lower case, no trailing dot, no IPv6 brackets, IP
    literals in their canonical form (so `::0001` matches `::1`)."""
    host = host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")
    address = literal_address(host)
    return host if address is None else str(address)


def allow_key(host: str) -> str:
    """A host as the allowlist (OUTBOUND_ALLOW_HOSTS) compares it: as written, lower case, IDNA
    (punycode) form, no trailing dot, no IPv6 brackets; an IPv6 or dotted-quad IPv4 literal in
    its canonical form (`::0001` matches `::1`). Shorthand and integer IPv4 forms (`127.1`,
    `2130706433`, `0x7f.1`) are kept as written: they never match an entry written as a dotted
    quad, though they connect to the same address."""
    host = host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return host
    return host


def literal_address(host: str) -> Address | None:
    """The address `host` spells, if it is an IP literal: including the shorthand IPv4 forms
    (`2130706433`, `0x7f000001`, `127.1`) that the system resolver would read as addresses."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host.isascii() and host.replace(".", "").isalnum():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def refusal(address: Address) -> str | None:
    """Why tools may not connect to `address`, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(address.packed[-4:])
        if embedded is not None:
            why = refusal(embedded)
            return None if why is None else f"{why} (as {embedded})"
    checks = (
        (address in METADATA_ADDRESSES, "a cloud metadata address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address in CGNAT, "a shared (carrier-grade NAT) address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
    )
    return next((why for refused, why in checks if refused), None)


def check_addresses(host: str, addresses: list[Address]) -> None:
    """BlockedDestination unless every address of `host` is public: one inside is enough for a
    resolver that answers differently from one connection to the next."""
    for address in addresses:
        why = refusal(address)
        if why is None:
            continue
        if literal_address(host) is not None:
            raise BlockedDestination(f"refused: {address} is {why} ({ALLOW_HINT})")
        raise BlockedDestination(f"refused: {host} resolves to {address}, {why} ({ALLOW_HINT})")
