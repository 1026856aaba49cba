"""WebSockets over the ``wsproto`` library (``--ws wsproto``).

wsproto reads the handshake request, builds the ``101`` answer with the agreed
extensions, parses frames (RFC 6455 framing rules, UTF-8 of text, close codes)
and serialises ours. It has no message size limit, so this adapter counts the
bytes of each message as its parts arrive and fails it with ``1009`` past
``ws_max_size``. Everything an app sees comes from the shared :class:`WebSocketSession`.
"""

from __future__ import annotations

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    TextMessage,
)
from wsproto.extensions import Extension, PerMessageDeflate
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from uvicorn.protocols.websockets.connection import CLOSING, OPEN
from uvicorn.protocols.websockets.handshake import HandshakeError, HandshakeRequest
from uvicorn.protocols.websockets.plain_frames import PlainFrameReader, binary_frame, text_frame, unmask
from uvicorn.protocols.websockets.session import WebSocketSession

__all__ = ["WSProtocol"]

_OPEN, _REMOTE_CLOSING, _CLOSED = ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING, ConnectionState.CLOSED

# wsproto inflates whatever compressed bytes it is given in one go. Deflate expands
# at most about 1:1032, so feeding compressed input in slices this big keeps each
# step under ~4 MiB before the size check sees it (a "zip bomb" cannot balloon).
_INFLATE_SLICE = 4096


class WSProtocol(WebSocketSession):
    """A WebSocket connection whose frames are read and written by ``wsproto``."""

    conn: WSConnection

    def _library_handshake(self, request: HandshakeRequest) -> None:
        self.conn = WSConnection(ConnectionType.SERVER)
        try:
            self.conn.receive_data(request.head)
            for _ in self.conn.events():
                pass  # the Request event: the session has already read the request
        except RemoteProtocolError as exc:
            hint = exc.event_hint
            status = hint.status_code if isinstance(hint, RejectConnection) else 400
            raise HandshakeError(status, f"Failed to open a WebSocket connection: {exc}.") from None
        # The message being received, in parts, and its size in bytes so far.
        self._parts: list[str | bytes | bytearray] = []
        self._size = 0
        self._deflate = PerMessageDeflate()
        self._inflating = False  # permessage-deflate was agreed
        self._plain_reader: PlainFrameReader | None = None  # without it (see plain_frames)

    def _accept_response(self, subprotocol: str | None, headers: list[tuple[bytes, bytes]]) -> bytes:
        extensions: list[Extension] = [self._deflate] if self.config.ws_per_message_deflate else []
        response = self.conn.send(
            AcceptConnection(subprotocol=subprotocol, extensions=extensions, extra_headers=headers)
        )
        self._inflating = self._deflate.enabled()
        if not self._inflating:
            # wsproto unmasks and frames every message through several copies and
            # objects of its own; plain messages skip it both ways (see plain_frames).
            self._plain_reader = PlainFrameReader(self.max_size, unmask, self._deliver, self._library_receive)
        return response

    # ------------------------------------------------------------ frames in

    def _receive_frames(self, data: bytes) -> None:
        if self._plain_reader is not None:
            self._plain_reader.feed(data, self._state == OPEN)
        elif self._inflating and len(data) > _INFLATE_SLICE:
            for start in range(0, len(data), _INFLATE_SLICE):
                if not self._library_receive(data[start : start + _INFLATE_SLICE]):
                    return  # failed or closed: the rest means nothing
        else:
            self._library_receive(data)

    def _library_receive(self, data: bytes) -> bool:
        """Feed ``data`` to wsproto; False once no more frames are read."""
        conn = self.conn
        try:
            conn.receive_data(data)
        except LocalProtocolError:
            return False  # the closing handshake is complete; later bytes mean nothing
        for event in conn.events():
            kind = type(event)
            if kind is BytesMessage or kind is TextMessage:
                if not self._on_message_part(event):  # type: ignore[arg-type]
                    return False
            elif kind is Ping:
                if conn.state is _OPEN:  # after our close, the library may not answer
                    self.transport.write(conn.send(event.response()))  # type: ignore[attr-defined]
            elif kind is Pong:
                self._on_pong(bytes(event.payload))  # type: ignore[attr-defined]
            elif kind is CloseConnection:
                self._on_close_event(event)  # type: ignore[arg-type]
                return False
        return self._state in (OPEN, CLOSING)

    def _on_message_part(self, event: TextMessage | BytesMessage) -> bool:
        """Collect a message's parts; deliver it when complete. False if it was too big."""
        data: str | bytes | bytearray = event.data
        # ws_max_size counts bytes, and a str holds characters: ASCII is the common, cheap case.
        self._size += len(data) if type(data) is not str or data.isascii() else len(data.encode())
        if self._size > self.max_size:
            self._fail(1009, f"Message exceeds the maximum size ({self.max_size} bytes)")
            return False
        if not event.message_finished:
            self._parts.append(data)
            return True
        if self._parts:
            self._parts.append(data)
            data = "".join(self._parts) if type(data) is str else b"".join(self._parts)  # type: ignore[arg-type]
            self._parts = []
        self._size = 0
        if isinstance(data, str):
            self._deliver({"type": "websocket.receive", "text": data})
        else:
            self._deliver({"type": "websocket.receive", "bytes": bytes(data)})
        return True

    def _on_close_event(self, event: CloseConnection) -> None:
        state = self.conn.state
        if state is _REMOTE_CLOSING:  # the peer started the closing handshake: echo it
            self.transport.write(self.conn.send(event.response()))
            self._on_peer_close(int(event.code), event.reason or "")
        elif state is _CLOSED:  # the peer's reply to our close
            self._on_peer_close(int(event.code), event.reason or "")
        else:
            # wsproto reports a protocol error it found as a close event of its own.
            self._fail(int(event.code), event.reason or "")

    def _fail(self, code: int, reason: str) -> None:
        if self._state == OPEN and self.conn.state is _OPEN:
            self.transport.write(self.conn.send(CloseConnection(code=code, reason=reason)))
            self._on_failure(code, reason)
        else:
            self._finish()

    # ------------------------------------------------------------ frames out

    def _encode_text(self, text: str) -> bytes:
        if self._plain_reader is not None:
            return text_frame(text)
        return self.conn.send(TextMessage(data=text))

    def _encode_bytes(self, data: bytes) -> bytes:
        if self._plain_reader is not None:
            return binary_frame(data)
        return self.conn.send(BytesMessage(data=data))

    def _encode_close(self, code: int, reason: str) -> bytes:
        return self.conn.send(CloseConnection(code=code, reason=reason))

    def _encode_ping(self, payload: bytes) -> bytes:
        return self.conn.send(Ping(payload=payload))
