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
    """The request path, percent-encoded again, with its query string (access log format).

    ``scope["path"]`` already starts with the root path, as the ASGI spec asks.
    """
    path = _quote_path(scope["path"])
    query = scope["query_string"]
    if query:
        return "{}?{}".format(path, query.decode("ascii"))
    return path


_quoted_paths: dict[str, str] = {}


def _quote_path(path: str) -> str:
    # Remembered: a server sees the same few paths again and again.
    quoted = _quoted_paths.get(path)
    if quoted is None:
        quoted = urllib.parse.quote(path)
        if len(_quoted_paths) < 1024:
            _quoted_paths[path] = quoted
    return quoted
