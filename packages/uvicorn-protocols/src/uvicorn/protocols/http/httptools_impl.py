"""HTTP/1.1 over httptools (llhttp): an adapter from parser callbacks to the shared connection."""

from __future__ import annotations

import asyncio

import httptools

from uvicorn.protocols.http.connection import HTTPConnection
from uvicorn.protocols.http.cycle import RequestResponseCycle
from uvicorn.protocols.http.request_head import INVALID_REQUEST

__all__ = ["HttpToolsProtocol", "RequestResponseCycle"]

_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n"


class _StopParsing(Exception):
    """Raised from a parser callback once the request has been refused.

    httptools reports it as an ``HttpParserCallbackError`` (with this as its context).
    """


class HttpToolsProtocol(HTTPConnection):
    """HTTP/1.1 with the llhttp parser from httptools."""

    __slots__ = ("_headers", "_in_head", "_url", "parser")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Made with the connection, so the constructor stays the one every protocol shares.
        self.parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._in_head = False
        super().connection_made(transport)

    def _mid_head(self) -> bool:
        return self._in_head

    def _feed(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            rest = data[exc.args[0] :]
            if self._upgrade_head is not None:
                self.handoff_upgrade(rest)
            else:
                # An Upgrade we do not act on (h2c, ...): stay on HTTP/1.1 with a new parser.
                self.parser = httptools.HttpRequestParser(self)
                if rest:
                    self._feed(rest)
        except httptools.HttpParserError as exc:
            if self.stopped_reading():
                return  # a callback refused the request (_StopParsing) and has answered already
            if data.startswith(_HTTP2_PREFACE):
                self.reject(505, "HTTP Version Not Supported: this server speaks HTTP/1.1.", "HTTP/2 preface")
            else:
                self.reject(400, INVALID_REQUEST, str(exc))

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
        headers = self._headers
        # llhttp drops the whitespace before a value but keeps what trails it, which is not part
        # of the value either (RFC 9110 5.5), as h11 reads it. rstrip returns the value itself
        # when there is nothing to strip, so the common case costs no copy.
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

    def on_body(self, body: bytes) -> None:
        self.on_request_body(body)

    def on_message_complete(self) -> None:
        self.on_request_complete()
