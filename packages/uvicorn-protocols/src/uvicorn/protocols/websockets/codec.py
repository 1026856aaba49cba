"""What a WebSocket library does for a session: the codec interface.

A :class:`~uvicorn.protocols.websockets.session.WebSocketSession` holds one
codec object; it never subclasses one. A codec knows one library
(``websockets`` or ``wsproto``) and nothing about ASGI, transports or HTTP:

- :meth:`FrameCodec.negotiate` reads a checked handshake request and agrees on
  extensions (permessage-deflate), returning the response headers that say so;
- :meth:`FrameCodec.start` begins reading frames for a session, reporting what
  arrives to a :class:`CodecEvents` (the session); it returns the codec that
  reads the frames, which may be a wrapper (the plain-frame fast path,
  :class:`~uvicorn.protocols.websockets.plain_frames.PlainFrames`);
- :meth:`FrameCodec.receive` takes bytes after the handshake;
- the ``encode_*`` methods turn our messages into frames.

Replies the library owes the peer by itself (pongs, the echo of a close frame,
the close frame of a protocol error) go out through :meth:`CodecEvents.reply`
before the event that caused them is reported.
"""

from __future__ import annotations

import http
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from uvicorn.protocols.websockets.handshake import HandshakeRequest

__all__ = ["CodecEvents", "FrameCodec", "LibraryLog"]


@dataclass(frozen=True)
class LibraryLog:
    """Which of its own log lines a library writes to ``uvicorn.error`` (as upstream routes them).

    ``websockets`` logs ``connection open``, ``connection rejected (403 Forbidden)``
    and (its legacy server) ``connection closed``; ``wsproto`` logs nothing.
    """

    open: bool = False
    rejects: bool = False
    closed: bool = False

    def rejected(self, logger: logging.Logger, status: int) -> None:
        """The handshake was answered with ``status`` instead of a WebSocket."""
        if self.rejects:
            logger.info("connection rejected (%d %s)", status, _phrase(status))

    def refused(self, logger: logging.Logger, status: int, unparseable: bool) -> None:
        """The request was refused before any app ran."""
        if not unparseable:
            self.rejected(logger, status)
        elif self.rejects and status != 400:
            # websockets answers a request it cannot read only for its limits, as "sent".
            logger.info("HTTP response sent (%d %s)", status, _phrase(status))


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


class CodecEvents(Protocol):
    """What a codec reports to; the session implements it."""

    def deliver(self, message: dict[str, Any]) -> None:
        """A complete incoming message, as an ASGI ``websocket.receive`` event."""

    def pong(self, payload: bytes) -> None:
        """A pong arrived."""

    def peer_closed(self, code: int, reason: str) -> None:
        """The peer's close frame arrived (the echo, if one is owed, is already out)."""

    def failed(self, code: int, reason: str) -> None:
        """The peer broke RFC 6455; our close frame with ``code`` is already out."""

    def reply(self, data: bytes) -> None:
        """Write frames the library owes the peer (pongs, close echoes, a failure's close)."""

    def taking_messages(self) -> bool:
        """True while messages are delivered to the app (False once a close is under way)."""

    def close_frame_after_failure(self) -> None:
        """The peer's close frame arrived after the library stopped reading (a protocol error)."""


class FrameCodec(Protocol):
    """One library's handshake negotiation and frames, for one connection."""

    #: The library's own log lines (see :class:`LibraryLog`).
    log: LibraryLog

    def negotiate(self, request: HandshakeRequest) -> list[tuple[bytes, bytes]]:
        """Agree on extensions; the headers for the accepting response. Raises ``HandshakeError``."""

    def start(self, events: CodecEvents) -> FrameCodec:
        """Report to ``events`` from now on; returns the codec that reads and writes the frames."""

    def receive(self, data: bytes) -> bool:
        """Read bytes of the WebSocket stream; False once no more frames are read (closed or failed)."""

    def encode_text(self, text: str) -> bytes:
        """One text message as a frame. Encoders are called only while the session is open."""

    def encode_bytes(self, data: bytes) -> bytes:
        """One binary message as a frame."""

    def encode_close(self, code: int, reason: str) -> bytes:
        """Our close frame (called once)."""

    def encode_ping(self, payload: bytes) -> bytes:
        """A ping frame."""
