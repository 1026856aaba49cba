"""``--ws auto``: websockets-sansio when ``websockets`` is installed, else wsproto, else None.

With None, the HTTP protocols answer an upgrade request as a plain HTTP request
and warn that no WebSocket library is installed, as upstream does.
"""

from __future__ import annotations

import asyncio

__all__ = ["AutoWebSocketsProtocol"]


def _best_available() -> type[asyncio.Protocol] | None:
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:
        pass
    else:
        return WebSocketsSansIOProtocol
    try:
        from uvicorn.protocols.websockets.wsproto_impl import WSProtocol
    except ImportError:
        return None
    return WSProtocol


AutoWebSocketsProtocol: type[asyncio.Protocol] | None = _best_available()
