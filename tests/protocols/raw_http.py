"""A byte-level HTTP/1.1 client over a real TCP socket, for tests that need exact bytes.

httpx normalises what it sends and forgives what it reads; these tests need to
send malformed or pipelined bytes and to see the server's answer exactly as
written, including whether the connection is closed afterwards.

    async with RawClient.connect(running) as client:
        await client.send(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        response = await client.read_response()
        assert response.status_line == b"HTTP/1.1 200 OK"
        assert await client.closed()

Every read is bounded by ``READ_LIMIT_SECONDS`` so a server that never answers
fails the test with a clear message instead of hanging it (this bounds a hang;
no test asserts on how long anything takes).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from tests.serving import RunningServer

READ_LIMIT_SECONDS = 30.0

#: A minimal valid request, used wherever the request itself does not matter.
SIMPLE_GET = b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"


def request(
    method: str = "GET",
    target: str = "/",
    *,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    version: str = "HTTP/1.1",
) -> bytes:
    """Request bytes: ``Host: example.org`` unless ``headers`` is given, and ``content-length`` for a body."""
    lines = [f"{method} {target} {version}"]
    header_list = [("Host", "example.org")] if headers is None else headers
    if body and not any(name.lower() in ("content-length", "transfer-encoding") for name, _ in header_list):
        header_list = [*header_list, ("Content-Length", str(len(body)))]
    lines += [f"{name}: {value}" for name, value in header_list]
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body


def chunked(*chunks: bytes) -> bytes:
    """A chunked request body made of ``chunks``, with the last-chunk marker."""
    return b"".join(b"%x\r\n%b\r\n" % (len(chunk), chunk) for chunk in chunks if chunk) + b"0\r\n\r\n"


@dataclass
class RawResponse:
    """One response as read off the wire."""

    status_line: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    chunked: bool = False

    @property
    def status(self) -> int:
        return int(self.status_line.split(b" ")[1])

    def header(self, name: bytes) -> bytes | None:
        """The value of the only header called ``name`` (case-insensitive), or None."""
        values = self.header_list(name)
        assert len(values) <= 1, f"{name!r} appears {len(values)} times: {values!r}"
        return values[0] if values else None

    def header_list(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


class RawClient:
    """One TCP connection to a running server, read and written as bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, running: RunningServer) -> AsyncIterator[RawClient]:
        reader, writer = await asyncio.open_connection(running.host, running.port, limit=1 << 20)
        client = cls(reader, writer)
        try:
            yield client
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    @property
    def local_port(self) -> int:
        sock: socket.socket = self.writer.get_extra_info("socket")
        return int(sock.getsockname()[1])

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def abort(self) -> None:
        """Reset the connection (RST): the server learns at once that the client is gone.

        A plain close only sends FIN, which the server cannot tell from a half-close.
        """
        sock: socket.socket = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    async def half_close(self) -> None:
        """Shut down our sending side (FIN) but keep reading."""
        await self.writer.drain()
        self.writer.write_eof()

    async def _bounded(self, awaitable: asyncio.Future[bytes] | asyncio.Task[bytes] | object) -> bytes:
        try:
            return await asyncio.wait_for(awaitable, READ_LIMIT_SECONDS)  # type: ignore[arg-type]
        except asyncio.TimeoutError:
            raise AssertionError(f"the server sent nothing for {READ_LIMIT_SECONDS}s") from None

    async def read_head(self) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        head = await self._bounded(self.reader.readuntil(b"\r\n\r\n"))
        status_line, *lines = head[:-4].split(b"\r\n")
        headers = []
        for line in lines:
            name, _, value = line.partition(b":")
            headers.append((name, value.strip()))
        return status_line, headers

    async def read_response(self, *, head_request: bool = False) -> RawResponse:
        """The next response (a ``100 Continue`` counts as one), with its body de-framed."""
        status_line, headers = await self.read_head()
        response = RawResponse(status_line, headers)
        status = response.status
        if head_request or status < 200 or status in (204, 304):
            return response
        encoding = response.header(b"transfer-encoding")
        length = response.header(b"content-length")
        if encoding is not None:
            assert encoding.lower() == b"chunked", encoding
            response.chunked = True
            response.body = await self._read_chunked()
        elif length is not None:
            response.body = await self._bounded(self.reader.readexactly(int(length)))
        else:
            response.body = await self.read_until_closed()
        return response

    async def _read_chunked(self) -> bytes:
        body: list[bytes] = []
        while True:
            size_line = await self._bounded(self.reader.readuntil(b"\r\n"))
            size = int(size_line.split(b";")[0], 16)
            data = await self._bounded(self.reader.readexactly(size + 2))
            assert data.endswith(b"\r\n"), data[-10:]
            if size == 0:
                return b"".join(body)
            body.append(data[:-2])

    async def read_until_closed(self) -> bytes:
        """Everything the server sends until it closes the connection."""
        data = []
        while chunk := await self._bounded(self.reader.read(65536)):
            data.append(chunk)
        return b"".join(data)

    async def closed(self) -> bool:
        """Wait for the server's next move: True if it closed the connection (no more bytes)."""
        try:
            return await self._bounded(self.reader.read(1)) == b""
        except ConnectionResetError:
            return True
