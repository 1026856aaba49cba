"""WebSockets over HTTP/2 (RFC 8441): an extended CONNECT stream as a WebSocket session's carrier.

The same :class:`~uvicorn.protocols.websockets.session.WebSocketSession` that
serves a WebSocket after an HTTP/1.1 ``101`` serves one on an HTTP/2 stream;
only the :class:`~uvicorn.protocols.websockets.carrier.Carrier` differs: the
accept is a ``200`` HEADERS frame, frames travel as DATA on the stream, reading
back-pressure withholds the stream's WINDOW_UPDATEs, and closing ends the stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.response_head import check_status, error_messages
from uvicorn.protocols.http2.response import response_fields
from uvicorn.protocols.websockets.handshake import HandshakeError, check_extended_connect
from uvicorn.protocols.websockets.session import WebSocketSession

if TYPE_CHECKING:
    from uvicorn.protocols.http2.connection import HTTP2Connection

__all__ = ["WebSocketStream", "accepts_websockets", "open_websocket"]


def accepts_websockets(ws_protocol_class: Any) -> bool:
    """True when the ``ws`` setting names a WebSocket implementation with a codec to share."""
    return ws_protocol_class is not None and getattr(ws_protocol_class, "make_codec", None) is not None


class WebSocketStream:
    """The carrier of one WebSocket on an HTTP/2 stream."""

    def __init__(self, conn: HTTP2Connection, stream_id: int) -> None:
        self.conn = conn
        self.stream_id = stream_id
        template = conn.scope_template
        self.scheme = "wss" if template["scheme"] == "https" else "ws"
        self.server: tuple[str, int | None] | None = template["server"]
        self.client: tuple[str, int] | None = template["client"]
        self.tls = conn.extensions.tls
        self.session: WebSocketSession | None = None
        self.closed = False  # END_STREAM sent, or the stream was reset
        self.reading = True
        self.unacknowledged = 0  # bytes received while reading was paused
        self._blocked = False  # written frames wait for the client's window
        self._denial: tuple[int, list[tuple[bytes, bytes]]] | None = None
        self._response_started = False
        self.write: Callable[[bytes], None] = self._write

    # ------------------------------------------------------------ fed by the connection

    def receive(self, data: bytes) -> None:
        if self.reading:
            self.conn.engine.acknowledge(self.stream_id, len(data))
        else:
            self.unacknowledged += len(data)
        if self.session is not None:
            self.session.receive_data(data)

    def lost(self) -> None:
        """The stream or the connection is gone."""
        self.closed = True
        if self.session is not None:
            self.session.connection_lost()

    def wake(self) -> None:
        """The window grew or the transport drained: resume the session's sends if all is out."""
        if not self._blocked or self.closed:
            return
        if self.conn.engine.has_pending(self.stream_id) or self.conn.flow.write_paused:
            self.conn.waiting.add(self)  # type: ignore[arg-type]
            return
        self._blocked = False
        if self.session is not None:
            self.session.resume_writing()

    # ------------------------------------------------------------ Carrier

    def _write(self, data: bytes) -> None:
        if self.closed:
            return
        engine = self.conn.engine
        engine.send_data(self.stream_id, data, False)
        self.conn.write_soon()
        if not self._blocked and engine.has_pending(self.stream_id):
            self._blocked = True
            self.conn.waiting.add(self)  # type: ignore[arg-type]
            if self.session is not None:
                self.session.pause_writing()

    def send_accept(self, headers: list[tuple[bytes, bytes]]) -> None:
        fields, _ = response_fields(headers, [])
        self.conn.engine.send_response(self.stream_id, 200, fields, False)
        self._response_started = True
        self.conn.write_soon()

    def send_error(self, status: int, message: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
        start, body = error_messages(status, message)
        fields, _ = response_fields([*start["headers"], *headers], self.conn.server_state.default_headers)
        self.conn.engine.send_response(self.stream_id, status, fields, False)
        self._finish(body["body"])

    def start_response(self, status: int, headers: Iterable[tuple[bytes, bytes]]) -> None:
        fields, _ = response_fields(headers, self.conn.server_state.default_headers)
        self._denial = (check_status(status), fields)

    def send_response_body(self, body: bytes, more_body: bool) -> None:
        if self._denial is not None:
            status, fields = self._denial
            self._denial = None
            self.conn.engine.send_response(self.stream_id, status, fields, False)
            self._response_started = True
        if more_body:
            if body:
                self.conn.engine.send_data(self.stream_id, body, False)
                self.conn.write_soon()
        else:
            self._finish(body)

    @property
    def response_started(self) -> bool:
        return self._response_started

    def is_closing(self) -> bool:
        return self.closed or self.conn.transport.is_closing()

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True
        if self.unacknowledged and not self.closed:
            self.conn.engine.acknowledge(self.stream_id, self.unacknowledged)
            self.conn.write_soon()
        self.unacknowledged = 0

    def close(self) -> None:
        """End the stream (END_STREAM); the session hears the stream is gone."""
        if not self.closed:
            self._finish(b"")

    def log_prefix(self) -> str:
        return "%s:%d - " % self.client if self.client else ""

    def _finish(self, body: bytes) -> None:
        if self.closed:
            return
        self.closed = True
        self.conn.engine.send_data(self.stream_id, body, True)
        self.conn.write_soon()
        self.conn.websocket_done(self)


def open_websocket(
    conn: HTTP2Connection, stream_id: int, target: bytes, headers: list[tuple[bytes, bytes]]
) -> WebSocketStream:
    """Run a WebSocket session for an extended CONNECT (``:protocol websocket``) on ``stream_id``."""
    carrier = WebSocketStream(conn, stream_id)
    config = conn.config
    codec = config.ws_protocol_class.make_codec(config)  # type: ignore[union-attr]
    session = carrier.session = WebSocketSession(
        config, conn.server_state, conn.app_state, conn.loop, carrier, codec
    )
    try:
        request = check_extended_connect("CONNECT", "websocket", target, headers)
    except HandshakeError as error:
        session.refuse(error)
        return carrier
    session.start(request)
    return carrier
