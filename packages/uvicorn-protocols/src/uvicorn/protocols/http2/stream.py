"""One HTTP/2 stream: the :class:`~uvicorn.protocols.http.cycle.ResponseWriter` of HTTP/2.

The head is held until the first body message, so a response sent whole goes
out as HEADERS + DATA in one write and gets a ``content-length``. ``send``
waits (``drain``) while the client's flow-control window holds back what was
already written, so a client that never opens its window cannot make the
server buffer more than one message per stream. A file body (pathsend,
zerocopysend) is read a chunk at a time (``file_send.CHUNK_SIZE``) as the
window lets the previous chunk out.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.file_send import CHUNK_SIZE, read_part
from uvicorn.protocols.http.response_head import check_status
from uvicorn.protocols.http.rules import NO_CONTENT_STATUSES
from uvicorn.protocols.http2.engine import CANCEL, INTERNAL_ERROR
from uvicorn.protocols.http2.response import response_fields, trailer_fields

if TYPE_CHECKING:
    from uvicorn.protocols.http.cycle import RequestResponseCycle
    from uvicorn.protocols.http.file_send import FilePart
    from uvicorn.protocols.http2.connection import HTTP2Connection

__all__ = ["HTTP2Stream"]


class HTTP2Stream:
    """The server side of one stream: response writing, flow control, request-body accounting."""

    __slots__ = (
        "_blocked",
        "_event",
        "_fields",
        "_length_left",
        "_status",
        "_trailers",
        "_with_body",
        "conn",
        "cycle",
        "ended",
        "received",
        "request_length",
        "reset",
        "send_trailers",
        "stream_id",
        "unacknowledged",
    )

    accepts_trailers = True
    accepts_early_hints = True
    # A failure after http.response.start resets the stream (as upstream), never a 500 in its place.
    head_replaceable = False

    def __init__(
        self, conn: HTTP2Connection, stream_id: int, request_length: int | None, send_trailers: bool
    ) -> None:
        self.conn = conn
        self.stream_id = stream_id
        self.cycle: RequestResponseCycle | None = None
        self.request_length = request_length  # the request's content-length, if it gave one
        self.received = 0  # request body bytes so far
        self.unacknowledged = 0  # of those, bytes the client gets window for once the app reads
        self.send_trailers = send_trailers  # the request said "TE: trailers"
        self.reset = False  # reset by either side, or the connection is gone
        self.ended = False  # the response's END_STREAM is sent
        self._status = 0  # of the head held until the first body message
        self._fields: list[tuple[bytes, bytes]] = []
        self._length_left: int | None = None
        self._with_body = True
        self._trailers: list[tuple[bytes, bytes]] = []
        self._blocked = False  # written bytes wait for the client's window
        self._event: asyncio.Event | None = None

    # ------------------------------------------------------------ flow control (WriteFlow)

    @property
    def write_paused(self) -> bool:
        return self._blocked or self.conn.flow.write_paused

    async def drain(self) -> None:
        """Wait until what was written has left (window and transport), or the stream is gone.

        Each wait is bounded by ``timeout_response_send``: a client that keeps the
        window shut that long gets the stream reset (the transport's own stall is
        ``FlowControl``'s to bound).
        """
        conn = self.conn
        while not self.reset and (self._blocked or conn.flow.write_paused):
            if self._event is None:
                self._event = asyncio.Event()
            self._event.clear()
            conn.waiting.add(self)
            timer = conn.loop.call_later(conn.timeout_response_send, self._send_stalled)
            try:
                await self._event.wait()
            finally:
                timer.cancel()

    def _send_stalled(self) -> None:
        if self.reset or not self._blocked:
            return
        self.conn.logger.warning(
            "Resetting an HTTP/2 stream whose client opened no window for %ss (timeout_response_send).",
            self.conn.timeout_response_send,
        )
        self.conn.reset_stream(self, CANCEL)

    def wake(self) -> None:
        """The window grew, the transport drained or the stream ended: ``drain`` looks again."""
        if self._blocked and not self.reset:
            self._blocked = self.conn.engine.has_pending(self.stream_id)
        if self._event is not None:
            self._event.set()

    # ------------------------------------------------------------ ResponseWriter

    def start(self, cycle: RequestResponseCycle, status: int, headers: Any) -> None:
        self._status = check_status(status)
        self._fields, self._length_left = response_fields(headers, self.conn.server_state.default_headers)
        self._with_body = cycle.scope["method"] != "HEAD" and status not in NO_CONTENT_STATUSES

    def body(self, cycle: RequestResponseCycle, body: bytes, more_body: bool) -> None:
        if self.reset:
            return
        conn = self.conn
        engine = conn.engine
        last = not more_body and not cycle.trailers_expected
        if self._status:
            status, self._status = self._status, 0
            fields = self._fields
            if not more_body and self._length_left is None and self._with_body:
                fields.append((b"content-length", b"%d" % len(body)))
                self._length_left = len(body)
            if conn.access_log:
                conn.access_lines.log(cycle.scope, status)
            if cycle.exchange is not None:
                cycle.exchange.head_sent(status)
            head_ends = last and (not body or not self._with_body)
            engine.send_response(self.stream_id, status, fields, head_ends)
            if head_ends:
                self.ended = True
                conn.write_soon()
                self._check_length(more_body)
                return
        if not self._with_body:
            body = b""
        elif self._length_left is not None:
            self._length_left -= len(body)
            if self._length_left < 0:
                raise RuntimeError("Response content longer than Content-Length")
        self._check_length(more_body)
        if body or last:
            engine.send_data(self.stream_id, body, last)
            self.ended = last
            self._blocked = engine.has_pending(self.stream_id)
        conn.write_soon()

    async def send_file(self, cycle: RequestResponseCycle, part: FilePart, more_body: bool) -> None:
        if self._status and not more_body:
            # The whole body is this file: its size is the content-length (checked while the head
            # is held, so a mismatch can still become a 500).
            if self._length_left is None:
                if self._with_body or self._status not in NO_CONTENT_STATUSES:  # HEAD describes a GET
                    self._fields.append((b"content-length", b"%d" % part.count))
                    self._length_left = part.count if self._with_body else None
            elif self._length_left != part.count and self._with_body:
                longer = "longer" if part.count > self._length_left else "shorter"
                raise RuntimeError(f"Response content {longer} than Content-Length")
        position, left = part.offset, part.count
        if not self._with_body or not left:
            self.body(cycle, b"", more_body)
            return
        try:
            while left and not self.reset:
                data = read_part(part, position, min(CHUNK_SIZE, left))
                if not data:
                    raise RuntimeError(
                        f"The file ended after {position - part.offset} of the {part.count} bytes to send."
                    )
                position += len(data)
                left -= len(data)
                self.body(cycle, data, more_body or left > 0)
                if self.write_paused:
                    await self.drain()  # the client's window, or the transport: one chunk held at most
        finally:
            part.sent(position - part.offset)

    def retract_head(self) -> bool:
        if not self._status:
            return False
        self._status = 0
        return True

    def _check_length(self, more_body: bool) -> None:
        if not more_body and self._with_body and self._length_left:
            raise RuntimeError("Response content shorter than Content-Length")

    def trailers(self, cycle: RequestResponseCycle, headers: Any, more_trailers: bool) -> None:
        fields = trailer_fields(headers)
        if self.send_trailers:
            self._trailers += fields
        if more_trailers or self.reset:
            return
        if self._trailers:
            self.conn.engine.send_trailers(self.stream_id, self._trailers)
        else:
            self.conn.engine.send_data(self.stream_id, b"", True)
        self.ended = True
        self.conn.write_soon()

    def early_hint(self, cycle: RequestResponseCycle, links: Any) -> None:
        if not self.reset and not (cycle.response_started and not self._status):  # final head not out yet
            self.conn.engine.send_informational(self.stream_id, 103, [(b"link", link) for link in links])
            self.conn.write_soon()

    def send_continue(self) -> None:
        if not self.reset:
            self.conn.engine.send_informational(self.stream_id, 100, [])
            self.conn.write_soon()

    def flush(self) -> None:
        self.conn.write_soon()

    def abort(self) -> None:
        """Reset the stream (INTERNAL_ERROR): the client sees a broken response, other streams go on."""
        if not self.reset and not self.ended:
            self.conn.reset_stream(self, INTERNAL_ERROR)

    def is_closing(self) -> bool:
        return self.reset or self.conn.transport.is_closing()
