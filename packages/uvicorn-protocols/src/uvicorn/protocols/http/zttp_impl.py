"""HTTP/1.1 over zttp's parser (``--http zttp``): an adapter from zttp's events to the shared connection.

zttp is used only to read requests, like h11; responses are written by the
shared cycle. Upstream's import path and class name are kept.
"""

from __future__ import annotations

import asyncio
import re
from typing import ClassVar

import zttp

from uvicorn.protocols.http.connection import HTTPConnection
from uvicorn.protocols.http.request_head import INVALID_REQUEST, request_line_problem

__all__ = ["ZttpProtocol"]

# The HTTP/2 preface or any request line of version 2 or later gets 505, as with the other parsers:
# method, target and such a version (not just ' HTTP/2', which a field or a body may hold). Not
# anchored to a line's start: after a content-length body, a pipelined line follows its last byte.
_HTTP2_REQUEST_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ \r\n]+ HTTP/[2-9]")
_Request = zttp.Request
_Data = zttp.Data
_EndOfMessage = zttp.EndOfMessage
_HeaderBlock = zttp.HeaderBlock
_NEED_DATA = zttp.NEED_DATA


class ZttpProtocol(HTTPConnection):
    """HTTP/1.1 with zttp's parser."""

    __slots__ = (
        "_awaiting_head",
        "_first_head",
        "_last_bytes",
        "_length_framed",
        "_line",
        "_line_done",
        "parser",
    )

    alpn_protocols: ClassVar[list[str] | None] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Made with the connection, so the constructor stays the one every protocol shares.
        self.parser = zttp.Connection(zttp.SERVER)
        self._awaiting_head = True  # the next bytes start a request head
        self._line_done = False  # the request line of the head being received is complete
        # The reads that brought that request line (bounded by limit_request_line: past it, 414),
        # for telling an HTTP/2 request line from a malformed one when zttp refuses it.
        self._line = b""
        self._last_bytes = b""  # the last 3 bytes read before the current read
        # The connection's first head while its request line arrives (None once looked at).
        self._first_head: bytes | None = b""
        self._length_framed = False  # the last request read has a body of content-length bytes
        super().connection_made(transport)

    def _mid_head(self) -> bool:
        return self._awaiting_head and self.bounds.received > 0

    def _feed(self, data: bytes) -> None:
        parser = self.parser
        last_bytes = self._last_bytes
        self._last_bytes = data[-3:] if len(data) >= 3 else (last_bytes + data)[-3:]
        if self._awaiting_head and not self._line_done:
            self._line += data
            self._line_done = b"\n" in data
        completed = False  # a message ended in ``data``: the next head starts somewhere inside it
        # Where in ``data`` the bytes zttp has not reported yet begin (zttp keeps them to itself),
        # counted through heads and content-length bodies; None once a chunked body hides it.
        cursor: int | None = 0
        floor = 0  # where a chunked body began, once it hid the place: what follows is past it
        head_begun_before = self._awaiting_head and self.bounds.received > len(data)
        try:
            event = parser.receive_event(data)
            while event is not _NEED_DATA and not self.stopped_reading():
                kind = type(event)
                if kind is _Request:
                    self._awaiting_head = False
                    self._line = b""
                    if not event.target.isascii():  # type: ignore[union-attr]
                        self.reject(400, INVALID_REQUEST, "non-ASCII request target")
                        return
                    headers = event.headers  # type: ignore[union-attr]
                    headers = (
                        headers.to_list(lowercase_names=True)
                        if type(headers) is _HeaderBlock
                        else [(name.lower(), value) for name, value in headers]
                    )
                    names = {name for name, _ in headers}
                    self._length_framed = (
                        not event.end_stream  # type: ignore[union-attr]
                        and b"content-length" in names
                        and b"transfer-encoding" not in names
                    )
                    self.on_request_head(
                        event.method.decode("ascii"),  # type: ignore[union-attr]
                        event.target,  # type: ignore[union-attr]
                        event.http_version.decode("ascii"),  # type: ignore[union-attr]
                        headers,
                    )
                    cursor = _head_end(data, last_bytes, cursor, floor, head_begun_before, event)  # type: ignore[arg-type]
                    head_begun_before = False
                    if self._upgrade_request is not None and not self.stopped_reading():
                        # A WebSocket client may send its first frames right behind the handshake.
                        self.handoff_upgrade(data[cursor:] if cursor is not None else b"")
                        return
                    if event.end_stream:  # type: ignore[union-attr]
                        self._message_done()
                        completed = True
                elif kind is _Data:
                    if cursor is not None and self._length_framed:
                        cursor += len(event.data)  # type: ignore[union-attr]
                    elif cursor is not None:
                        floor, cursor = cursor, None
                    self.on_request_body(event.data)  # type: ignore[union-attr]
                elif kind is _EndOfMessage:
                    if not self._length_framed and cursor is not None:
                        floor, cursor = cursor, None  # a chunked body's last chunk and trailers: not counted
                    self._message_done()
                    completed = True
                else:  # CONNECTION_CLOSED: nothing more to read as HTTP
                    return
                event = parser.next_event()  # type: ignore[assignment]
            if self.stopped_reading():
                return  # refused: what follows is never read
            if completed and self._awaiting_head:
                # The next head's bytes so far (behind a chunked body: after the last CRLF CRLF).
                self._line = data[cursor:] if cursor is not None else _after_last_head(data, last_bytes)
                self._line_done = b"\n" in self._line
                if cursor is not None or not self._length_framed:
                    # Known exactly: the head is under way (timeout_request_head from the response's
                    # end, not the keep-alive timer) and its bytes count towards its limits.
                    self.bounds.received = len(self._line)
            if self._mid_head():
                self._check_partial_head(data)
        except zttp.RemoteProtocolError as exc:
            if self.stopped_reading():
                return
            if self._names_http2(data[floor:], None if cursor is None else cursor - floor):
                self.reject(505, "HTTP Version Not Supported: this server speaks HTTP/1.1.", "HTTP/2 request")
            elif "size limit" in str(exc):
                self.reject(431, "Request header fields too large.", str(exc))
            else:
                self.reject(400, INVALID_REQUEST, str(exc))

    def _names_http2(self, refused: bytes, cursor: int | None) -> bool:
        """Whether the head zttp refused while ``refused`` was read has a request line of HTTP/2 or later.

        Its request line is the first of the reads that brought it (``_line``), or, for
        a head begun behind a message that ended in ``refused``, the first from
        ``cursor`` (where that message ended), if known; else any line of the read.
        """
        if not self._awaiting_head:
            return False  # a body's framing: no request line in it
        head = self._line or (refused[cursor:] if cursor is not None else b"")
        if head:
            return _HTTP2_REQUEST_LINE.search(head.lstrip(b"\r\n").split(b"\n", 1)[0]) is not None
        return _HTTP2_REQUEST_LINE.search(refused) is not None

    def _check_partial_head(self, data: bytes) -> None:
        """A head still arriving: refuse it now if it is already too long, or can never become valid."""
        if not self._line_done:
            # The limit counts the line without its CRLF; a line still arriving may end in its CR.
            if self.bounds.received > self.limit_request_line + 1:
                self.reject(414, "Request-URI Too Long.", "request line over limit_request_line")
            elif self._first_head is not None and self.scope is None:
                self._first_head += data
        elif self._first_head is not None and self.scope is None:
            # zttp reads nothing until the whole head is in, and keeps what follows a request to
            # itself: the request line is looked at here for the connection's first head, whose
            # every byte came this way (where an HTTP/0.9 client sends its one request line).
            head, self._first_head = self._first_head + data, None
            problem = request_line_problem(head)
            if problem is not None:
                self.reject(400, INVALID_REQUEST, problem)

    def _message_done(self) -> None:
        self._awaiting_head = True
        self._line_done = False
        self._line = b""
        self.on_request_complete()
        self.parser.start_next_cycle()


