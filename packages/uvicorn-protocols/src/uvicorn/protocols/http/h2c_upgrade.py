"""``Upgrade: h2c`` (RFC 7540 3.2): an HTTP/1.1 request that asks to continue as HTTP/2.

With ``--http2``, a request carrying ``Upgrade: h2c``, ``Connection: Upgrade,
HTTP2-Settings`` and an ``HTTP2-Settings`` header, and no body, is answered
``101 Switching Protocols``; the connection then speaks HTTP/2 and the request
is served as stream 1. A request with a body (whose bytes would have to be read
as HTTP/1.1 first) stays on HTTP/1.1, which the RFC allows.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from uvicorn.protocols.http.connection import HTTPConnection

__all__ = ["H2cRequest", "h2c_request", "switch_to_h2c"]

SWITCHING_PROTOCOLS = b"HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n"
# RFC 9113 8.2.2: fields HTTP/2 must not carry; the upgrade's own fields go with them.
_HOP_BY_HOP = frozenset(
    {b"connection", b"upgrade", b"http2-settings", b"keep-alive", b"proxy-connection", b"transfer-encoding"}
)


class H2cRequest(NamedTuple):
    """The upgrading request, as stream 1 will carry it."""

    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    settings: bytes


def h2c_request(method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> H2cRequest | None:
    """The request to upgrade, or None when it cannot be (no ``HTTP2-Settings``, or a body)."""
    settings: bytes | None = None
    kept: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        if name == b"http2-settings":
            settings = value.strip()
        elif (name == b"content-length" and value.strip() != b"0") or name == b"transfer-encoding":
            return None
        if name in _HOP_BY_HOP or (name == b"te" and value.strip().lower() != b"trailers"):
            continue
        kept.append((name, value))
    if settings is None:
        return None
    return H2cRequest(method.encode("ascii"), target, kept, settings)


def switch_to_h2c(
    connection: HTTPConnection, protocol_class: type[asyncio.Protocol], request: H2cRequest, trailing: bytes
) -> None:
    """Answer 101 and hand the transport to a new HTTP/2 protocol serving ``request`` as stream 1."""
    transport = connection.transport
    connection.flow.resume_reading()
    transport.write(SWITCHING_PROTOCOLS)
    protocol = protocol_class(  # type: ignore[call-arg]
        config=connection.config, server_state=connection.server_state, app_state=connection.app_state
    )
    transport.set_protocol(protocol)
    protocol.start_upgraded(  # type: ignore[attr-defined]
        transport, request.settings, request.method, request.target, request.headers
    )
    if trailing:
        protocol.data_received(trailing)
