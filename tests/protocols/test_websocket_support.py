"""Shared pieces of the WebSocket tests: implementations, a byte-level client, small apps.

``RawWebSocket`` speaks RFC 6455 over a real TCP socket with nothing in between,
so tests can send what a well-behaved client never would (unmasked frames,
reserved bits, broken UTF-8, oversized messages) and read the server's exact
answer, including the close frame and the end of the stream after it.

Every read is bounded by ``READ_LIMIT_SECONDS``: a server that never answers
fails the test with a clear message instead of hanging it (no test asserts on
how long anything takes).
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.serving import RunningServer
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.protocols.websockets.wsproto_impl import WSProtocol

with warnings.catch_warnings():
    # Importing the deprecated implementation warns (see test_websocket_selection.py).
    warnings.simplefilter("ignore")
    from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol

READ_LIMIT_SECONDS = 30.0

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

#: The three implementations, by their ``--ws`` names.
IMPLEMENTATIONS: dict[str, type[Any]] = {
    "websockets-sansio": WebSocketsSansIOProtocol,
    "websockets": WebSocketProtocol,
    "wsproto": WSProtocol,
}

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


def instrumented(base: type[Any], events: dict[str, asyncio.Event]) -> type[Any]:
    """``base`` reporting back-pressure and answered keepalive pings through ``events``.

    ``events`` may hold ``"read_paused"``, ``"write_paused"`` and ``"pong"``; each is
    set when that happens (a test clears it to wait for the next occurrence).

    The server still runs the real implementation; this only lets a test await
    the moment back-pressure engages instead of guessing it with a sleep.
    """

    class Instrumented(base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            session = self.session
            pong = session.pong

            def answered(payload: bytes) -> None:
                waiting = session.keepalive.pong_timer is not None
                pong(payload)
                if waiting and session.keepalive.pong_timer is None and "pong" in events:
                    events["pong"].set()  # a keepalive ping was answered

            session.pong = answered  # the codec reports pongs to the session at call time

        def pause_reading(self) -> None:  # the session pauses its carrier's reading
            super().pause_reading()
            if "read_paused" in events:
                events["read_paused"].set()

        def pause_writing(self) -> None:
            super().pause_writing()
            if "write_paused" in events:
                events["write_paused"].set()

    return Instrumented


# ---------------------------------------------------------------- frames


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
    length: int | None = None,
) -> bytes:
    """One frame as a client sends it (masked unless ``mask`` is false); ``length`` may lie."""
    length = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([mask_bit | length])
    elif length < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", length)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", length)
    if not mask:
        return head + payload
    key = os.urandom(4)
    masked = bytes(byte ^ key[index % 4] for index, byte in enumerate(payload))
    return head + key + masked


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


@dataclass
class Frame:
    fin: bool
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        assert self.opcode == OP_CLOSE
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def close_reason(self) -> str:
        return self.payload[2:].decode()


@dataclass
class HandshakeResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name.lower()]
        return ", ".join(values) if values else None


@dataclass
class RawWebSocket:
    """A client connection after (or instead of) the opening handshake."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    response: HandshakeResponse  # a placeholder (status 0) until read_response() when not read at once
    received: list[Frame] = field(default_factory=list)

    async def read_response(self) -> HandshakeResponse:
        self.response = await read_response(self.reader)
        return self.response

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_frame(self) -> Frame:
        """The next frame from the server (which never masks)."""
        head = await self._read(2)
        fin, opcode, length = bool(head[0] & 0x80), head[0] & 0x0F, head[1] & 0x7F
        assert not head[1] & 0x80, "the server masked a frame"
        if length == 126:
            (length,) = struct.unpack("!H", await self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self._read(8))
        return Frame(fin, opcode, await self._read(length) if length else b"")

    async def read_close(self) -> Frame:
        """Read up to the server's close frame, keeping the frames before it in ``received``."""
        while True:
            received = await self.read_frame()
            if received.opcode == OP_CLOSE:
                return received
            self.received.append(received)

    async def at_eof(self) -> bool:
        """True when the server has ended the TCP stream (possibly after more bytes: they are discarded)."""
        try:
            while await asyncio.wait_for(self.reader.read(65536), READ_LIMIT_SECONDS):
                pass
        except ConnectionResetError:
            pass
        return True

    async def _read(self, count: int) -> bytes:
        try:
            return await asyncio.wait_for(self.reader.readexactly(count), READ_LIMIT_SECONDS)
        except asyncio.TimeoutError:
            raise AssertionError(f"the server sent nothing for {READ_LIMIT_SECONDS}s") from None


def handshake_request(path: str = "/", headers: list[tuple[str, str]] | None = None) -> bytes:
    """A valid opening handshake request, or one with ``headers`` instead of the usual ones."""
    if headers is None:
        key = base64.b64encode(os.urandom(16)).decode()
        headers = [
            ("Host", "example.org"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Version", "13"),
        ]
    lines = [f"GET {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_response(reader: asyncio.StreamReader) -> HandshakeResponse:
    """A response head and, for anything but 101, its body (read to the end of the stream)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_LIMIT_SECONDS)
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    headers = [
        (name.strip().lower(), value.strip()) for name, _, value in (line.partition(":") for line in lines)
    ]
    response = HandshakeResponse(int(status_line.split(" ")[1]), headers)
    if response.status != 101:
        response.body = await asyncio.wait_for(reader.read(), READ_LIMIT_SECONDS)
    return response


@asynccontextmanager
async def raw_websocket(
    running: RunningServer,
    request: bytes | None = None,
    *,
    after_request: bytes = b"",
    read_response_now: bool = True,
) -> AsyncIterator[RawWebSocket]:
    """Connect, send ``request`` (a valid handshake by default) plus ``after_request``, read the response."""
    reader, writer = await asyncio.open_connection(running.host, running.port)
    try:
        writer.write((request or handshake_request()) + after_request)
        await writer.drain()
        client = RawWebSocket(reader, writer, HandshakeResponse(0, []))
        if read_response_now:
            await client.read_response()
        yield client
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


# ---------------------------------------------------------------- apps


class Recorder:
    """An app that accepts, echoes every message and records everything it receives."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.scope: dict[str, Any] | None = None
        self.done = asyncio.Event()

    @property
    def disconnect(self) -> dict[str, Any]:
        assert self.messages and self.messages[-1]["type"] == "websocket.disconnect", self.messages
        return self.messages[-1]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = scope
        try:
            while True:
                message = await receive()
                self.messages.append(message)
                if message["type"] == "websocket.connect":
                    await send({"type": "websocket.accept"})
                elif message["type"] == "websocket.receive":
                    await send(
                        {"type": "websocket.send", **{k: v for k, v in message.items() if k != "type"}}
                    )
                else:
                    return
        finally:
            self.done.set()
