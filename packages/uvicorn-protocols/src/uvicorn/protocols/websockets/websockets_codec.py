"""The codec over the Sans-I/O layer of the ``websockets`` library.

The library's :class:`~websockets.server.ServerProtocol`, built already OPEN
(the handshake request was read and checked before it), agrees on extensions
and then parses frames: it enforces ``ws_max_size`` from a frame's header, the
framing rules and close codes of RFC 6455, answers pings and echoes close
frames, and serialises ours. Used by ``websockets-sansio`` and, with the
library's default permessage-deflate settings, by the legacy ``websockets``.

One library defect is worked around here: inside a fragmented message, the
library checks every frame against what is left of ``max_size`` for the
message, control frames too, though they are no part of it. So a ping (or a
close) after the fragments of a message of (nearly) ``max_size`` bytes failed
the connection with ``1009``. This is in ``Protocol.parse`` of every version
with the Sans-I/O layer, 10.0 to 17.4 at least (read in 10.4, 13.0, 15.0, 16.0
and 17.4). See :meth:`WebSocketsCodec.receive_control`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from websockets.datastructures import Headers
from websockets.exceptions import InvalidHandshake
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from uvicorn.protocols.websockets.codec import CodecEvents, FrameCodec, LibraryLog
from uvicorn.protocols.websockets.handshake import HandshakeError, HandshakeRequest
from uvicorn.protocols.websockets.plain_frames import PlainFrames

if TYPE_CHECKING:
    from websockets.extensions.base import ServerExtensionFactory

__all__ = ["WebSocketsCodec", "legacy_deflate", "sansio_deflate"]

_TEXT, _BINARY, _CONT, _PING, _PONG, _CLOSE = (
    Opcode.TEXT,
    Opcode.BINARY,
    Opcode.CONT,
    Opcode.PING,
    Opcode.PONG,
    Opcode.CLOSE,
)

# The session logs what matters; the library's own records (a per-frame DEBUG
# trail) stay in its logger.
_library_logger = logging.getLogger("websockets.server")


def sansio_deflate() -> list[ServerExtensionFactory]:
    """permessage-deflate with smaller windows than the library's default (as upstream configures it)."""
    return [
        ServerPerMessageDeflateFactory(
            server_max_window_bits=12, client_max_window_bits=12, compress_settings={"memLevel": 5}
        )
    ]


def legacy_deflate() -> list[ServerExtensionFactory]:
    """permessage-deflate with the library's defaults, as its legacy server used."""
    return [ServerPerMessageDeflateFactory()]


class WebSocketsCodec:
    """Frames read and written by ``websockets.server.ServerProtocol``."""

    def __init__(
        self,
        max_size: int,
        deflate: Callable[[], list[ServerExtensionFactory]] | None,
        log: LibraryLog,
    ) -> None:
        self.log = log
        self.max_size = max_size
        self.conn = ServerProtocol(
            extensions=deflate() if deflate is not None else [],
            max_size=max_size,
            state=State.OPEN,
            logger=_library_logger,
        )
        self._events: CodecEvents = None  # type: ignore[assignment]
        self._fragments: list[bytes] = []
        self._fragmented_text = False

    def negotiate(self, request: HandshakeRequest) -> list[tuple[bytes, bytes]]:
        headers = Headers(
            [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in request.headers
                if name == b"sec-websocket-extensions"
            ]
        )
        try:
            header, self.conn.extensions = self.conn.process_extensions(headers)
        except InvalidHandshake as exc:
            raise HandshakeError(400, f"Failed to open a WebSocket connection: {exc}.") from None
        return [] if header is None else [(b"sec-websocket-extensions", header.encode("ascii"))]

    def start(self, events: CodecEvents) -> FrameCodec:
        self._events = events
        # Without extensions, plain messages skip the library both ways (see plain_frames).
        return PlainFrames(
            self, self.max_size, events, plain=not self.conn.extensions, control=self.receive_control
        )

    # ------------------------------------------------------------ frames in

    def receive(self, data: bytes) -> bool:
        conn = self.conn
        events = self._events
        conn.receive_data(data)
        frames = conn.events_received()
        replies = conn.data_to_send()  # pongs, the echo of a close, a failure's close frame
        if replies:
            events.reply(b"".join(replies))  # an empty item asks to end the stream: the session does
        for frame in frames:
            opcode = frame.opcode  # type: ignore[union-attr]
            if opcode is _BINARY or opcode is _TEXT or opcode is _CONT:
                if not self._on_data_frame(frame):  # type: ignore[arg-type]
                    return False
            elif opcode is _PONG:
                events.pong(bytes(frame.data))  # type: ignore[union-attr]
            elif opcode is _CLOSE:
                close = conn.close_rcvd
                assert close is not None
                events.peer_closed(close.code, close.reason)
                return False
        if conn.parser_exc is not None:
            close = conn.close_sent  # None if our own close was out already
            events.failed(close.code if close else 1006, close.reason if close else "")
            return False
        return True

    def receive_control(self, frame: bytes) -> bool:
        """One whole control frame with a well-formed header (from the PlainFrameReader).

        Inside a fragmented message the library would limit its payload to what
        is left of ``max_size``; for this one frame, the limit is raised by the
        size of the message so far, so the frame gets all of ``max_size``, as
        outside a message. The library computes a frame's limit when its first
        byte arrives, and this frame comes whole in this call, alone: no other
        frame is read with the raised limit. The message itself stays limited
        as before, and a control frame's own limit (125 bytes) is the library's.
        """
        if not self._fragments:
            return self.receive(frame)
        conn = self.conn
        # websockets 16.0 renamed max_size to max_message_size.
        name = "max_message_size" if hasattr(conn, "max_message_size") else "max_size"
        limit = getattr(conn, name)
        if limit is None:
            return self.receive(frame)
        setattr(conn, name, limit + sum(len(part) for part in self._fragments))
        try:
            return self.receive(frame)
        finally:
            setattr(conn, name, limit)

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
            self._events.deliver({"type": "websocket.receive", "bytes": bytes(data)})
            return True
        try:
            self._events.deliver({"type": "websocket.receive", "text": bytes(data).decode()})
        except UnicodeDecodeError as exc:
            self._fail(1007, f"{exc.reason} at position {exc.start}")
            return False
        return True

    def _fail(self, code: int, reason: str) -> None:
        if self.conn.state is State.OPEN:  # else our own close is out already: nothing more to say
            self.conn.fail(code, reason)
            self._events.reply(b"".join(self.conn.data_to_send()))
        self._events.failed(code, reason)

    # ------------------------------------------------------------ frames out

    def encode_text(self, text: str) -> bytes:
        return Frame(_TEXT, text.encode()).serialize(mask=False, extensions=self.conn.extensions)

    def encode_bytes(self, data: bytes) -> bytes:
        return Frame(_BINARY, data).serialize(mask=False, extensions=self.conn.extensions)

    def encode_close(self, code: int, reason: str) -> bytes:
        # Through the library, so it knows its close is out and the peer's is a reply.
        self.conn.send_close(code, reason)
        return b"".join(self.conn.data_to_send())

    def encode_ping(self, payload: bytes) -> bytes:
        return Frame(_PING, payload).serialize(mask=False, extensions=self.conn.extensions)
