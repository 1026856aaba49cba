"""The worker-thread half of the WSGI bridge: call the application and stream its response."""

from __future__ import annotations

import re
from typing import Any

from uvicorn.middleware._types import Environ, ExcInfo, Headers, WSGIApp
from uvicorn.middleware._wsgi_channel import WorkerChannel

__all__ = ["WSGIProtocolError", "WorkerExchange"]

_STATUS = re.compile(r"([1-9][0-9]{2})(?: .*)?", re.DOTALL)


class WSGIProtocolError(RuntimeError):
    """The WSGI application broke a rule of PEP 3333; the message says which and how to fix it."""


def _parse_status(status: object) -> int:
    match = _STATUS.fullmatch(status) if isinstance(status, str) else None
    if match is None:
        raise WSGIProtocolError(
            f"start_response() got the status {status!r}; pass a str such as '200 OK' "
            "(a three-digit code, a space and a reason phrase)"
        )
    return int(match.group(1))


def _encode_headers(headers: object) -> Headers:
    encoded: Headers = []
    try:
        for name, value in headers:  # type: ignore[attr-defined]
            if not isinstance(name, str) or not isinstance(value, str) or "\n" in value or "\r" in value:
                raise ValueError
            encoded.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    except (TypeError, ValueError):
        raise WSGIProtocolError(
            f"start_response() got the headers {headers!r}; pass a list of (name, value) tuples "
            "of latin-1 str, without line breaks"
        ) from None
    return encoded


def _as_bytes(chunk: object) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, bytearray | memoryview):
        return bytes(chunk)
    hint = " (encode text, e.g. chunk.encode('utf-8'))" if isinstance(chunk, str) else ""
    raise WSGIProtocolError(
        f"the WSGI application produced a {type(chunk).__name__} body chunk; "
        f"response bodies must be bytes{hint}"
    )


class WorkerExchange:
    """One request's WSGI call, run in a worker thread.

    Implements ``start_response`` and ``write`` and walks the returned
    iterable. As PEP 3333 asks, the status and headers go out only with the
    first non-empty body chunk (or at the end), so an error before then can
    still replace them via ``exc_info``.
    """

    def __init__(self, app: WSGIApp, channel: WorkerChannel) -> None:
        self.app = app
        self.channel = channel
        self.status: int | None = None
        self.headers: Headers = []
        self.headers_sent = False

    def start_response(self, status: str, response_headers: Any, exc_info: ExcInfo | None = None) -> Any:
        if exc_info is not None:
            try:
                if self.headers_sent:
                    # Too late to replace the response: abort it with the app's error.
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # break the frame <-> traceback cycle
        elif self.status is not None:
            raise WSGIProtocolError(
                "start_response() was called a second time without exc_info; to replace the status "
                "after an error, pass exc_info=sys.exc_info()"
            )
        self.status = _parse_status(status)
        self.headers = _encode_headers(response_headers)
        return self.write

    def write(self, data: bytes) -> None:
        """The legacy ``write()`` callable returned by ``start_response``."""
        chunk = _as_bytes(data)
        self._send_headers()
        if chunk:
            self.channel.send({"type": "http.response.body", "body": chunk, "more_body": True})

    def run(self, environ: Environ) -> None:
        """Call the application and send its whole response; raises what the application raised."""
        result: Any = self.app(environ, self.start_response)
        try:
            self._send_body(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _send_body(self, result: object) -> None:
        if isinstance(result, bytes | bytearray | str):
            raise WSGIProtocolError(
                f"the WSGI application returned a {type(result).__name__} instead of an iterable of "
                "bytes; return a list such as [body]"
            )
        if isinstance(result, list | tuple):
            # The common `return [body]`: everything is known, so the last chunk
            # ends the response in the same message.
            chunks = [_as_bytes(chunk) for chunk in result]
            self._send_headers()
            for chunk in chunks[:-1]:
                if chunk:
                    self.channel.send({"type": "http.response.body", "body": chunk, "more_body": True})
            last = chunks[-1] if chunks else b""
            self.channel.send({"type": "http.response.body", "body": last, "more_body": False})
            return
        try:
            chunks_iterator = iter(result)  # type: ignore[call-overload]
        except TypeError:
            raise WSGIProtocolError(
                f"the WSGI application returned {type(result).__name__!r}, which is not iterable; "
                "return an iterable of bytes such as [body]"
            ) from None
        for chunk in chunks_iterator:
            data = _as_bytes(chunk)
            if data:
                self._send_headers()
                self.channel.send({"type": "http.response.body", "body": data, "more_body": True})
        self._send_headers()
        self.channel.send({"type": "http.response.body", "body": b"", "more_body": False})

    def _send_headers(self) -> None:
        if self.headers_sent:
            return
        if self.status is None:
            raise WSGIProtocolError(
                "the WSGI application did not call start_response() before its response body; "
                "call start_response(status, headers) before returning or yielding any bytes"
            )
        self.headers_sent = True
        self.channel.send({"type": "http.response.start", "status": self.status, "headers": self.headers})
