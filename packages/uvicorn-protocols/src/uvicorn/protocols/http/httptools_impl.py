"""HTTP/1.1 over httptools (llhttp): an adapter from parser callbacks to the shared connection."""

from __future__ import annotations

import asyncio

import httptools

from uvicorn.protocols.http.connection import HTTPConnection
from uvicorn.protocols.http.cycle import RequestResponseCycle
from uvicorn.protocols.http.request_head import INVALID_REQUEST

__all__ = ["HttpToolsProtocol", "RequestResponseCycle"]

_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n"


def _ends_with_line(data: bytes, line: bytes) -> bool:
    """True if ``data`` ends with ``line`` as a whole line (CR LF or a bare LF after it)."""
    for end in (b"\r\n", b"\n"):
        if data.endswith(line + end):
            before = len(data) - len(line) - len(end)
            return before == 0 or data[before - 1] == 0x0A
    return False


class _StopParsing(Exception):
    """Raised from a parser callback once the request has been refused.

    httptools reports it as an ``HttpParserCallbackError`` (with this as its context).
    """


class HttpToolsProtocol(HTTPConnection):
    """HTTP/1.1 with the llhttp parser from httptools."""

    __slots__ = ("_headers", "_in_head", "_line_tail", "_unparsed_body", "_url", "parser")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Made with the connection, so the constructor stays the one every protocol shares.
        self.parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._in_head = False
        self._line_tail = b""  # the last bytes of a head still arriving (_check_partial_head)
        # Body bytes of an upgrade request that stays on HTTP/1.1: llhttp stops at the
        # head of any upgrade request, so they are passed on here, unparsed.
        self._unparsed_body = 0
        super().connection_made(transport)
        self.bounds.head_span = 0

    def _mid_head(self) -> bool:
        return self._in_head

    def _feed(self, data: bytes) -> None:
        # Every head completed in this read began in it, or in the reads since the head
        # in progress began (the parser takes each read whole): a bound on its size.
        bounds = self.bounds
        bounds.head_span = bounds.head_span + len(data) if self._in_head else len(data)
        if self._unparsed_body:
            data = self._pass_body(data)
            if not data:
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            rest = data[exc.args[0] :]
            if self._upgrade_request is not None:
                self.handoff_upgrade(rest)
            else:
                # An Upgrade we do not act on (h2c, ...): stay on HTTP/1.1 with a new parser.
                self.parser = httptools.HttpRequestParser(self)
                if rest:
                    self._feed(rest)
                elif self._unparsed_body and self.stopped_reading():
                    self._unparsed_body = 0
        except httptools.HttpParserError as exc:
            if self.stopped_reading():
                return  # a callback refused the request (_StopParsing) and has answered already
            if data.startswith(_HTTP2_PREFACE):
                self.reject(505, "HTTP Version Not Supported: this server speaks HTTP/1.1.", "HTTP/2 preface")
            else:
                self.reject(400, INVALID_REQUEST, str(exc))
        else:
            if self._in_head and self._url:
                self._check_partial_head(data)

    def _check_partial_head(self, data: bytes) -> None:
        """A head still arriving, its target read: refuse an HTTP/0.9 request line now.

        llhttp takes a line without a version for HTTP/0.9 and waits for headers that
        such a client never sends. It says "0.9" once a byte follows the line; until
        then its version is the previous request's (or "0.0"). So the bytes read so
        far are also looked at: ending with the line as method and target alone, they
        are an HTTP/0.9 request. The last few are kept, as the line may end in a read
        of its own.
        """
        line = self.parser.get_method() + b" " + self._url
        keep = len(line) + 3  # a line feed before the line, the line, CR LF after it
        recent = self._line_tail + data if len(data) < keep else data
        self._line_tail = recent[-keep:]
        if self.parser.get_http_version() == "0.9" or _ends_with_line(recent, line):
            self.reject(400, INVALID_REQUEST, "HTTP/0.9 request line (no HTTP version)")

    def _pass_body(self, data: bytes) -> bytes:
        """Give the app the next bytes of an upgrade request's body; what follows it."""
        size = min(len(data), self._unparsed_body)
        self._unparsed_body -= size
        self.on_request_body(data[:size])
        if not self._unparsed_body:
            self.on_request_complete()
        return data[size:]

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.parser = None  # type: ignore[assignment]  # breaks the parser <-> protocol cycle

    # ------------------------------------------------------------ httptools callbacks

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._in_head = True

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > self.limit_request_line:
            self.reject(414, "Request-URI Too Long.", "request line over limit_request_line")
            raise _StopParsing

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._in_head:
            # A trailer field of a chunked body: the list is the app's scope["headers"] by now,
            # and RFC 9110 6.5.1 forbids merging trailers into the header section. Dropped, as h11 does.
            return
        headers = self._headers
        # llhttp drops the whitespace before a value but keeps what follows it; RFC 9110 5.5:
        # it is not part of the value (h11 removes both). rstrip returns the same object if clean.
        headers.append((name.lower(), value.rstrip(b" \t")))
        if len(headers) > self.limit_request_fields:
            self.reject(
                431, "Request header fields too large.", "more than limit_request_fields header fields"
            )
            raise _StopParsing

    def on_headers_complete(self) -> None:
        self._in_head = False
        parser = self.parser
        self.on_request_head(
            parser.get_method().decode("ascii"), self._url, parser.get_http_version(), self._headers
        )
        if self.stopped_reading():
            raise _StopParsing
        if parser.should_upgrade() and self._upgrade_request is None:
            self._unparsed_body = _content_length(self._headers)

    def on_body(self, body: bytes) -> None:
        self.on_request_body(body)

    def on_message_complete(self) -> None:
        if not self._unparsed_body:
            self.on_request_complete()


def _content_length(headers: list[tuple[bytes, bytes]]) -> int:
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.strip().isdigit() else 0
    return 0
