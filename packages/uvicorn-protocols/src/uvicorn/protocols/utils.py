"""Helpers shared by the HTTP and WebSocket protocols: addresses and request lines."""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import WWWScope


class ClientDisconnected(OSError):
    """Raised by ``send()`` once the client has gone away (ASGI HTTP spec 2.4)."""


def get_remote_addr(transport: asyncio.Transport) -> tuple[str, int] | None:
    """The peer's (host, port), or None when the transport has no IP peer (e.g. a UNIX socket)."""
    peer = _extra_address(transport, "peername")
    if isinstance(peer, (list, tuple)) and len(peer) >= 2:
        return (str(peer[0]), int(peer[1]))
    return None


def get_local_addr(transport: asyncio.Transport) -> tuple[str, int | None] | None:
    """The listening (host, port), or (path, None) for a UNIX socket, or None if unknown."""
    local = _extra_address(transport, "sockname")
    if isinstance(local, (list, tuple)) and len(local) >= 2:
        return (str(local[0]), int(local[1]))
    if isinstance(local, str):
        return (local, None)
    return None


def _extra_address(transport: asyncio.Transport, key: str) -> Any:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Asking the socket directly also works for transports (uvloop) that do not
        # populate peername/sockname for every socket family.
        try:
            return sock.getpeername() if key == "peername" else sock.getsockname()
        except OSError:
            return None
    return transport.get_extra_info(key)


def is_ssl(transport: asyncio.Transport) -> bool:
    """True when the transport carries TLS."""
    return bool(transport.get_extra_info("sslcontext"))


def get_client_addr(scope: WWWScope) -> str:
    """``host:port`` of the scope's client, or ``""`` when unknown (access log format)."""
    client = scope.get("client")
    if not client:
        return ""
    return "%s:%d" % (client[0], client[1])


def get_path_with_query_string(scope: WWWScope) -> str:
    """The request target as the client sent it, with ``"`` escaped as ``%22`` (access log format, 0.55).

    ``raw_path`` (undecoded, and starting with the root path) and the query string,
    read as Latin-1 so any byte shows; the escape keeps a quoted request line
    unambiguous. A scope without ``raw_path`` (optional in ASGI) shows its
    ``path`` percent-encoded again.
    """
    raw_path = scope.get("raw_path")
    target = raw_path.decode("latin-1") if raw_path is not None else urllib.parse.quote(scope["path"])
    query = scope["query_string"]
    if query:
        target = f"{target}?{query.decode('latin-1')}"
    return target.replace('"', "%22")
