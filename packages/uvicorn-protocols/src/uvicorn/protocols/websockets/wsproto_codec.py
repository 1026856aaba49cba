"""The codec over ``wsproto``'s frame-level connection.

wsproto's HTTP handshake (an h11 parser of its own) is not used: the request was
checked already, so this codec only agrees on permessage-deflate with wsproto's
:class:`~wsproto.extensions.PerMessageDeflate` and then drives a
:class:`wsproto.connection.Connection`, which parses frames (RFC 6455 framing
rules, UTF-8 of text, close codes) and serialises ours. wsproto has no message
size limit, so this codec counts the bytes of each message as its parts arrive
and fails it with ``1009`` past ``ws_max_size``.

Two wsproto defects are worked around here, on control frames (see
:meth:`WsprotoCodec.receive_control`), in wsproto 1.2.0 to 1.3.2 at least:

- it refuses a peer's close code that is missing from its list of codes,
  though registered: ``1014`` (Bad Gateway), which the ``websockets`` library
  accepts and an app may send;
- its permessage-deflate takes any control frame for the end of the message
  around it (``PerMessageDeflate.frame_inbound_complete``), so after a ping
  between the fragments of a compressed message, the rest of the message
  reached the app still compressed.
"""

from __future__ import annotations

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsproto.extensions import Extension, PerMessageDeflate
from wsproto.frame_protocol import CloseReason
from wsproto.utilities import LocalProtocolError

from uvicorn.protocols.websockets.close_codes import REGISTERED_CODES
from uvicorn.protocols.websockets.codec import CodecEvents, FrameCodec, LibraryLog
from uvicorn.protocols.websockets.handshake import HandshakeRequest
from uvicorn.protocols.websockets.plain_frames import PlainFrames, unmask

__all__ = ["WsprotoCodec"]

_OPEN, _REMOTE_CLOSING, _CLOSED = ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING, ConnectionState.CLOSED

# wsproto inflates whatever compressed bytes it is given in one go. Deflate expands
# at most about 1:1032, so feeding compressed input in slices this big keeps each
# step under ~4 MiB before the size check sees it (a "zip bomb" cannot balloon).
_INFLATE_SLICE = 4096

#: Registered close codes that wsproto refuses from a peer with 1002: 1014 (wsproto 1.3.2).
_UNKNOWN_TO_WSPROTO = REGISTERED_CODES - {int(reason) for reason in CloseReason}
#: The code wsproto is shown in their place, one it accepts.
_STAND_IN = (1000).to_bytes(2, "big")
_FIN_CLOSE, _FIN_PING, _FIN_PONG = 0x88, 0x89, 0x8A


def negotiate_deflate(offers: list[bytes]) -> tuple[PerMessageDeflate, str] | None:
    """The first permessage-deflate offer wsproto accepts, and its response parameters."""
    for value in offers:
        for offer in value.decode("latin-1").split(","):
            if offer.split(";", 1)[0].strip() != PerMessageDeflate.name:
                continue
            deflate = PerMessageDeflate()
            try:
                accepted = deflate.accept(offer.strip())
            except ValueError:  # a parameter wsproto cannot read: not this offer
                continue
            if accepted is not None and accepted is not False:
                return deflate, "" if accepted is True else accepted
    return None


