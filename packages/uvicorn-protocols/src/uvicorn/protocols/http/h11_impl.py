"""HTTP/1.1 over h11: an adapter from h11's events to the shared connection.

h11 is used only to read requests. It keeps one request per ``h11.Connection``,
so after each request a fresh one takes over the unread bytes; responses are
written by the shared cycle.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11

from uvicorn.protocols.http.connection import HTTPConnection
from uvicorn.protocols.http.cycle import RequestResponseCycle
from uvicorn.protocols.http.request_head import INVALID_REQUEST, MAX_BODY_SIZE, request_line_problem
from uvicorn.protocols.http.rules import CONTROL_CHARACTER

__all__ = ["H11Protocol", "RequestResponseCycle"]

# The statuses h11 suggests for what it refuses, with the same words the shared checks use.
_ERROR_MESSAGES = {
    400: INVALID_REQUEST,
    431: "Request header fields too large.",
    501: "Unsupported Transfer-Encoding: only chunked is implemented.",
}


# How far the request line of the current message got.
_LINE_ARRIVING, _LINE_COMPLETE, _LINE_CHECKED = 0, 1, 2


def _chunk_left(conn: h11.Connection) -> int:
    """The bytes h11 still expects of the chunk it is reading (0 when not reading one).

    h11 reads chunk sizes of up to 20 hex digits and has no public view of them: its
    chunked reader's counter is read where it exists, and counts as 0 where it does not.
    """
    left: int = getattr(getattr(conn, "_reader", None), "_bytes_in_chunk", 0)
    return left


def _header_list(headers: Any) -> list[tuple[bytes, bytes]]:
    """``(lowercased name, value)`` pairs of h11's ``Headers``."""
    # Iterating Headers goes through the Sequence mixin, an item at a time; its storage
    # (raw name, lowercased name, value) is read four times faster. Older h11: a list.
    full_items = getattr(headers, "_full_items", None)
    if full_items is None:
        return list(headers)
    return [(name, value) for _, name, value in full_items]


class H11Protocol(HTTPConnection):
    """HTTP/1.1 with the pure-Python h11 parser."""

    __slots__ = ("_line_state", "_max_incomplete", "_message_bytes", "conn")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The parser state belongs to the connection; made with it rather than in __init__
        # so the constructor stays the one every protocol shares (contract.py).
        config = self.config
        self._max_incomplete = config.h11_max_incomplete_event_size or config.limit_request_head_size
        self._next_message(b"")
        super().connection_made(transport)

    def _next_message(self, unread: bytes) -> None:
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self._max_incomplete)
        # How far the current message got, for the request-line and head limits.
        self._message_bytes = 0
        self._line_state = _LINE_ARRIVING
        if unread:
            self._receive(unread)

    def _receive(self, data: bytes) -> None:
        self._message_bytes += len(data)
        if not self._line_state and b"\n" in data:
            self._line_state = _LINE_COMPLETE
        self.conn.receive_data(data)

    def _mid_head(self) -> bool:
        return self._message_bytes > 0 and self.conn.their_state is h11.IDLE

    def _feed(self, data: bytes) -> None:
        self._receive(data)
        while not self.stopped_reading():
            conn = self.conn
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                status = exc.error_status_hint if exc.error_status_hint in _ERROR_MESSAGES else 400
                self.reject(status, _ERROR_MESSAGES[status], str(exc))
                return
            event_type = type(event)
            if event_type is h11.Request:
                headers = _header_list(event.headers)  # type: ignore[union-attr]
                # h11 lets most control characters through in header values; they never reach the app.
                if CONTROL_CHARACTER.search(b"\t".join([value for _, value in headers])) is not None:
                    name = next(name for name, value in headers if CONTROL_CHARACTER.search(value))
                    self.reject(400, INVALID_REQUEST, f"control character in header {name.decode()!r}")
                    return
                self.on_request_head(
                    event.method.decode("ascii"),  # type: ignore[union-attr]
                    bytes(event.target),  # type: ignore[union-attr]
                    event.http_version.decode("ascii"),  # type: ignore[union-attr]
                    headers,
                )
                if self._upgrade_request is not None and not self.stopped_reading():
                    self.handoff_upgrade(conn.trailing_data[0])
                    return
            elif event_type is h11.Data:
                body = event.data  # type: ignore[union-attr]
                if event.chunk_start and _chunk_left(conn) + len(body) > MAX_BODY_SIZE:  # type: ignore[union-attr]
                    self._chunk_too_large()
                    return
                self.on_request_body(bytes(body))
            elif event_type is h11.EndOfMessage:
                self.on_request_complete()
                unread = conn.trailing_data[0]
                self._next_message(unread)
                if not unread:
                    return  # nothing more to parse (asking the new connection costs a call)
            elif event is h11.NEED_DATA:
                if self._mid_head():
                    self._check_partial_head()
                elif _chunk_left(conn) > MAX_BODY_SIZE:  # a chunk size read, none of its data yet
                    self._chunk_too_large()
                return
            else:  # PAUSED or ConnectionClosed: nothing more to read as HTTP
                return

    def _chunk_too_large(self) -> None:
        self.reject(400, INVALID_REQUEST, "chunk size overflows 64 bits")

    def _check_partial_head(self) -> None:
        """A head that h11 holds, incomplete: refuse it now if it can never become valid."""
        if not self._line_state:
            # The limit counts the line without its CRLF; a line still arriving may end in its CR.
            if self._message_bytes > self.limit_request_line + 1:
                self.reject(414, "Request-URI Too Long.", "request line over limit_request_line")
        elif self._line_state == _LINE_COMPLETE:
            # h11 reads nothing until the whole head is in; its first line is looked at
            # once, as it ends (an HTTP/0.9 client sends no more lines: it would wait).
            self._line_state = _LINE_CHECKED
            problem = request_line_problem(self.conn.trailing_data[0])
            if problem is not None:
                self.reject(400, INVALID_REQUEST, problem)
