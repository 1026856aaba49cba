"""Smoke test for uvicorn-protocols installed alone (with its extras' libraries): no other uvicorn at all.

    <venv>/bin/python protocols_alone.py RELEASE_VERSION

``uvicorn`` is then a namespace package without ``__init__.py``. Every module under
``uvicorn.protocols`` must import without loading any other part of ``uvicorn``, and
the protocol classes must serve with what ``uvicorn.protocols.contract`` describes
and nothing more: each HTTP protocol (h11, httptools) answers a request and hands a
WebSocket upgrade to each WebSocket implementation, all built from a plain settings
object and a plain server state, on a server made with ``loop.create_server``. The
client side is the standard library (and hand-made WebSocket frames).

The test suite runs :func:`check_alone` too, with ``uvicorn`` narrowed to this package
(tests/protocols/test_contract.py).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib
import os
import pkgutil
import struct
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

from smoke_support import REQUEST_TIMEOUT, SmokeFailure, check_installed, smoke_main

_WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass
class Settings:
    """Every setting ``ProtocolConfig`` lists, with uvicorn's defaults: what a protocol reads."""

    loaded_app: Any
    ws_protocol_class: Any
    asgi_version: str = "3.0"
    root_path: str = ""
    reset_contextvars: bool = False
    limit_concurrency: int | None = None
    timeout_keep_alive: float = 5.0
    timeout_request_head: float = 10.0
    limit_request_line: int = 8190
    limit_request_fields: int = 100
    limit_request_head_size: int = 128 * 1024
    limit_request_body: int | None = None
    timeout_request_body: float = 60.0
    timeout_response_send: float = 60.0
    limit_keep_alive_requests: int | None = None
    h11_max_incomplete_event_size: int | None = None
    ws_max_size: int = 16 * 1024 * 1024
    ws_max_queue: int = 32
    ws_ping_interval: float | None = 20.0
    ws_ping_timeout: float | None = 20.0
    ws_per_message_deflate: bool = True
    access_log_format: str | None = None
    access_log_timing: str = "head"
    http1_protocol_class: Any = None
    http2_protocol_class: Any = None  # HTTP/2 off
    http2_engine: str = "auto"
    http2_max_concurrent_streams: int = 100
    http2_max_resets: int = 200
    http2_max_control_frames: int = 500
    http2_header_table_size: int = 4096
    ssl_certfile: str | None = None


@dataclass
class State:
    """What ``ProtocolServerState`` lists."""

    total_requests: int = 0
    connections: set[Any] = field(default_factory=set)
    tasks: set[Any] = field(default_factory=set)
    default_headers: list[tuple[bytes, bytes]] = field(default_factory=lambda: [(b"server", b"smoke")])
    observer: Any = None


async def app(scope: Any, receive: Any, send: Any) -> None:
    """HTTP: names what it saw. WebSocket: accepts, echoes one text message in capitals."""
    if scope["type"] == "http":
        body = f"{scope['state']['greeting']} {scope['method']} {scope['path']}".encode()
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": message["text"].upper()})
        await receive()  # the client's close


def import_every_module() -> list[str]:
    """Import each module under ``uvicorn.protocols``; fail if any other part of uvicorn comes along."""
    import uvicorn
    import uvicorn.protocols

    if getattr(uvicorn, "__file__", None) is not None:
        raise SmokeFailure(f"uvicorn is a regular package here ({uvicorn.__file__}), not a namespace")
    names = [info.name for info in pkgutil.walk_packages(uvicorn.protocols.__path__, "uvicorn.protocols.")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecated websockets implementation warns when imported
        for name in names:
            importlib.import_module(name)
    others = sorted(n for n in sys.modules if n.startswith("uvicorn.") and n.split(".")[1] != "protocols")
    if others:
        raise SmokeFailure(f"importing uvicorn.protocols loaded other parts of uvicorn: {others}")
    return names


async def http_request(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    response = await asyncio.wait_for(reader.read(), REQUEST_TIMEOUT)  # until the server closes
    writer.close()
    return response


def masked_frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + mask + masked


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, length = await asyncio.wait_for(reader.readexactly(2), REQUEST_TIMEOUT)
    payload = await asyncio.wait_for(reader.readexactly(length & 0x7F), REQUEST_TIMEOUT)
    return first & 0x0F, payload


async def websocket_echo(port: int) -> tuple[bytes, bytes, int]:
    """The handshake response head, the echo of "hello" and the close code the server replied with."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16))
    writer.write(
        b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT)
    accept = base64.b64encode(hashlib.sha1(key + _WEBSOCKET_GUID).digest())
    fields = [line.partition(b":") for line in head.split(b"\r\n")[1:]]
    if not head.startswith(b"HTTP/1.1 101 ") or (b"sec-websocket-accept", accept) not in [
        (name.lower(), value.strip()) for name, _, value in fields
    ]:
        raise SmokeFailure(f"WebSocket handshake answered {head!r}")
    writer.write(masked_frame(0x1, b"hello"))
    _, echo = await read_frame(reader)
    writer.write(masked_frame(0x8, struct.pack("!H", 1000)))
    opcode, payload = await read_frame(reader)
    code = struct.unpack("!H", payload[:2])[0] if opcode == 0x8 and len(payload) >= 2 else -1
    await asyncio.wait_for(reader.read(), REQUEST_TIMEOUT)  # the server ends the connection
    writer.close()
    return head, echo, code


async def serve_through(http_class: Any, ws_class: Any) -> None:
    settings, state = Settings(loaded_app=app, ws_protocol_class=ws_class), State()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: http_class(config=settings, server_state=state, app_state={"greeting": "hello"}),
        "127.0.0.1",
        0,
    )
    port = server.sockets[0].getsockname()[1]
    what = f"{http_class.__name__} with {ws_class.__name__}"
    try:
        response = await http_request(port)
        if not response.startswith(b"HTTP/1.1 200 OK\r\n") or not response.endswith(b"\r\nhello GET /hello"):
            raise SmokeFailure(f"{what}: GET /hello answered {response!r}")
        if b"\r\nserver: smoke\r\n" not in response or state.total_requests != 1:
            raise SmokeFailure(f"{what}: the server state was not used ({response!r}, {state})")
        head, echo, code = await websocket_echo(port)
        if b"\r\nserver: smoke\r\n" not in head or (echo, code) != (b"HELLO", 1000):
            raise SmokeFailure(f"{what}: WebSocket answer {head!r}, echo {echo!r}, close code {code}")
    finally:
        server.close()
        await server.wait_closed()


def check_alone() -> str:
    """Everything but the check of what is installed; returns what was served."""
    import_every_module()
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    from uvicorn.protocols.websockets.wsproto_impl import WSProtocol

    pairs = [
        (http_class, ws_class)
        for http_class in (H11Protocol, HttpToolsProtocol)
        for ws_class in (WebSocketsSansIOProtocol, WebSocketProtocol, WSProtocol)
    ]

    async def serve_all() -> None:
        for http_class, ws_class in pairs:
            await serve_through(http_class, ws_class)

    asyncio.run(serve_all())
    return ", ".join(f"{h.__name__}+{w.__name__}" for h, w in pairs)


def check(version: str) -> None:
    check_installed({"uvicorn-protocols"}, version)
    served = check_alone()
    print(f"protocols smoke test passed: uvicorn-protocols {version} alone imports and serves ({served})")


if __name__ == "__main__":
    smoke_main(check)
