"""WebSockets over the Sans-I/O layer of the ``websockets`` library (``--ws websockets-sansio``).

A thin class: an HTTP/1.1 carrier (:mod:`.http1`) whose session reads and writes
frames with :class:`~uvicorn.protocols.websockets.websockets_codec.WebSocketsCodec`
(permessage-deflate with upstream's small windows). Everything an app sees comes
from the shared :class:`~uvicorn.protocols.websockets.session.WebSocketSession`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uvicorn.protocols.websockets.codec import FrameCodec, LibraryLog
from uvicorn.protocols.websockets.http1 import WebSocketOverHTTP1
from uvicorn.protocols.websockets.websockets_codec import WebSocketsCodec, sansio_deflate

if TYPE_CHECKING:
    from uvicorn.protocols.contract import ProtocolConfig

__all__ = ["WebSocketsSansIOProtocol"]

# websockets' ServerProtocol logs "connection open" and "connection rejected (...)" to the
# logger upstream gives it (uvicorn.error); it never logs "connection closed" there.
_LOG = LibraryLog(open=True, rejects=True, closed=False)


class WebSocketsSansIOProtocol(WebSocketOverHTTP1):
    """A WebSocket connection whose frames are read and written by ``websockets.server.ServerProtocol``."""

    @staticmethod
    def make_codec(config: ProtocolConfig) -> FrameCodec:
        deflate = sansio_deflate if config.ws_per_message_deflate else None
        return WebSocketsCodec(config.ws_max_size, deflate, _LOG)
