"""The connection under a WebSocket session: bytes in and out, before and after the handshake.

This layer reads the opening handshake request and refuses a bad one. It holds
the bytes that arrive before the app accepts, pauses reading for the session's
reasons and for write back-pressure, and ends the connection. The ASGI side is
:class:`~uvicorn.protocols.websockets.session.WebSocketSession`, built on it.

It also states the contract with the libraries. Each adapter (websockets-sansio,
websockets, wsproto) subclasses the session and implements the six methods
marked "adapter" below. It turns incoming frames into calls of the session's
``_deliver``, ``_on_pong``, ``_on_peer_close`` and ``_on_failure``, after
writing its library's own replies (pongs, close echoes, the close frame of a
failure).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from uvicorn.protocols.utils import get_local_addr, get_remote_addr, is_ssl
from uvicorn.protocols.websockets.handshake import (
    MAX_HEAD_SIZE,
    HandshakeError,
    HandshakeRequest,
    read_request,
)

if TYPE_CHECKING:
    from uvicorn.protocols.contract import ProtocolConfig, ProtocolServerState

__all__ = ["AWAITING_REQUEST", "CLOSED", "CLOSING", "DENYING", "HANDSHAKE", "OPEN", "WebSocketConnection"]

TRACE_LOG_LEVEL = 5

# Where a connection is. Frames flow only while OPEN; CLOSING waits for the peer's
# reply to our close frame; HANDSHAKE and DENYING wait for the app's answer.
AWAITING_REQUEST, HANDSHAKE, DENYING, OPEN, CLOSING, CLOSED = range(6)


class WebSocketConnection(asyncio.Protocol):
    """Transport handling shared by every WebSocket implementation."""

    def __init__(
        self,
        config: ProtocolConfig,
        server_state: ProtocolServerState,
        loop: asyncio.AbstractEventLoop | None,
    ) -> None:
        self.config = config
        self.loop = loop or asyncio.get_event_loop()
        self.logger = logging.getLogger("uvicorn.error")
        self.server_state = server_state
        self.connections = server_state.connections
        self.max_size: int = config.ws_max_size

        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.server: tuple[str, int | None] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "ws"

        self._state = AWAITING_REQUEST
        self._buffer = b""  # the request head so far, then bytes that arrive before the accept
        self._lost = False
        self._draining = False  # half-closed after a failure: read and discard until the peer closes
        self.close_timeout = 10.0  # how long our close frame waits for the peer's reply
        self.close_timer: asyncio.TimerHandle | None = None

        # Reading pauses while the app is behind (_app_is_behind), while writing is
        # paused, or while too much arrived before the accept; see _update_reading().
        self._read_paused = False
        self._write_paused = False
        self._early_full = False
        self._writable = asyncio.Event()
        self._writable.set()

    # ------------------------------------------------------------ adapter

    def _library_handshake(self, request: HandshakeRequest) -> None:
        """Adapter: let the library read the valid request; raise :class:`HandshakeError` to refuse it."""
        raise NotImplementedError

    def _accept_response(self, subprotocol: str | None, headers: list[tuple[bytes, bytes]]) -> bytes:
        """Adapter: the ``101`` response, with the agreed extensions, ``subprotocol`` and ``headers``."""
        raise NotImplementedError

    def _receive_frames(self, data: bytes) -> None:
        """Adapter: feed bytes received after the handshake to the library and report what they carried."""
        raise NotImplementedError

    def _encode_text(self, text: str) -> bytes:
        """Adapter: one text message as a frame. The encoders are called only while the session is OPEN."""
        raise NotImplementedError

    def _encode_bytes(self, data: bytes) -> bytes:
        """Adapter: one binary message as a frame."""
        raise NotImplementedError

    def _encode_close(self, code: int, reason: str) -> bytes:
        """Adapter: our close frame; called once, as the session leaves OPEN."""
        raise NotImplementedError

    def _encode_ping(self, payload: bytes) -> bytes:
        """Adapter: a ping frame."""
        raise NotImplementedError

    # ------------------------------------------------------------ session

    def _start_app(self, request: HandshakeRequest) -> None:
        """Session: a valid handshake request arrived; run the app for it."""
        raise NotImplementedError

    def _app_is_behind(self) -> bool:
        """Session: True while messages pile up unread (reading pauses)."""
        raise NotImplementedError

    def _connection_gone(self) -> None:
        """Session: the transport is lost."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Session: graceful server shutdown."""
        raise NotImplementedError

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connections.add(self)
        self.transport = transport  # type: ignore[assignment]
        self.server = get_local_addr(self.transport)
        self.client = get_remote_addr(self.transport)
        self.scheme = "wss" if is_ssl(self.transport) else "ws"
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sWebSocket connection made", self._log_prefix())

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sWebSocket connection lost", self._log_prefix())
        self._lost = True
        self._state = CLOSED
        self._stop_timers()
        self._writable.set()  # asyncio never resumes writing on a lost transport: wake senders
        self._connection_gone()
        if exc is None:
            self.transport.close()

    def eof_received(self) -> None:
        # The peer will send nothing more; returning None lets the transport close.
        return None

    def data_received(self, data: bytes) -> None:
        state = self._state
        if state in (OPEN, CLOSING):
            self._receive_frames(data)
        elif state == AWAITING_REQUEST:
            self._read_head(data)
        elif state == CLOSED:
            # E.g. a pong that crossed our close: the session is over, nothing to read.
            if not self._draining and not self.transport.is_closing():
                self.transport.close()
        else:
            # A client must wait for the 101 before sending frames; hold them, bounded.
            self._buffer += data
            if len(self._buffer) > MAX_HEAD_SIZE and not self._early_full:
                self._early_full = True
                self._update_reading()

    def pause_writing(self) -> None:
        self._write_paused = True
        self._writable.clear()
        self._update_reading()  # a peer that does not read must not make us queue pongs for it

    def resume_writing(self) -> None:
        self._write_paused = False
        self._writable.set()
        self._update_reading()

    # ------------------------------------------------------------ the opening handshake request

    def _read_head(self, data: bytes) -> None:
        buffer = self._buffer + data
        end = buffer.find(b"\r\n\r\n")
        if end == -1:
            if len(buffer) > MAX_HEAD_SIZE:
                self._refuse(HandshakeError(431, "Request header fields too large."))
            else:
                self._buffer = buffer
            return
        self._buffer = buffer[end + 4 :]
        try:
            request = read_request(buffer[: end + 4])
            self._library_handshake(request)
        except HandshakeError as error:
            self._refuse(error)
            return
        self._start_app(request)

    def _refuse(self, error: HandshakeError) -> None:
        self.logger.warning(
            "%sInvalid WebSocket handshake (%d): %s", self._log_prefix(), error.status, error.message
        )
        self._end_with(error.response(self.server_state.default_headers))

    def _take_early_bytes(self) -> bytes:
        """What arrived between the request and the accept; reading goes on normally after."""
        early, self._buffer = self._buffer, b""
        if self._early_full:
            self._early_full = False
            self._update_reading()
        return early

    # ------------------------------------------------------------ flow control

    def _update_reading(self) -> None:
        paused = self._app_is_behind() or self._write_paused or self._early_full
        if paused == self._read_paused or self.transport is None or self.transport.is_closing():
            return
        self._read_paused = paused
        if paused:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    # ------------------------------------------------------------ ending the connection

    def _end_with(self, response: bytes) -> None:
        """Answer the handshake with an HTTP response instead of a WebSocket, then close."""
        if not self.transport.is_closing():
            self.transport.write(response)
        self._finish()

    def _fail_finish(self) -> None:
        """End after a protocol error, once the close frame is written (RFC 6455 7.1.7).

        Closing a socket that still has unread bytes makes the kernel reset the
        connection, and a reset can destroy the close frame before the client reads
        it. So, where the transport can, half-close instead: the client gets the
        close frame and then the end of the stream, and we discard what it still
        sends until it closes too (or ``close_timeout`` passes).
        """
        transport = self.transport
        can_write_eof = getattr(transport, "can_write_eof", None)
        if transport.is_closing() or can_write_eof is None or not can_write_eof():
            self._finish()  # e.g. TLS, which cannot half-close
            return
        self._state = CLOSED
        self._stop_timers()
        self._draining = True
        transport.write_eof()
        self.close_timer = self.loop.call_later(self.close_timeout, self._finish)

    def _finish(self) -> None:
        self._state = CLOSED
        self._stop_timers()
        if not self.transport.is_closing():
            self.transport.close()

    def _stop_timers(self) -> None:
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None

    def _log_prefix(self) -> str:
        return "%s:%d - " % self.client if self.client else ""
