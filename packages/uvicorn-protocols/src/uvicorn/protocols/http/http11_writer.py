"""HTTP/1.1 framing of a response: the :class:`~uvicorn.protocols.http.cycle.ResponseWriter` of HTTP/1.1.

One writer per connection, made when the connection is: HTTP/1.1 answers one
request at a time, so the response in flight owns it until it completes. The
head is held back until the first body message, so head and body usually leave
in a single write, and a body sent in one message gets a ``content-length``
instead of chunked framing.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.response_head import BodyFraming, ResponseHead, serialized_defaults
from uvicorn.protocols.http.rules import NO_CONTENT_STATUSES
from uvicorn.protocols.http.streamed_writes import StreamedWrites

if TYPE_CHECKING:
    from uvicorn.protocols.contract import ProtocolServerState
    from uvicorn.protocols.http.connection import HTTPConnection
    from uvicorn.protocols.http.cycle import RequestResponseCycle

__all__ = ["HTTP11Writer"]

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# Bodies at least this large are written apart from the head rather than copied onto it.
_COPY_LIMIT = 16384


class HTTP11Writer:
    """Writes the response in flight on one HTTP/1.1 connection."""

    __slots__ = ("_conn", "_framing", "_head", "_server_state", "_transport", "_with_body", "_writes")

    accepts_trailers = False
    accepts_early_hints = False

    def __init__(
        self, conn: HTTPConnection, transport: asyncio.Transport, server_state: ProtocolServerState
    ) -> None:
        self._conn = conn
        self._transport = transport
        self._server_state = server_state
        self._head: ResponseHead | None = None
        self._with_body = True
        self._framing: BodyFraming | None = None  # once the head is written, if the body needs it
        self._writes: StreamedWrites | None = None  # for a body sent in several messages

    def start(self, cycle: RequestResponseCycle, status: int, headers: Any) -> None:
        defaults = self._server_state.default_headers
        head = self._head = ResponseHead(
            status, headers, serialized_defaults(defaults), defaults, cycle.keep_alive
        )
        self._with_body = cycle.scope["method"] != "HEAD" and head.status not in NO_CONTENT_STATUSES
        self._framing = None
        self._writes = None

    @property
    def head_replaceable(self) -> bool:
        return self._head is not None  # held until the first body message: nothing written yet

    def body(self, cycle: RequestResponseCycle, body: bytes, more_body: bool) -> None:
        head = self._head
        if head is not None:
            self._write_head(cycle, head, body, more_body)
        elif self._with_body:
            framed = self._framing.frame(body, more_body)  # type: ignore[union-attr]
            if framed:
                self._writes.write(framed)  # type: ignore[union-attr]  # made with the first piece
        if not more_body:
            if self._writes is not None:
                self._writes.flush()
                self._writes = None
            if self._framing is not None:
                framing, self._framing = self._framing, None
                framing.check_complete()

    def _write_head(
        self, cycle: RequestResponseCycle, head: ResponseHead, body: bytes, more_body: bool
    ) -> None:
        """Write the head with the first body message, once that body is known to fit the head."""
        scope = cycle.scope
        data = head.finish(
            self._with_body,
            None if more_body else body,
            scope["http_version"] == "1.1",
            scope["method"] == "HEAD",
        )
        framed = b""
        framing = None
        if self._with_body:
            if not more_body and not head.chunked and head.content_length == len(body):
                framed = body  # the whole body in one message, as announced: nothing to frame
            else:
                framing = BodyFraming(head)
                framed = framing.frame(body, more_body)  # raises if longer than its content-length
                if not more_body:
                    framing.check_complete()  # raises if shorter
        # Nothing was written above: a first body that does not fit its head leaves room for a 500.
        self._head = None
        self._framing = framing if more_body else None
        cycle.keep_alive = head.keep_alive
        conn = self._conn
        if conn.access_log:
            conn.access_lines.log(scope, head.status)  # one line per response, as its head goes out
        if cycle.exchange is not None:
            cycle.exchange.head_sent(head.status)
        if more_body:
            if self._with_body:  # a streamed body: its pieces leave together (streamed_writes.py)
                writes = self._writes = StreamedWrites(self._transport, conn.loop)
                writes.write(data)
                if framed:
                    writes.write(framed)
                return
        elif len(framed) < _COPY_LIMIT:
            data += framed
        else:
            self._transport.write(data)
            data = framed
        self._transport.write(data)

    def trailers(self, cycle: RequestResponseCycle, headers: Any, more_trailers: bool) -> None:
        """Never called: trailers are not announced on HTTP/1.1 (``accepts_trailers`` is false)."""

    def early_hint(self, cycle: RequestResponseCycle, links: Any) -> None:
        """Never called: early hints are not announced on HTTP/1.1."""

    def send_continue(self) -> None:
        if not self._transport.is_closing():
            self._transport.write(_CONTINUE)

    def flush(self) -> None:
        if self._writes is not None:
            self._writes.flush()

    def abort(self) -> None:
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()