class WsprotoCodec:
    """Frames read and written by ``wsproto.connection.Connection``."""

    log = LibraryLog()  # wsproto writes no log lines

    def __init__(self, max_size: int, per_message_deflate: bool) -> None:
        self.max_size = max_size
        self._per_message_deflate = per_message_deflate
        self._extensions: list[Extension] = []
        self.conn: Connection = None  # type: ignore[assignment]
        self._events: CodecEvents = None  # type: ignore[assignment]
        # The message being received, in parts, and its size in bytes so far.
        self._parts: list[str | bytes | bytearray] = []
        self._size = 0
        self._peer_code: int | None = None  # the code of a close frame wsproto is shown with _STAND_IN

    def negotiate(self, request: HandshakeRequest) -> list[tuple[bytes, bytes]]:
        agreed = negotiate_deflate(request.extension_offers) if self._per_message_deflate else None
        if agreed is None:
            return []
        deflate, parameters = agreed
        self._extensions = [deflate]
        value = deflate.name + ("; " + parameters if parameters else "")
        return [(b"sec-websocket-extensions", value.encode("ascii"))]

    def start(self, events: CodecEvents) -> FrameCodec:
        self._events = events
        self.conn = Connection(ConnectionType.SERVER, extensions=self._extensions)
        # wsproto unmasks and frames every message through several copies and
        # objects of its own; without extensions plain messages skip it both ways.
        return PlainFrames(
            self, self.max_size, events, plain=not self._extensions, control=self.receive_control
        )

    # ------------------------------------------------------------ frames in

    def receive(self, data: bytes) -> bool:
        if self._extensions and len(data) > _INFLATE_SLICE:
            for start in range(0, len(data), _INFLATE_SLICE):
                if not self._receive(data[start : start + _INFLATE_SLICE]):
                    return False  # failed or closed: the rest means nothing
            return True
        return self._receive(data)

    def receive_control(self, frame: bytes) -> bool:
        """One whole control frame with a well-formed header (from the PlainFrameReader).

        A ping or a pong with such a header is valid whatever its payload: it is
        answered here and never shown to wsproto, whose permessage-deflate would
        lose track of the message around it. A close frame with a code wsproto
        does not know but the registry has goes to wsproto with an accepted
        code in its place, so that wsproto checks the rest (the reason's UTF-8)
        and moves to its closing state as for any close; the echo and the app's
        disconnect carry the peer's code.
        """
        kind = frame[0]
        if kind in (_FIN_PING, _FIN_PONG):
            payload = unmask(memoryview(frame)[6:], frame[2:6])  # after the 2-byte header and the mask
            if kind == _FIN_PONG:
                self._events.pong(payload)
            elif self.conn.state is _OPEN:  # after our close, no pong
                self._events.reply(self.conn.send(Pong(payload=payload)))
            return True
        if kind != _FIN_CLOSE or len(frame) < 8:
            return self.receive(frame)
        # The header is 2 bytes, the mask 4, then the (masked) code.
        code = ((frame[6] ^ frame[2]) << 8) | (frame[7] ^ frame[3])
        if code not in _UNKNOWN_TO_WSPROTO:
            return self.receive(frame)
        stand_in = bytes((_STAND_IN[0] ^ frame[2], _STAND_IN[1] ^ frame[3]))
        self._peer_code = code
        try:
            return self.receive(frame[:6] + stand_in + frame[8:])
        finally:
            self._peer_code = None

    def _receive(self, data: bytes) -> bool:
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
                    self._events.reply(conn.send(event.response()))  # type: ignore[attr-defined]
            elif kind is Pong:
                self._events.pong(bytes(event.payload))  # type: ignore[attr-defined]
            elif kind is CloseConnection:
                self._on_close_event(event)  # type: ignore[arg-type]
                return False
        return True

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
            self._events.deliver({"type": "websocket.receive", "text": data})
        else:
            self._events.deliver({"type": "websocket.receive", "bytes": bytes(data)})
        return True

    def _on_close_event(self, event: CloseConnection) -> None:
        state = self.conn.state
        if state is _REMOTE_CLOSING or state is _CLOSED:
            if self._peer_code is not None:  # wsproto was shown a stand-in (see receive_control)
                event = CloseConnection(code=self._peer_code, reason=event.reason)
            if state is _REMOTE_CLOSING:  # the peer started the closing handshake: echo it
                self._events.reply(self.conn.send(event.response()))
            self._events.peer_closed(int(event.code), event.reason or "")
        else:
            # wsproto reports a protocol error it found as a close event of its own.
            self._fail(int(event.code), event.reason or "")

    def _fail(self, code: int, reason: str) -> None:
        if self.conn.state is _OPEN:  # else our own close is out already: nothing more to say
            self._events.reply(self.conn.send(CloseConnection(code=code, reason=reason)))
        self._events.failed(code, reason)

    # ------------------------------------------------------------ frames out

    def encode_text(self, text: str) -> bytes:
        return self.conn.send(TextMessage(data=text))

    def encode_bytes(self, data: bytes) -> bytes:
        return self.conn.send(BytesMessage(data=data))

    def encode_close(self, code: int, reason: str) -> bytes:
        return self.conn.send(CloseConnection(code=code, reason=reason))

    def encode_ping(self, payload: bytes) -> bytes:
        return self.conn.send(Ping(payload=payload))
