"""WebSockets over the ``wsproto`` library (``--ws wsproto``).

A thin class: an HTTP/1.1 carrier (:mod:`.http1`) whose session reads and writes
frames with :class:`~uvicorn.protocols.websockets.wsproto_codec.WsprotoCodec`
(wsproto's frame-level connection; the handshake is ours). Everything an app sees
comes from the shared :class:`~uvicorn.protocols.websockets.session.WebSocketSession`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uvicorn.protocols.websockets.codec import FrameCodec
from uvicorn.protocols.websockets.http1 import WebSocketOverHTTP1
from uvicorn.protocols.websockets.wsproto_codec import WsprotoCodec

if TYPE_CHECKING:
    from uvicorn.protocols.contract import ProtocolConfig

__all__ = ["WSProtocol"]


class WSProtocol(WebSocketOverHTTP1):
    """A WebSocket connection whose frames are read and written by ``wsproto``."""

    @staticmethod
    def make_codec(config: ProtocolConfig) -> FrameCodec:
        return WsprotoCodec(config.ws_max_size, config.ws_per_message_deflate)
