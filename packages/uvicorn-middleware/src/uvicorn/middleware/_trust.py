"""Which hosts may tell us about the real client, and which hop of a proxy chain is the client."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

from uvicorn.middleware._proxy_nodes import Node, parse_node

__all__ = ["MAX_PROXY_HOPS", "BoundedCache", "TrustedHosts", "invalid_trusted_hosts"]

# A chain longer than this is not a deployment, it is a client padding the
# header; beyond it the forwarding headers are ignored for the request.
MAX_PROXY_HOPS = 32

_CACHE_SIZE = 4096
# Longer text is no IP address (nor "[IPv6%zone]:port"), so caching it would only let
# a client pin memory; it is still answered, just not remembered.
_CACHEABLE_LENGTH = 64

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Text made only of IP characters is meant as an address or network: if it does
# not parse, the operator made a typo rather than naming a socket path.
_LOOKS_LIKE_IP = re.compile(r"[0-9A-Fa-f:.]*[0-9][0-9A-Fa-f:.]*(/[0-9]*)?")

logger = logging.getLogger("uvicorn.error")

K = TypeVar("K")
V = TypeVar("V")
H = TypeVar("H")


class BoundedCache(Generic[K, V]):
    """A dict that forgets its oldest entry once it holds ``size`` entries.

    Insertion order is eviction order: O(1), and the hot entries of a steady
    deployment (its few proxies and clients) are re-added soon after eviction.
    """

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._data: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        if len(self._data) >= self._size:
            del self._data[next(iter(self._data))]
        self._data[key] = value

    def __len__(self) -> int:
        return len(self._data)


def _split_setting(trusted_hosts: Sequence[str] | str) -> list[str]:
    items = trusted_hosts.split(",") if isinstance(trusted_hosts, str) else trusted_hosts
    return [item.strip() for item in items if item.strip()]


def invalid_trusted_hosts(trusted_hosts: Sequence[str] | str) -> list[str]:
    """Entries of a ``forwarded_allow_ips`` setting that look like IPs or networks but are not.

    Such entries (``10.0.0.300``, ``10.0.0.0/33``) are kept as literals, which
    can only match a client reported with exactly that text; a server can call
    this to reject the setting at startup.
    """
    invalid = []
    for item in _split_setting(trusted_hosts):
        if item == "*" or not _LOOKS_LIKE_IP.fullmatch(item):
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            invalid.append(item)
    return invalid


class TrustedHosts:
    """The proxies whose forwarding headers are believed.

    Built from a comma-separated string or a list of IP addresses, IPv4/IPv6
    networks in CIDR notation, ``"*"`` (trust everyone) and literals for peers
    that have no IP address (such as a UNIX socket path).
    """

    def __init__(self, trusted_hosts: Sequence[str] | str) -> None:
        items = _split_setting(trusted_hosts)
        self.always_trust: bool = "*" in items
        self.trusted_literals: set[str] = set()
        self.trusted_hosts: set[_IPAddress] = set()
        self.trusted_networks: set[_IPNetwork] = set()
        # Memoised answers: a server sees the same few proxies and clients over and over.
        self._trust_cache: BoundedCache[str, bool] = BoundedCache()
        self._node_cache: BoundedCache[str, Node] = BoundedCache()

        for item in [] if self.always_trust else items:
            # Addresses live in a set rather than as /32 networks: the common
            # single-proxy lookup is then one hash probe, whatever the spelling.
            try:
                if "/" in item:
                    # strict=False: "10.0.0.1/24" means the network that address is in.
                    self.trusted_networks.add(ipaddress.ip_network(item, strict=False))
                else:
                    self.trusted_hosts.add(ipaddress.ip_address(item))
            except ValueError:
                self.trusted_literals.add(item)

        for item in invalid_trusted_hosts(items):
            logger.warning(
                "forwarded_allow_ips: %r is not a valid IP address or network; it only matches a "
                "client reported as exactly that text. Fix the address or CIDR prefix.",
                item,
            )

    def __contains__(self, host: object) -> bool:
        if self.always_trust:
            return True
        if not host or not isinstance(host, str):
            return False
        if len(host) > _CACHEABLE_LENGTH:
            return self._is_trusted(host)
        trusted = self._trust_cache.get(host)
        if trusted is None:
            trusted = self._is_trusted(host)
            self._trust_cache.put(host, trusted)
        return trusted

    def _is_trusted(self, host: str) -> bool:
        if host in self.trusted_literals:
            return True
        try:
            address: _IPAddress = ipaddress.ip_address(host)
        except ValueError:
            return False
        # A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; trust them as a.b.c.d.
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        candidates = (address,) if mapped is None else (address, mapped)
        return any(
            candidate in self.trusted_hosts or any(candidate in network for network in self.trusted_networks)
            for candidate in candidates
        )

    def node(self, text: str) -> Node:
        """Parse a proxy-chain node, memoised like the trust answers."""
        if len(text) > _CACHEABLE_LENGTH:
            return parse_node(text)
        node = self._node_cache.get(text)
        if node is None:
            node = parse_node(text)
            self._node_cache.put(text, node)
        return node

    def pick_client_hop(self, hops_right_to_left: Iterable[H], node_of: Callable[[H], Node]) -> H | None:
        """The hop of a proxy chain that is the real client.

        Each proxy appends the address it received the request from, so the
        chain is walked from the right: the first hop whose node is not a
        trusted proxy is the client. If every node is trusted, the leftmost
        hop is (a client running on a proxy host). Returns None when the
        chain is empty or longer than MAX_PROXY_HOPS. Hops are consumed
        lazily: nothing left of the client is looked at.
        """
        hop = None
        for count, hop in enumerate(hops_right_to_left, start=1):
            if count > MAX_PROXY_HOPS:
                return None
            if node_of(hop).host not in self:
                return hop
        return hop
