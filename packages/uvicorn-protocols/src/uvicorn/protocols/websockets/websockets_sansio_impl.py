"""WebSockets over the Sans-I/O layer of the ``websockets`` library (``--ws websockets-sansio``).

The library's :class:`~websockets.server.ServerProtocol` negotiates extensions,
computes the accept key, parses frames (enforcing ``ws_max_size``, RFC 6455 framing
rules and close codes, answering pings and echoing close frames) and serialises
ours; everything an app sees comes from the shared :class:`WebSocketSession`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from websockets.datastructures import Headers
from websockets.exceptions import InvalidHandshake
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from uvicorn.protocols.websockets.connection import CLOSING, OPEN
from uvicorn.protocols.websockets.handshake import HandshakeError, HandshakeRequest
from uvicorn.protocols.websockets.plain_frames import PlainFrameReader, binary_frame, text_frame, unmask
from uvicorn.protocols.websockets.session import WebSocketSession

if TYPE_CHECKING:
    from websockets.extensions.base import ServerExtensionFactory

__all__ = ["WebSocketsSansIOProtocol"]

_TEXT, _BINARY, _CONT, _PING, _PONG, _CLOSE = (
    Opcode.TEXT,
    Opcode.BINARY,
    Opcode.CONT,
    Opcode.PING,
    Opcode.PONG,
    Opcode.CLOSE,
)
_SWITCHING_PROTOCOLS = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"

# The session logs what matters ("connection open", "connection closed"); the
# library's own records (including a per-frame DEBUG trail) stay in its logger.
_library_logger = logging.getLogger("websockets.server")


class WebSocketsSansIOProtocol(WebSocketSession):
    """A WebSocket connection whose frames are read and written by ``websockets.server.ServerProtocol``."""

    conn: ServerProtocol

    def _extension_factories(self) -> list[ServerExtensionFactory]:
        # Smaller windows than the library's default keep each compressed
        # connection's memory modest (as upstream uvicorn configures it).
        return [
            ServerPerMessageDeflateFactory(
                server_max_window_bits=12, client_max_window_bits=12, compress_settings={"memLevel": 5}
            )
        ]

    def _library_handshake(self, request: HandshakeRequest) -> None:
        factories = self._extension_factories() if self.config.ws_per_message_deflate else []
        # Built already OPEN: the session has read the request, so the library
        # starts with frames instead of looking for an HTTP request.
        self.conn = ServerProtocol(
            extensions=factories, max_size=self.max_size, state=State.OPEN, logger=_library_logger
        )
        headers = Headers(
            [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers]
        )
        try:
            self._handshake_headers = self._negotiate(request, headers)
        except InvalidHandshake as exc:
            raise HandshakeError(400, f"Failed to open a WebSocket connection: {exc}.") from None
        self._fragments: list[bytes] = []
        self._fragmented_text = False
        # Without extensions, plain messages skip the library both ways (see plain_frames).
        self._plain = not self.conn.extensions
        self._plain_reader = (
            PlainFrameReader(self.max_size, unmask, self._deliver, self._library_receive)
            if self._plain
            else None
        )

    def _negotiate(self, request: HandshakeRequest, headers: Headers) -> bytes:
        """The library's response headers: ``Sec-WebSocket-Accept`` and the agreed extensions."""
        accept, extensions, _ = self.conn.process_request(Request(request.target, headers))
        lines = b"sec-websocket-accept: " + accept.encode("ascii") + b"\r\n"
        if extensions is not None:
            lines += b"sec-websocket-extensions: " + extensions.encode("ascii") + b"\r\n"
        return lines

    def _accept_response(self, subprotocol: str | None, headers: list[tuple[bytes, bytes]]) -> bytes:
        parts = [_SWITCHING_PROTOCOLS, self._handshake_headers]
        if subprotocol is not None:
            parts.append(b"sec-websocket-protocol: " + subprotocol.encode("ascii") + b"\r\n")
        parts += [name + b": " + value + b"\r\n" for name, value in headers]
        parts.append(b"\r\n")
        return b"".join(parts)

    # ------------------------------------------------------------ frames in

    def _receive_frames(self, data: bytes) -> None:
        if self._plain_reader is not None:
            self._plain_reader.feed(data, self._state == OPEN)
        else:
            self._library_receive(data)

    def _library_receive(self, data: bytes) -> bool:
        """Feed ``data`` to the library; False once no more frames are read."""
        conn = self.conn
        conn.receive_data(data)
        frames = conn.events_received()
        replies = conn.data_to_send()  # pongs, the echo of a close, a failure's close frame
        if replies:
            self._write_replies(replies)
        for frame in frames:
            opcode = frame.opcode  # type: ignore[union-attr]
            if opcode is _BINARY or opcode is _TEXT or opcode is _CONT:
                if not self._on_data_frame(frame):  # type: ignore[arg-type]
                    return False
            elif opcode is _PONG:
                self._on_pong(bytes(frame.data))  # type: ignore[union-attr]
            elif opcode is _CLOSE:
                close = conn.close_rcvd
                assert close is not None
                self._on_peer_close(close.code, close.reason)
                return False
        if conn.parser_exc is not None:
            close = conn.close_sent
            if self._state == OPEN and close is not None:
                self._on_failure(close.code, close.reason)
            else:
                self._finish()  # failed while our own close was under way: nothing more to say
            return False
        return self._state in (OPEN, CLOSING)

    def _on_data_frame(self, frame: Frame) -> bool:
        """Deliver a message once its last frame is in; False if the connection failed."""
        opcode = frame.opcode
        if opcode is not _CONT:
            if not frame.fin:
                self._fragments = [bytes(frame.data)]
                self._fragmented_text = opcode is _TEXT
                return True
            data = frame.data
            text = opcode is _TEXT
        else:
            self._fragments.append(bytes(frame.data))
            if not frame.fin:
                return True
            data = b"".join(self._fragments)
            self._fragments = []
            text = self._fragmented_text
        if not text:
            self._deliver({"type": "websocket.receive", "bytes": bytes(data)})
            return True
        try:
            self._deliver({"type": "websocket.receive", "text": bytes(data).decode()})
        except UnicodeDecodeError as exc:
            self._fail(1007, f"{exc.reason} at position {exc.start}")
            return False
        return True

    def _fail(self, code: int, reason: str) -> None:
        if self.conn.state is State.OPEN:
            self.conn.fail(code, reason)
            self._write_replies(self.conn.data_to_send())
            self._on_failure(code, reason)
        else:
            self._finish()

    def _write_replies(self, replies: list[bytes]) -> None:
        # An empty item is the library asking to end the TCP stream: the session
        # closes the transport when it learns why, right after.
        data = b"".join(replies)
        if data and not self.transport.is_closing():
            self.transport.write(data)

    # ------------------------------------------------------------ frames out

    def _encode_text(self, text: str) -> bytes:
        if self._plain:
            return text_frame(text)
        return Frame(_TEXT, text.encode()).serialize(mask=False, extensions=self.conn.extensions)

    def _encode_bytes(self, data: bytes) -> bytes:
        if self._plain:
            return binary_frame(data)
        return Frame(_BINARY, data).serialize(mask=False, extensions=self.conn.extensions)

    def _encode_close(self, code: int, reason: str) -> bytes:
        # Through the library, so it knows its close is out and the peer's is a reply.
        self.conn.send_close(code, reason)
        return b"".join(self.conn.data_to_send())

    def _encode_ping(self, payload: bytes) -> bytes:
        return Frame(_PING, payload).serialize(mask=False, extensions=self.conn.extensions)