def _after_last_head(data: bytes, last_bytes: bytes) -> bytes:
    """The start of the head begun in ``data`` after a message that ended in it (zttp keeps it to itself).

    A message without a body, or with a chunked one, ends with CRLF CRLF (which
    may begin in ``last_bytes``, the 3 bytes read before ``data``), and a head
    still incomplete holds none, so the bytes after the last CRLF CRLF are that
    head's. After a content-length body they may hold some of the body too: a
    line end found there may be the body's, which only lets a long request line
    go on until the head's other limits (check_limits once it is complete,
    limit_request_head_size) stop it.
    """
    end = data.rfind(b"\r\n\r\n")
    if end >= 0:
        return data[end + 4 :]
    end = (last_bytes + data[:3]).rfind(b"\r\n\r\n")  # one across the reads' boundary
    return data[end + 4 - len(last_bytes) :] if end >= 0 else data


def _head_end(
    data: bytes, last_bytes: bytes, cursor: int | None, floor: int, begun_before: bool, request: zttp.Request
) -> int | None:
    """Where in ``data`` the head of ``request`` (which ends in ``data``) ends, or None if not known.

    It begins at ``cursor`` and ends at the first CRLF CRLF from there; one begun
    in an earlier read (``begun_before``) may have that CRLF CRLF begin in
    ``last_bytes``, the 3 bytes read before ``data``. Where it begins is not known
    (``cursor`` None), it is looked for after its request line, past ``floor``.
    """
    if cursor is None:
        cursor = data.find(request.method + b" " + request.target + b" ", floor)
        if cursor < 0:
            return None
    elif begun_before:
        end = (last_bytes + data).find(b"\r\n\r\n")
        return end + 4 - len(last_bytes) if end >= 0 else None
    end = data.find(b"\r\n\r\n", cursor)
    return end + 4 if end >= 0 else None
