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

# The HTTP/2 preface or any request line of version 2 or later gets 505, as with the other parsers.
_HTTP2_REQUEST_LINE = re.compile(rb"(?m)^[^\r\n]* HTTP/[2-9]")
_Request = zttp.Request
_Data = zttp.Data
_EndOfMessage = zttp.EndOfMessage
_HeaderBlock = zttp.HeaderBlock
_NEED_DATA = zttp.NEED_DATA


class ZttpProtocol(HTTPConnection):
    """HTTP/1.1 with zttp's parser."""

    __slots__ = ("_awaiting_head", "_first_head", "_line_done", "parser")

    alpn_protocols: ClassVar[list[str] | None] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Made with the connection, so the constructor stays the one every protocol shares.
        self.parser = zttp.Connection(zttp.SERVER)
        self._awaiting_head = True  # the next bytes start a request head
        self._line_done = False  # the request line of the head being received is complete
        # The connection's first head while its request line arrives (None once looked at).
        self._first_head: bytes | None = b""
        super().connection_made(transport)

    def _mid_head(self) -> bool:
        return self._awaiting_head and self.bounds.received > 0

    def _feed(self, data: bytes) -> None:
        parser = self.parser
        if self._awaiting_head and not self._line_done and b"\n" in data:
            self._line_done = True
        try:
            event = parser.receive_event(data)
            while event is not _NEED_DATA and not self.stopped_reading():
                kind = type(event)
                if kind is _Request:
                    self._awaiting_head = False
                    if not event.target.isascii():  # type: ignore[union-attr]
                        self.reject(400, INVALID_REQUEST, "non-ASCII request target")
                        return
                    headers = event.headers  # type: ignore[union-attr]
                    headers = (
                        headers.to_list(lowercase_names=True)
                        if type(headers) is _HeaderBlock
                        else [(name.lower(), value) for name, value in headers]
                    )
                    self.on_request_head(
                        event.method.decode("ascii"),  # type: ignore[union-attr]
                        event.target,  # type: ignore[union-attr]
                        event.http_version.decode("ascii"),  # type: ignore[union-attr]
                        headers,
                    )
                    if self._upgrade_request is not None and not self.stopped_reading():
                        self.handoff_upgrade(_after_head(data, event))  # type: ignore[arg-type]
                        return
                    if event.end_stream:  # type: ignore[union-attr]
                        self._message_done()
                elif kind is _Data:
                    self.on_request_body(event.data)  # type: ignore[union-attr]
                elif kind is _EndOfMessage:
                    self._message_done()
                else:  # CONNECTION_CLOSED: nothing more to read as HTTP
                    return
                event = parser.next_event()  # type: ignore[assignment]
            if self._mid_head():
                self._check_partial_head(data)
        except zttp.RemoteProtocolError as exc:
            if self.stopped_reading():
                return
            if _HTTP2_REQUEST_LINE.search(data) is not None:
                self.reject(505, "HTTP Version Not Supported: this server speaks HTTP/1.1.", "HTTP/2 request")
            elif "size limit" in str(exc):
                self.reject(431, "Request header fields too large.", str(exc))
            else:
                self.reject(400, INVALID_REQUEST, str(exc))

    def _check_partial_head(self, data: bytes) -> None:
        """A head still arriving: refuse it now if it is already too long, or can never become valid."""
        if not self._line_done:
            if self.bounds.received > self.limit_request_line:
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
        self.on_request_complete()
        self.parser.start_next_cycle()


def _after_head(data: bytes, request: zttp.Request) -> bytes:
    """The bytes of ``data`` after ``request``'s head (zttp keeps them to itself).

    A WebSocket client may send its first frames right behind the handshake; they
    belong to the WebSocket protocol.
    """
    start = data.find(request.method + b" " + request.target + b" ")
    end = data.find(b"\r\n\r\n", max(start, 0))
    return data[end + 4 :] if end >= 0 else b""
