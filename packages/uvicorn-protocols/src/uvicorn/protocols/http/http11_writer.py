"""HTTP/1.1 framing of a response: the :class:`~uvicorn.protocols.http.cycle.ResponseWriter` of HTTP/1.1.

One writer per connection, made when the connection is: HTTP/1.1 answers one
request at a time, so the response in flight owns it until it completes. The
head is held back until the first body message, so head and body usually leave
in a single write, and a body sent in one message gets a ``content-length``
instead of chunked framing.

The extensions: a file body (pathsend, zerocopysend) goes to a sender of
``file_send.py``; a response with trailers is chunked, its trailer section
written only to a client that sent ``TE: trailers``; ``103 Early Hints`` go to
HTTP/1.1 clients only (an HTTP/1.0 client cannot take an interim response).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.file_send import FileSender, file_sender
from uvicorn.protocols.http.lingering_close import HANDED_OVER
from uvicorn.protocols.http.response_head import BodyFraming, ResponseHead, header_kind, serialized_defaults
from uvicorn.protocols.http.rules import NO_CONTENT_STATUSES
from uvicorn.protocols.http.streamed_writes import StreamedWrites
from uvicorn.protocols.http.trailers import client_accepts_trailers, http11_trailer_section, trailer_fields

if TYPE_CHECKING:
    from uvicorn.protocols.contract import ProtocolServerState
    from uvicorn.protocols.http.connection import HTTPConnection
    from uvicorn.protocols.http.cycle import RequestResponseCycle
    from uvicorn.protocols.http.file_send import FilePart

__all__ = ["HTTP11Writer"]

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\n"
# Bodies at least this large are written apart from the head rather than copied onto it.
_COPY_LIMIT = 16384


class HTTP11Writer:
    """Writes the response in flight on one HTTP/1.1 connection."""

    __slots__ = (
        "_conn",
        "_file_sender",
        "_framing",
        "_head",
        "_server_state",
        "_trailer_fields",
        "_trailers_follow",
        "_transport",
        "_with_body",
        "_writes",
    )

    accepts_trailers = True
    accepts_early_hints = True
    answers_500_after_start = True

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
        # The response is chunked and its last chunk waits for the app's trailers.
        self._trailers_follow = False
        # The trailer fields gathered for a client that sent "TE: trailers"; None: they are dropped.
        self._trailer_fields: list[tuple[bytes, bytes]] | None = None
        self._file_sender: FileSender | None = None  # made at the first file body

    def start(self, cycle: RequestResponseCycle, status: int, headers: Any) -> None:
        defaults = self._server_state.default_headers
        head = self._head = ResponseHead(
            status, headers, serialized_defaults(defaults), defaults, cycle.keep_alive
        )
        self._with_body = cycle.scope["method"] != "HEAD" and head.status not in NO_CONTENT_STATUSES
        self._framing = None
        self._writes = None
        if self._trailers_follow or cycle.trailers_expected:
            self._expect_trailers(cycle, head)

    def _expect_trailers(self, cycle: RequestResponseCycle, head: ResponseHead) -> None:
        """The app announced trailers: the body is chunked (on HTTP/1.1), its end written by ``trailers``."""
        scope = cycle.scope
        self._trailers_follow = cycle.trailers_expected and self._with_body and scope["http_version"] == "1.1"
        self._trailer_fields = None
        if self._trailers_follow:
            head.use_chunked()  # as if the app asked for chunked: a content-length is dropped
            if client_accepts_trailers(scope["headers"]):
                self._trailer_fields = []

    @property
    def head_held(self) -> bool:
        return self._head is not None  # held until the first body message: nothing written yet

    def body(self, cycle: RequestResponseCycle, body: bytes, more_body: bool) -> None:
        if self._trailers_follow:
            more_body = True  # the last chunk comes with the trailers
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

    async def send_file(self, cycle: RequestResponseCycle, part: FilePart, more_body: bool) -> None:
        if self._trailers_follow:
            more_body = True
        head = self._head
        if head is None:
            prefix = b""
            framing = self._framing
        else:
            # Everything that can fail is checked while the head is still held (a 500 then).
            scope = cycle.scope
            if not more_body and not head.chunked:
                # The whole body is this file: its size is the content-length.
                if head.content_length is None:
                    if self._with_body or (
                        scope["method"] == "HEAD" and head.status not in NO_CONTENT_STATUSES
                    ):
                        head.announce_length(part.count)
                elif head.content_length != part.count and self._with_body:
                    longer = "longer" if part.count > head.content_length else "shorter"
                    raise RuntimeError(f"Response content {longer} than Content-Length")
            prefix = head.finish(
                self._with_body, None, scope["http_version"] == "1.1", scope["method"] == "HEAD"
            )
            framing = BodyFraming(head) if self._with_body else None
        before, after = framing.frame_file(part.count, more_body) if framing is not None else (b"", b"")
        if head is not None:
            self._head_out(cycle, head, framing)
        if self._writes is not None:
            self._writes.flush()  # what the app streamed before goes first
        if framing is not None:
            sender = self._file_sender
            if sender is None:
                sender = self._file_sender = file_sender(self._transport, self._conn.flow, self._conn.loop)
            await sender.send(prefix + before, part, after)
        elif prefix and not self._transport.is_closing():
            self._transport.write(prefix)
        if more_body:
            if framing is not None and self._writes is None:
                self._writes = StreamedWrites(self._transport, self._conn.loop)  # for the pieces to come
        else:
            self._writes = None
            if framing is not None:
                self._framing = None
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
        self._head_out(cycle, head, framing if more_body else None)
        if more_body:
            if self._with_body:  # a streamed body: its pieces leave together (streamed_writes.py)
                writes = self._writes = StreamedWrites(self._transport, self._conn.loop)
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

    def _head_out(self, cycle: RequestResponseCycle, head: ResponseHead, framing: BodyFraming | None) -> None:
        """The held head is written now: the response's keep-alive, access line and exchange follow it."""
        self._head = None
        self._framing = framing
        cycle.keep_alive = head.keep_alive
        conn = self._conn
        if conn.access_log:
            conn.access_lines.log(cycle.scope, head.status)  # one line per response, as its head goes out
        if cycle.exchange is not None:
            cycle.exchange.head_sent(head.status)

    def trailers(self, cycle: RequestResponseCycle, headers: Any, more_trailers: bool) -> None:
        fields = trailer_fields(headers)  # checked even when dropped: a bad field is the app's error
        if self._trailer_fields is not None:
            self._trailer_fields += fields
        if more_trailers or not self._trailers_follow:
            return
        self._trailers_follow = False
        section = http11_trailer_section(self._trailer_fields or [])
        self._trailer_fields = None
        self._framing = None
        writes, self._writes = self._writes, None
        if writes is not None:
            writes.write(section)
            writes.flush()
        elif not self._transport.is_closing():
            self._transport.write(section)

    def early_hint(self, cycle: RequestResponseCycle, links: Any) -> None:
        lines = []
        for link in links:
            header_kind(b"link", link)  # raises for a value that must not be written
            lines.append(b"link: " + link + b"\r\n")
        if (
            cycle.scope["http_version"] != "1.1"  # RFC 9110 15.2: no 1xx to an HTTP/1.0 client
            or (cycle.response_started and self._head is None)  # the final head is out
            or self._transport.is_closing()
        ):
            return
        self._transport.write(b"".join([_EARLY_HINTS, *lines, b"\r\n"]))

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

    def hand_over(self) -> None:
        """The transport went to a lingering close (``lingering_close.py``): write and close nothing more."""
        self._transport = HANDED_OVER
