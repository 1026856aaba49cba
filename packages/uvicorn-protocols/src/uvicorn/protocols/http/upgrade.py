"""Handing an HTTP/1.1 connection over to another protocol after an upgrade request.

:func:`pending_upgrade` decides, from a request head, whether the connection
changes protocol once the responses before it are written: to WebSocket
(``Upgrade: websocket``) or, with ``--http2``, to HTTP/2 (``Upgrade: h2c``).
Any other upgrade is served as a plain request, with a warning.

The WebSocket protocol gets the request the HTTP parser read, not bytes to parse
again: :func:`hand_over` calls its ``receive_upgrade(method, target, http_version,
headers, trailing)``. A protocol class without that method (any third-party
``asyncio.Protocol`` given as ``--ws module:Class``) gets the request head as
bytes through ``data_received`` instead, with the version the client sent.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.h2c_upgrade import H2cRequest, h2c_request, switch_to_h2c

if TYPE_CHECKING:
    from uvicorn.protocols.http.connection import HTTPConnection
    from uvicorn.protocols.http.request_head import RequestFacts

__all__ = [
    "NO_WEBSOCKET_LIBRARY",
    "PendingUpgrade",
    "UpgradeRequest",
    "hand_over",
    "pending_upgrade",
    "serialize_head",
    "switch_protocol",
]

TRACE_LOG_LEVEL = 5
NO_WEBSOCKET_LIBRARY = (
    "No supported WebSocket library detected. Please use \"pip install 'uvicorn[standard]'\", "
    "or install 'websockets' or 'wsproto' manually."
)

#: What the HTTP parser read: method, target, HTTP version ("1.1"), headers (names lowercased).
UpgradeRequest = tuple[str, bytes, str, list[tuple[bytes, bytes]]]


class PendingUpgrade:
    """An upgrade request the parser read; the protocol changes once the responses before it are out."""

    __slots__ = ("h2c", "request", "trailing")

    def __init__(self, request: UpgradeRequest, h2c: H2cRequest | None) -> None:
        self.request = request
        self.h2c = h2c  # for "Upgrade: h2c": the request HTTP/2 stream 1 serves
        self.trailing: bytes | None = None  # the bytes after the request, once the parser gives them


def pending_upgrade(
    request: UpgradeRequest,
    facts: RequestFacts,
    ws_protocol_class: type[asyncio.Protocol] | None,
    h2c_class: type[asyncio.Protocol] | None,
    logger: logging.Logger,
) -> PendingUpgrade | None:
    """The upgrade this request asks for and the server serves, or None: a plain request."""
    if facts.upgrade is None or not facts.upgrade_token:
        return None
    if facts.upgrade == b"websocket" and ws_protocol_class is not None:
        return PendingUpgrade(request, None)
    if facts.upgrade == b"h2c" and h2c_class is not None:
        method, target, _, headers = request
        h2c = h2c_request(method, target, headers)
        # An h2c upgrade with a body stays on HTTP/1.1 (RFC 7540 3.2 allows it): no warning.
        return None if h2c is None else PendingUpgrade(request, h2c)
    logger.warning("Unsupported upgrade request.")
    if ws_protocol_class is None:
        logger.warning(NO_WEBSOCKET_LIBRARY)
    return None


def switch_protocol(connection: HTTPConnection, upgrade: PendingUpgrade) -> None:
    """Give ``connection``'s transport to the protocol ``upgrade`` asks for."""
    connection.release()
    trailing = upgrade.trailing or b""
    logger = connection.logger
    if upgrade.h2c is not None:
        assert connection.h2c_class is not None
        if logger.isEnabledFor(TRACE_LOG_LEVEL):
            logger.log(TRACE_LOG_LEVEL, "%sUpgrading to HTTP/2 (h2c)", connection.log_prefix())
        switch_to_h2c(connection, connection.h2c_class, upgrade.h2c, trailing)
        return
    assert connection.ws_protocol_class is not None
    if logger.isEnabledFor(TRACE_LOG_LEVEL):
        logger.log(TRACE_LOG_LEVEL, "%sUpgrading to WebSocket", connection.log_prefix())
    connection.flow.resume_reading()
    arguments = {
        "config": connection.config,
        "server_state": connection.server_state,
        "app_state": connection.app_state,
    }
    hand_over(connection.ws_protocol_class, connection.transport, arguments, upgrade.request, trailing)


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
