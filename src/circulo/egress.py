"""Where Círculo may send requests: public addresses, plus what ``CIRCULO_EGRESS_ALLOW`` names.

Webhook subscriptions, journeys' ``webhook`` actions and CRM connectors send requests to URLs
that people type. Left open, anyone allowed to save such a URL can make the server call its
own loopback, the private network behind it or the cloud metadata service (169.254.169.254
hands out the machine's credentials), and read what answers. So a destination is refused
unless every address it stands for is global: loopback, private (10/8, 172.16/12,
192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), shared (100.64/10), multicast,
reserved and unspecified (0.0.0.0, ::) addresses are not, nor are IPv4 addresses wrapped in
IPv6 (``::ffff:127.0.0.1``, NAT64) or written the old ways (``2130706433``, ``0177.0.0.1``,
``0x7f.1``, ``127.1``), which resolvers still accept.

Two moments are checked: when a URL is saved (its host as written: literal addresses and
names that always mean this machine, such as ``localhost``) and when connecting (each address
the name resolves to then: a name that pointed elsewhere when saved, or re-pointed between
two lookups, is caught; see ``connectors.outbound``). Legitimate internal systems are named
in the allowlist: host names (``crm.intranet``, or ``*.intranet`` for a domain), addresses
or networks (``10.20.0.0/16``).

Pure: no I/O; the caller resolves.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Metadata services, named even where the general rules already refuse them, so that an
# allowlisted private network never lets them through by accident.
METADATA = (
    ipaddress.ip_network("169.254.169.254/32"),  # AWS, GCP, Azure, OpenStack, DigitalOcean
    ipaddress.ip_network("169.254.170.2/32"),  # AWS ECS task credentials
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS over IPv6
)
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# The forms inet_aton accepts: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x).
_OLD_IPV4 = re.compile(r"(?:0x[0-9a-f]*|\d+)(?:\.(?:0x[0-9a-f]*|\d+)){0,3}\.?", re.IGNORECASE)
_LIMITS = {1: (0xFFFFFFFF,), 2: (0xFF, 0xFFFFFF), 3: (0xFF, 0xFF, 0xFFFF),
           4: (0xFF, 0xFF, 0xFF, 0xFF)}

PRIVATE = "refused: private address"
METADATA_REASON = "refused: cloud metadata address"


class EgressError(ValueError):
    """A destination Círculo will not send to; the message says why, never what answered."""


def literal_address(host: str) -> Address | None:
    """The address a host written in a URL stands for without any lookup: ``10.0.0.1``,
    ``::1``, and the numeric forms resolvers accept (``2130706433``, ``0x7f.1``...).
    None for a name. Raises EgressError for numbers that are no address at all."""
    bare = host.strip("[]").rstrip(".") if host else host
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if not _OLD_IPV4.fullmatch(host):
        return None
    parts = host.rstrip(".").split(".")
    numbers = []
    for part in parts:
        try:
            numbers.append((int(part, 16) if len(part) > 2 else 0)  # "0x" is 0, as in C
                           if part.lower().startswith("0x")
                           else int(part, 8) if len(part) > 1 and part.startswith("0")
                           else int(part))
        except ValueError as exc:
            raise EgressError(f"'{host}' is not an address") from exc
    if any(n > limit for n, limit in zip(numbers, _LIMITS[len(numbers)], strict=True)):
        raise EgressError(f"'{host}' is not an address")
    value = 0
    for byte in numbers[:-1]:  # the last part fills the bits the others leave
        value = (value << 8) | byte
    value = (value << (8 * (5 - len(numbers)))) | numbers[-1]
    return ipaddress.IPv4Address(value)


def _unwrap(address: Address) -> Address:
    """The IPv4 address inside an IPv6 one (mapped ``::ffff:a.b.c.d``, NAT64), if any."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def _is_metadata(address: Address) -> bool:
    return any(address in network for network in METADATA)


def _is_public(address: Address) -> bool:
    return address.is_global and not (address.is_private or address.is_loopback
                                      or address.is_link_local or address.is_multicast
                                      or address.is_reserved or address.is_unspecified)


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """The allowlist, parsed: host names (``*.`` for a domain) and networks."""

    networks: tuple[Network, ...] = ()
    names: frozenset[str] = frozenset()
    domains: tuple[str, ...] = ()  # ".intranet" for "*.intranet"

    @classmethod
    def parse(cls, entries: Iterable[str]) -> EgressPolicy:
        networks: list[Network] = []
        names: set[str] = set()
        domains: list[str] = []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if entry.startswith("*."):
                domains.append(entry[1:])
            elif re.fullmatch(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?", entry):
                names.add(entry)
            else:
                raise ValueError(f"'{raw}' is neither a host name, *.domain, an address nor "
                                 "a network")
        return cls(tuple(networks), frozenset(names), tuple(domains))

    def allows_name(self, host: str) -> bool:
        """A host named in the allowlist may resolve anywhere (but the metadata service)."""
        name = host.lower().rstrip(".")
        return name in self.names or any(name.endswith(d) for d in self.domains)

    def refusal(self, address: Address) -> str | None:
        """Why ``address`` may not be reached (a short fixed phrase), or None."""
        inner = _unwrap(address)
        allowed = any(a in network for a in {address, inner} for network in self.networks
                      if a.version == network.version)
        if _is_metadata(address) or _is_metadata(inner):  # only when named one by one
            exact = {n.network_address for n in self.networks if n.num_addresses == 1}
            return None if address in exact or inner in exact else METADATA_REASON
        if allowed or (_is_public(address) and _is_public(inner)):
            return None
        return PRIVATE

    def check_resolved(self, host: str, addresses: Iterable[str]) -> None:
        """At connection time: every address ``host`` resolved to must be allowed."""
        named = self.allows_name(host)
        for text in addresses:
            address = _unwrap(ipaddress.ip_address(text.split("%", 1)[0]))
            if named and not _is_metadata(address):
                continue
            reason = self.refusal(address)
            if reason is not None:
                raise EgressError(reason)

    def check_host(self, host: str) -> None:
        """When saved: the host as written (no lookup; that happens when connecting)."""
        name = host.lower().rstrip(".")
        address = literal_address(name)
        if address is not None:
            reason = self.refusal(address)
            if reason is not None:
                raise EgressError(reason)
            return
        if self.allows_name(name):
            return
        if name == "localhost" or name.endswith(".localhost") or name in METADATA_NAMES:
            raise EgressError(PRIVATE)

    def check_url(self, url: str) -> None:
        """An http(s) URL whose host passes ``check_host``; raises EgressError."""
        try:
            parts = urlsplit(url.strip())
            host = parts.hostname
        except ValueError as exc:
            raise EgressError("not a URL") from exc
        if parts.scheme not in ("http", "https") or not host:
            raise EgressError("expected an http(s) URL")
        self.check_host(host)
