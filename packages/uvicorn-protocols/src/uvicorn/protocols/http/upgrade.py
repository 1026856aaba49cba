"""Handing an HTTP/1.1 connection over to the WebSocket protocol after an upgrade request.

The WebSocket protocol gets the request the HTTP parser read, not bytes to parse
again: :func:`hand_over` calls its ``receive_upgrade(method, target, http_version,
headers, trailing)``. A protocol class without that method (any third-party
``asyncio.Protocol`` given as ``--ws module:Class``) gets the request head as
bytes through ``data_received`` instead, with the version the client sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["UpgradeRequest", "hand_over", "serialize_head"]

#: What the HTTP parser read: method, target, HTTP version ("1.1"), headers (names lowercased).
UpgradeRequest = tuple[str, bytes, str, list[tuple[bytes, bytes]]]


def hand_over(
    ws_protocol_class: type[asyncio.Protocol],
    transport: asyncio.Transport,
    protocol_arguments: dict[str, Any],
    request: UpgradeRequest,
    trailing: bytes,
) -> asyncio.Protocol:
    """Build the WebSocket protocol, switch ``transport`` to it, then give it the request."""
    protocol = ws_protocol_class(**protocol_arguments)
    # The transport talks to the new protocol before it gets a byte: whatever handing
    # over sets off (a write that pauses writing, a close) reaches the right protocol.
    protocol.connection_made(transport)
    transport.set_protocol(protocol)
    receive_upgrade = getattr(protocol, "receive_upgrade", None)
    if receive_upgrade is not None:
        receive_upgrade(*request, trailing)
    else:
        protocol.data_received(serialize_head(*request) + trailing)
    return protocol


def serialize_head(
    method: str, target: bytes, http_version: str, headers: list[tuple[bytes, bytes]]
) -> bytes:
    """The request head as bytes, with the version the client sent."""
    lines = [method.encode("ascii"), b" ", target, b" HTTP/", http_version.encode("ascii"), b"\r\n"]
    for name, value in headers:
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)
