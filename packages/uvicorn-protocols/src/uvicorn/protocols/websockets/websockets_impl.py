"""WebSockets with the legacy settings of the ``websockets`` library (``--ws websockets``, deprecated).

Upstream uvicorn deprecated this implementation in favour of ``websockets-sansio``,
and so does this one: importing it warns. The library's legacy *server protocol*
runs its own reader task, message queue and keepalive, which cannot sit under the
shared session. So this thin class runs the same codec as ``websockets-sansio``
with what the legacy server did differently: the library's default
permessage-deflate settings, and its log lines (``connection closed`` too).
"""

from __future__ import annotations

import asyncio
import warnings
from typing import TYPE_CHECKING

from uvicorn.protocols.contract import UvicornDeprecationWarning
from uvicorn.protocols.websockets.codec import FrameCodec, LibraryLog
from uvicorn.protocols.websockets.http1 import WebSocketOverHTTP1
from uvicorn.protocols.websockets.websockets_codec import WebSocketsCodec, legacy_deflate

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import ASGIReceiveEvent, ASGISendEvent
    from uvicorn.protocols.contract import ProtocolConfig


warnings.warn(
    "The `websockets` implementation is deprecated, and `--ws websockets` will point at the "
    "`websockets-sansio` implementation in a future release. "
    "Use `--ws websockets-sansio` or `--ws auto` to switch now.",
    UvicornDeprecationWarning,
    stacklevel=2,
)

__all__ = ["WebSocketProtocol"]

# The legacy server logs "connection open", "connection rejected (...)" and, when its
# handler ends, "connection closed" for every connection.
_LOG = LibraryLog(open=True, rejects=True, closed=True)


class WebSocketProtocol(WebSocketOverHTTP1):
    """The ``--ws websockets`` implementation: the websockets codec with the legacy settings."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # The app gets these two, bound to this protocol, as upstream's legacy class gives them.
        self.session.app_receive, self.session.app_send = self.asgi_receive, self.asgi_send

    @staticmethod
    def make_codec(config: ProtocolConfig) -> FrameCodec:
        deflate = legacy_deflate if config.ws_per_message_deflate else None
        return WebSocketsCodec(config.ws_max_size, deflate, _LOG)

    # Upstream's legacy implementation names the app's send/receive so; code that
    # reaches for them keeps working.
    async def asgi_send(self, message: ASGISendEvent) -> None:
        """The app's ``send``, under its legacy name."""
        await self.session.send(message)

    async def asgi_receive(self) -> ASGIReceiveEvent:
        """The app's ``receive``, under its legacy name."""
        return await self.session.receive()
