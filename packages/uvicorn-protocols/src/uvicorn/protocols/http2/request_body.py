"""Request bodies on an HTTP/2 connection: DATA into each stream's cycle, window credit, the body bounds.

A client gets flow-control window back as the app reads (with h2; zttp gives it
back by itself, and the connection stops reading while an app lags behind). The
rules of RFC 9113 8.1.1 (DATA must add up to the ``content-length``) and the
server's own bounds (``body_limits.py``: ``limit_request_body``,
``timeout_request_body``) end the offending stream, never the connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uvicorn.protocols.http.body_limits import (
    TIMEOUT_MESSAGE,
    TOO_LARGE_MESSAGE,
    stalled_reason,
    too_large_reason,
)
from uvicorn.protocols.http.exchange import count_rejection
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.request_head import refusal_detail
from uvicorn.protocols.http2.engine import CANCEL, NO_ERROR, PROTOCOL_ERROR

if TYPE_CHECKING:
    from uvicorn.protocols.http2.connection import HTTP2Connection
    from uvicorn.protocols.http2.stream import HTTP2Stream

__all__ = ["RequestBodies"]


class RequestBodies:
    """The request bodies of one HTTP/2 connection (its streams' DATA and END_STREAM)."""

    __slots__ = ("_conn", "limit", "timeout")

    def __init__(self, conn: HTTP2Connection, limit: int | None, timeout: float) -> None:
        self._conn = conn
        self.limit = limit  # limit_request_body
        self.timeout = timeout  # timeout_request_body

    def data(self, stream: HTTP2Stream, data: bytes) -> None:
        """DATA on a request stream: into its cycle, unless the stream broke a rule with it."""
        conn = self._conn
        stream.received += len(data)
        if stream.request_length is not None and stream.received > stream.request_length:
            conn.reset_stream(stream, PROTOCOL_ERROR)  # RFC 9113 8.1.1: more than content-length
            return
        if self.limit is not None and stream.received > self.limit:
            self._cut(stream, 413, TOO_LARGE_MESSAGE, too_large_reason(self.limit))
            return
        cycle = stream.cycle
        assert cycle is not None
        if cycle.response_complete or cycle.disconnected:
            conn.engine.acknowledge(stream.stream_id, len(data))
        elif cycle.feed_body(data):
            # The app is behind: the client gets window back only as the app reads (credit).
            stream.unacknowledged += len(data)
            conn.flow.pause_reading()
        else:
            conn.engine.acknowledge(stream.stream_id, len(data))

    def end(self, stream: HTTP2Stream) -> None:
        """END_STREAM on a request stream (request trailers: ASGI has no message for them)."""
        if stream.request_length is not None and stream.received != stream.request_length:
            self._conn.reset_stream(stream, PROTOCOL_ERROR)  # RFC 9113 8.1.1: less than content-length
            return
        stream.cycle.feed_end()  # type: ignore[union-attr]  # a request stream has its cycle

    def credit(self, stream: HTTP2Stream) -> None:
        """The app read what it had: give the client that much window, and read again once no app lags."""
        conn = self._conn
        if stream.unacknowledged:
            conn.engine.acknowledge(stream.stream_id, stream.unacknowledged)
            stream.unacknowledged = 0
            conn.write_soon()
        if conn.flow.read_paused and all(
            s.cycle is None or s.cycle.buffered <= HIGH_WATER_LIMIT for s in conn.streams.values()
        ):
            conn.flow.resume_reading()

    def stalled(self, stream: HTTP2Stream) -> bool:
        """The app waited ``timeout`` for more body; False when the wait is the server's own doing."""
        if self._conn.flow.read_paused:
            return False  # another stream's app lags and reading is paused: not this client's fault
        self._cut(stream, 408, TIMEOUT_MESSAGE, stalled_reason(self.timeout), "timeout_request_body")
        return True

    def _cut(
        self, stream: HTTP2Stream, status: int, message: str, reason: str, bound: str | None = None
    ) -> None:
        """End a stream whose body broke a bound: ``status`` if nothing was answered, else a reset."""
        cycle = stream.cycle
        if cycle is not None and not cycle.response_started:
            cycle.feed_disconnect()  # the app's later sends go nowhere
            self._conn.answer_stream(stream.stream_id, status, message, reason, bound)
            # RFC 9113 8.1: a complete answer, then "stop sending" (RST_STREAM NO_ERROR).
            self._conn.reset_stream(stream, NO_ERROR)
        else:
            detail = refusal_detail(status, message, reason)
            self._conn.logger.warning("Invalid HTTP request received. %s", detail)
            count_rejection(self._conn.server_state, status, bound)
            self._conn.reset_stream(stream, CANCEL)
