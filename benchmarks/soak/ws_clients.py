"""WebSocket clients for the soak: open and idle, echo messages, close properly; on asyncio protocols.

A :class:`WebSocketClient` performs the opening handshake, then on request
sends messages and counts their echoes, and ends with the closing handshake
(its close frame, the server's reply, then the TCP close). Every echo must be
the message sent.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable

from benchmarks.soak.http_clients import HOST, SoakError

__all__ = ["WebSocketClient", "open_websockets"]

_HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: soak\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
_OP_BINARY, _OP_CLOSE, _OP_PING, _OP_PONG = 0x2, 0x8, 0x9, 0xA


def _frame(opcode: int, payload: bytes) -> bytes:
    """One masked client frame (the mask is random; unmasking costs the server the same)."""
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    else:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    mask = os.urandom(4)
    repeated = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(length, "big")
    return head + mask + masked


class WebSocketClient(asyncio.Protocol):
    """One WebSocket connection to the soak server."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self._buffer = b""
        self._open = False
        self._expected: list[bytes] = []  # frames sent whose echo has not come back
        self._echoes_done: asyncio.Future[None] | None = None
        self._on_echo: Callable[[], None] = lambda: None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(_HANDSHAKE % base64.b64encode(os.urandom(16)))  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._open:
            end = self._buffer.find(b"\r\n\r\n")
            if end == -1:
                return
            if not self._buffer.startswith(b"HTTP/1.1 101 "):
                self._fail(SoakError(f"handshake answered {self._buffer[:80]!r}"))
                return
            self._buffer = self._buffer[end + 4 :]
            self._open = True
            self.opened.set_result(None)
        self._read_frames()

    def _read_frames(self) -> None:
        buffer = self._buffer
        while len(buffer) >= 2:
            opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    break
                length, start = struct.unpack("!H", buffer[2:4])[0], 4
            if len(buffer) < start + length:
                break
            payload, buffer = buffer[start : start + length], buffer[start + length :]
            if opcode == _OP_CLOSE:
                assert self.transport is not None
                self.transport.close()
            elif opcode == _OP_PING:  # the server's keepalive
                assert self.transport is not None
                self.transport.write(_frame(_OP_PONG, payload))
            elif not self._expected or payload != self._expected.pop(0):
                self._fail(SoakError("an echo that is not the message sent"))
                return
            else:
                self._on_echo()
                if not self._expected and self._echoes_done is not None and not self._echoes_done.done():
                    self._echoes_done.set_result(None)
        self._buffer = buffer

    async def echo(self, messages: list[bytes], on_echo: Callable[[], None]) -> None:
        """Send ``messages`` one after another, each once the previous one's echo is in."""
        assert self.transport is not None
        self._on_echo = on_echo
        for message in messages:
            self._echoes_done = asyncio.get_running_loop().create_future()
            self._expected.append(message)
            self.transport.write(_frame(_OP_BINARY, message))
            await asyncio.wait({self._echoes_done, self.closed}, return_when=asyncio.FIRST_COMPLETED)
            if self.closed.done():
                self.closed.result()  # raises what went wrong
                raise SoakError("the server closed a WebSocket during its messages")

    async def close(self) -> None:
        """The closing handshake: our close frame, the server's reply, the end of the connection."""
        assert self.transport is not None
        self.transport.write(_frame(_OP_CLOSE, struct.pack("!H", 1000)))
        await self.closed

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(SoakError(f"connection lost during the handshake ({exc})"))
        if not self.closed.done():
            self.closed.set_result(None)

    def _fail(self, error: Exception) -> None:
        for future in (self.opened, self.closed):
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            self.transport.close()


async def open_websockets(port: int, count: int, batch: int = 250) -> list[WebSocketClient]:
    """``count`` open WebSocket connections (in batches: the listen backlog)."""
    loop = asyncio.get_running_loop()
    clients: list[WebSocketClient] = []

    async def one() -> WebSocketClient:
        _, client = await loop.create_connection(WebSocketClient, HOST, port)
        await client.opened
        return client

    while len(clients) < count:
        clients += await asyncio.gather(*(one() for _ in range(min(batch, count - len(clients)))))
    return clients
