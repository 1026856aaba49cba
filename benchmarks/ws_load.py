"""WebSocket load client: N connections doing echo round trips for a fixed time.

``python -m benchmarks.ws_load --port P --connections 64 --size 64 --duration 8``
prints one JSON object: messages echoed within the window, seconds measured,
errors seen, and ``all_messages``: every echo, the first ones and those in
flight when the window closed included (what the server's CPU time is divided by).

Each connection performs the RFC 6455 handshake, then sends one binary
message, waits for the whole echo, and sends the next: one message in flight
per connection, so messages/s counts round trips. The first echo on each
connection is compared byte for byte with what was sent; later ones by length.
Written on asyncio protocols (with uvloop when available) so the client costs
far less per message than the server it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import struct
import sys
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, cast

_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_OP_CONTINUATION, _OP_TEXT, _OP_BINARY, _OP_CLOSE, _OP_PING, _OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_NORMAL_CLOSURE = struct.pack("!H", 1000)


def masked_frame(opcode: int, payload: bytes, mask: bytes) -> bytes:
    """One final client frame (clients must mask, RFC 6455 §5.3)."""
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    repeated = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(length, "big")
    return head + mask + masked


@dataclass
class Tally:
    """Shared by all connections: whether the measuring window is open, and what happened."""

    running: bool = False
    messages: int = 0
    all_messages: int = 0
    errors: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        if len(self.errors) < 10:
            self.errors.append(text)


class EchoClient(asyncio.Protocol):
    """One WebSocket connection sending a message as soon as its previous echo is complete."""

    def __init__(self, port: int, payload: bytes, tally: Tally) -> None:
        loop = asyncio.get_running_loop()
        self.handshake_done: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._port = port
        self._payload = payload
        self._tally = tally
        self._key = base64.b64encode(os.urandom(16))
        # RFC 6455 wants a fresh mask per frame against cache poisoning by
        # intermediaries; on loopback there are none, and re-masking 64 KiB in
        # Python per message would make this client the bottleneck.
        self._mask = os.urandom(4)
        self._frame = masked_frame(_OP_BINARY, payload, self._mask)
        self._transport: asyncio.Transport | None = None
        self._handshake_buffer = b""
        self._header = bytearray()
        self._in_payload = False
        self._remaining = 0
        self._opcode = 0
        self._fin = True
        self._kept = bytearray()  # the first echo, compared in full
        self._control = bytearray()  # payload of a control frame (ping, close)
        self._message_length = 0
        self._verified = False
        self._close_sent = False

    # ---------------------------------------------------------------- asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport but offer its methods.
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (self._port, self._key)
        )

    def data_received(self, data: bytes) -> None:
        if not self.handshake_done.done():
            self._handshake_buffer += data
            head, separator, rest = self._handshake_buffer.partition(b"\r\n\r\n")
            if not separator:
                return
            self._check_handshake(head)
            if self.handshake_done.exception() is not None:
                return
            data = rest
        if data:
            self._feed(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake_done.done():
            self.handshake_done.set_exception(ConnectionError("connection closed during the handshake"))
        elif self._tally.running and not self._close_sent:
            self._tally.error(f"connection lost while measuring: {exc or 'closed by server'}")
        if not self.closed.done():
            self.closed.set_result(None)

    # ---------------------------------------------------------------- protocol

    def _check_handshake(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(":", 1) for line in lines[1:] if ":" in line)
        expected = base64.b64encode(hashlib.sha1(self._key + _ACCEPT_GUID).digest()).decode().lower()
        if not lines[0].startswith("HTTP/1.1 101"):
            self.handshake_done.set_exception(ConnectionError(f"handshake refused: {lines[0]!r}"))
        elif headers.get("sec-websocket-accept", "").strip() != expected:
            self.handshake_done.set_exception(ConnectionError("wrong Sec-WebSocket-Accept"))
        else:
            self.handshake_done.set_result(None)
            return
        assert self._transport is not None
        self._transport.close()

    def send_next(self) -> None:
        assert self._transport is not None
        self._transport.write(self._frame)

    def send_close(self) -> None:
        assert self._transport is not None
        if not self._close_sent and not self._transport.is_closing():
            self._close_sent = True
            self._transport.write(masked_frame(_OP_CLOSE, _NORMAL_CLOSURE, self._mask))

    def _feed(self, data: bytes) -> None:
        view = memoryview(data)
        position, end = 0, len(data)
        while position < end:
            if not self._in_payload:
                position = self._read_header(view, position, end)
                continue
            taken = min(self._remaining, end - position)
            if self._opcode >= _OP_CLOSE:
                self._control += view[position : position + taken]
            else:
                self._message_length += taken
                if not self._verified:
                    self._kept += view[position : position + taken]
            self._remaining -= taken
            position += taken
            if self._remaining == 0:
                self._frame_complete()

    def _header_size(self) -> int:
        if len(self._header) < 2:
            return 2
        code = self._header[1] & 0x7F
        return 2 + {126: 2, 127: 8}.get(code, 0) + (4 if self._header[1] & 0x80 else 0)

    def _read_header(self, view: memoryview, position: int, end: int) -> int:
        """Collect header bytes; once complete, enter the payload. Returns the new position."""
        take = min(self._header_size() - len(self._header), end - position)
        self._header += view[position : position + take]
        position += take
        if len(self._header) < self._header_size():
            return position  # the rest of the header is in a later segment
        if self._header[1] & 0x80:
            self._tally.error("server sent a masked frame")
        first, code = self._header[0], self._header[1] & 0x7F
        length = code
        if code == 126:
            length = struct.unpack_from("!H", self._header, 2)[0]
        elif code == 127:
            length = struct.unpack_from("!Q", self._header, 2)[0]
        self._fin, self._opcode = bool(first & 0x80), first & 0x0F
        self._header.clear()
        self._remaining = length
        self._in_payload = True
        if length == 0:
            self._frame_complete()
        return position

    def _frame_complete(self) -> None:
        self._in_payload = False
        opcode = self._opcode
        if opcode >= _OP_CLOSE:
            payload = bytes(self._control)
            self._control.clear()
            self._control_frame(opcode, payload)
            return
        if opcode not in (_OP_CONTINUATION, _OP_TEXT, _OP_BINARY):
            self._tally.error(f"unexpected opcode {opcode}")
        if self._fin:
            self._message_complete()

    def _control_frame(self, opcode: int, payload: bytes) -> None:
        assert self._transport is not None
        if opcode == _OP_PING:
            self._transport.write(masked_frame(_OP_PONG, payload, self._mask))
        elif opcode == _OP_CLOSE:
            self.send_close()
            self._transport.close()

    def _message_complete(self) -> None:
        if self._message_length != len(self._payload):
            self._tally.error(f"echo of {self._message_length} bytes for a {len(self._payload)}-byte message")
        if not self._verified:
            if bytes(self._kept) != self._payload:
                self._tally.error(f"first echo differs from the message sent ({len(self._kept)} bytes)")
            self._kept.clear()
            self._verified = True
        self._message_length = 0
        self._tally.all_messages += 1
        if self._tally.running:
            self._tally.messages += 1
            self.send_next()


async def measure(port: int, connections: int, size: int, duration: float) -> dict[str, Any]:
    """Open ``connections`` WebSockets, echo ``size``-byte messages for ``duration`` s, report."""
    loop = asyncio.get_running_loop()
    tally = Tally()
    payload = os.urandom(size)
    clients: list[EchoClient] = []
    for _ in range(connections):
        _, client = await loop.create_connection(lambda: EchoClient(port, payload, tally), "127.0.0.1", port)
        clients.append(client)
    try:
        await asyncio.wait_for(asyncio.gather(*(client.handshake_done for client in clients)), 30)
    except asyncio.TimeoutError:  # not the builtin TimeoutError before Python 3.11
        raise TimeoutError("no WebSocket handshake answer within 30s") from None
    tally.running = True
    started = loop.time()
    for client in clients:
        client.send_next()
    await asyncio.sleep(duration)  # the measuring window itself, not a synchronisation
    tally.running = False
    elapsed, messages = loop.time() - started, tally.messages
    for client in clients:
        client.send_close()
    await asyncio.wait([client.closed for client in clients], timeout=10)
    return {
        "messages": messages,
        "all_messages": tally.all_messages,
        "seconds": elapsed,
        "errors": tally.errors,
    }


def _run(coroutine: Coroutine[Any, Any, dict[str, Any]]) -> tuple[dict[str, Any], str]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine), "asyncio"
    return uvloop.run(coroutine), "uvloop"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="WebSocket echo load client")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--size", type=int, default=64, help="message size in bytes")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of measurement")
    args = parser.parse_args(argv)
    try:
        report, loop_name = _run(measure(args.port, args.connections, args.size, args.duration))
    except (OSError, asyncio.TimeoutError) as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    report["loop"] = loop_name
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
