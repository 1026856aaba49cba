"""``wsgi.input``: the request body, pulled from the server while the application reads it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from uvicorn.middleware._types import Message
from uvicorn.middleware._wsgi_channel import ClientDisconnected

__all__ = ["WSGIInput"]


class WSGIInput:
    """A read-only binary stream over the ASGI ``http.request`` messages of one request.

    Nothing is read ahead: each call asks for body chunks only until it can
    answer, so at most one chunk beyond what the application asked for is
    held, and the server applies backpressure to the client meanwhile.
    A body cut short by a client disconnect raises ClientDisconnected rather
    than looking like a complete, shorter body.
    """

    def __init__(self, receive: Callable[[], Message]) -> None:
        self._receive = receive
        self._buffer = bytearray()
        self._more = True
        self._disconnected = False

    def _pull(self) -> bool:
        """Append the next body chunk to the buffer; False once the body is complete."""
        if self._disconnected:
            raise ClientDisconnected("the client disconnected before sending the whole request body")
        if not self._more:
            return False
        message = self._receive()
        if message["type"] == "http.disconnect":
            self._disconnected = True
            raise ClientDisconnected("the client disconnected before sending the whole request body")
        self._buffer += message.get("body", b"")
        self._more = bool(message.get("more_body", False))
        return True

    def _take(self, size: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]  # cheap: bytearray drops from the front without copying the rest
        return data

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (the rest of the body when ``size`` is negative or None)."""
        if size is None or size < 0:
            while self._pull():
                pass
            return self._take(len(self._buffer))
        while len(self._buffer) < size and self._pull():
            pass
        return self._take(size)

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line, including its ``\\n``, of at most ``size`` bytes when ``size`` >= 0."""
        limit = -1 if size is None else size
        searched = 0
        while True:
            newline = self._buffer.find(b"\n", searched)
            if newline != -1:
                end = newline + 1
                break
            if 0 <= limit <= len(self._buffer):
                end = limit
                break
            searched = len(self._buffer)
            if not self._pull():
                end = len(self._buffer)
                break
        return self._take(end if limit < 0 else min(end, limit))

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Read lines until the body ends or, when ``hint`` > 0, until that many bytes were read."""
        lines: list[bytes] = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def readable(self) -> bool:
        return True
