"""Parse the node and host values that proxies write into forwarding headers.

A *node* names one hop of a proxy chain: an entry of ``X-Forwarded-For`` or
the ``for=`` value of an RFC 7239 ``Forwarded`` element. It is an IP address
with an optional port, or (RFC 7239 section 6) ``unknown`` or an obfuscated
``_identifier`` that a proxy writes when it will not reveal the address.
Anything else is invalid and must never become the client of a request.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from typing import NamedTuple

__all__ = ["Node", "NodeKind", "is_valid_host", "parse_node"]


class NodeKind(enum.Enum):
    ADDRESS = "address"
    """An IP address: usable as the request's client."""
    HIDDEN = "hidden"
    """``unknown`` or an obfuscated identifier: a valid hop whose address is withheld."""
    INVALID = "invalid"
    """Text that is none of the above."""


class Node(NamedTuple):
    kind: NodeKind
    host: str
    """The normalised IP address for ADDRESS nodes, otherwise the text as written (for literal trust)."""
    port: int
    """0 when absent or obfuscated."""


_OBFUSCATED = re.compile(r"_[A-Za-z0-9._-]+")
_PORT_DIGITS = re.compile(r"[0-9]{1,5}")

# RFC 3986 host (reg-name, IPv4 or bracketed IPv6) with an optional port, as
# allowed in a Host header. Excludes whitespace, "/", "@", "?", "#" and
# control characters, so a forwarded host cannot smuggle a path or userinfo.
_HOST_HEADER = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+;=%-]+)(?::[0-9]{1,5})?")


def _parse_port(text: str) -> int | None:
    if _PORT_DIGITS.fullmatch(text):
        port = int(text)
        return port if port <= 65535 else None
    if _OBFUSCATED.fullmatch(text):
        return 0
    return None


def _invalid(text: str) -> Node:
    return Node(NodeKind.INVALID, text, 0)


def _with_port(kind: NodeKind, host: str, port_text: str | None, text: str) -> Node:
    if port_text is None:
        return Node(kind, host, 0)
    port = _parse_port(port_text)
    return _invalid(text) if port is None else Node(kind, host, port)


def _parse_name(name: str, version: int) -> tuple[NodeKind, str] | None:
    """Classify a node name (no brackets, no port); ``version`` is the IP version it must have."""
    if name == "unknown" or _OBFUSCATED.fullmatch(name):
        return NodeKind.HIDDEN, name
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    if address.version != version:
        return None
    return NodeKind.ADDRESS, str(address)


def parse_node(text: str) -> Node:
    """Parse one proxy-chain node such as ``1.2.3.4``, ``1.2.3.4:80``, ``[2001:db8::1]:443``, ``2001:db8::1``.

    Surrounding whitespace is ignored. The result is never an exception:
    malformed text comes back as an INVALID node holding the text.
    """
    text = text.strip()
    if text.startswith("["):
        close = text.find("]")
        if close == -1:
            return _invalid(text)
        rest = text[close + 1 :]
        if rest and not rest.startswith(":"):
            return _invalid(text)
        parsed = _parse_name(text[1:close], version=6)
        if parsed is None or parsed[0] is not NodeKind.ADDRESS:
            return _invalid(text)
        return _with_port(parsed[0], parsed[1], rest[1:] if rest else None, text)

    colons = text.count(":")
    if colons >= 2:
        # A bare IPv6 address: without brackets it cannot carry a port.
        parsed = _parse_name(text, version=6)
        if parsed is None or parsed[0] is not NodeKind.ADDRESS:
            return _invalid(text)
        return Node(parsed[0], parsed[1], 0)

    name, _, port_text = text.partition(":")
    parsed = _parse_name(name, version=4)
    if parsed is None:
        return _invalid(text)
    return _with_port(parsed[0], parsed[1], port_text if colons else None, text)


def is_valid_host(text: str) -> bool:
    """Whether ``text`` is a well-formed Host header value (``name[:port]``, IPv4 or ``[IPv6]``)."""
    return _HOST_HEADER.fullmatch(text) is not None
