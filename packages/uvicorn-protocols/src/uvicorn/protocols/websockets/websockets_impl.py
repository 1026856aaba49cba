"""WebSockets with the legacy handshake of the ``websockets`` library (``--ws websockets``, deprecated).

Upstream uvicorn deprecated this implementation in favour of ``websockets-sansio``,
and so does this one: importing it warns. The library's legacy *server protocol*
still exists in websockets 17, but it runs its own reader task, message queue and
keepalive, which cannot sit under the shared :class:`WebSocketSession`. So this
class answers the handshake with the legacy handshake helpers
(``websockets.legacy.handshake.check_request`` / ``build_response``) and the
library's default permessage-deflate settings, as the legacy server did, and reads
and writes frames with the same Sans-I/O frame layer as ``websockets-sansio``.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from websockets.datastructures import Headers
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

from uvicorn.protocols.contract import UvicornDeprecationWarning
from uvicorn.protocols.websockets.handshake import HandshakeRequest
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

with warnings.catch_warnings():
    # We know the module is deprecated; our own warning below says what to do instead.
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    from websockets.legacy.handshake import build_response, check_request

if TYPE_CHECKING:
    from websockets.extensions.base import ServerExtensionFactory

    from uvicorn.protocols.asgi_types import ASGIReceiveEvent, ASGISendEvent


warnings.warn(
    "The `websockets` implementation is deprecated, and `--ws websockets` will point at the "
    "`websockets-sansio` implementation in a future release. "
    "Use `--ws websockets-sansio` or `--ws auto` to switch now.",
    UvicornDeprecationWarning,
    stacklevel=2,
)

__all__ = ["WebSocketProtocol"]


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """The ``--ws websockets`` implementation: legacy handshake, Sans-I/O frames."""

    def _extension_factories(self) -> list[ServerExtensionFactory]:
        return [ServerPerMessageDeflateFactory()]  # the library's defaults, as the legacy server used

    # Upstream's legacy implementation names the app's send/receive so; code that
    # reaches for them keeps working.
    async def asgi_send(self, message: ASGISendEvent) -> None:
        """The app's ``send``, under its legacy name."""
        await self.send(message)

    async def asgi_receive(self) -> ASGIReceiveEvent:
        """The app's ``receive``, under its legacy name."""
        return await self.receive()

    def _negotiate(self, request: HandshakeRequest, headers: Headers) -> bytes:
        key = check_request(headers)
        response = Headers()
        build_response(response, key)
        extensions_header, self.conn.extensions = self.conn.process_extensions(headers)
        lines = b"sec-websocket-accept: " + response["Sec-WebSocket-Accept"].encode("ascii") + b"\r\n"
        if extensions_header is not None:
            lines += b"sec-websocket-extensions: " + extensions_header.encode("ascii") + b"\r\n"
        return lines
