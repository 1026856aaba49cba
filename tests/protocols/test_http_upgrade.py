"""Detecting upgrade requests: handing WebSocket upgrades over, answering the rest as HTTP."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import websockets

from tests.protocols.apps import Recorder, hello, send_response
from tests.protocols.raw_http import SIMPLE_GET, RawClient, request
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope
from uvicorn.protocols.http.connection import NO_WEBSOCKET_LIBRARY

UNSUPPORTED = "Unsupported upgrade request."


def websocket_upgrade(target: str = "/") -> bytes:
    return request(
        "GET",
        target,
        headers=[
            ("Host", "example.org"),
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
    )


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


# ---------------------------------------------------------------- no WebSocket protocol


async def test_websocket_upgrade_without_a_ws_protocol_is_plain_http(
    http: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = Recorder()
    async with (
        serve(app, http=http, ws="none", lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(websocket_upgrade("/chat") + SIMPLE_GET)
        response = await client.read_response()
        assert (response.status, response.body) == (200, b"/chat")
        assert (await client.read_response()).status == 200  # still HTTP/1.1 afterwards
    assert app.scopes[0]["type"] == "http"
    assert (b"upgrade", b"websocket") in app.scopes[0]["headers"]
    assert UNSUPPORTED in warnings(caplog)
    assert NO_WEBSOCKET_LIBRARY in warnings(caplog)


async def test_other_upgrades_are_plain_http(http: str, caplog: pytest.LogCaptureFixture) -> None:
    app = Recorder()
    upgrade = request(
        "GET", "/", headers=[("Host", "x"), ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c")]
    )
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(upgrade + request("GET", "/after"))
        assert (await client.read_response()).status == 200
        assert (await client.read_response()).body == b"/after"
    assert UNSUPPORTED in warnings(caplog)
    assert NO_WEBSOCKET_LIBRARY not in warnings(caplog)  # a WebSocket library is installed


async def test_upgrade_header_without_connection_upgrade_is_ignored(
    http: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = Recorder()
    data = request(headers=[("Host", "x"), ("Upgrade", "websocket")])
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(data)
        assert (await client.read_response()).status == 200
    assert warnings(caplog) == []


async def test_unsupported_upgrade_with_a_body(http: str) -> None:
    app = Recorder()
    head = request(
        "POST",
        "/",
        headers=[("Host", "x"), ("Connection", "upgrade"), ("Upgrade", "h2c"), ("Content-Length", "4")],
    )
    async with (
        serve(app, http=http, ws="none", lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(head + b"body")
        assert (await client.read_response()).status == 200
    assert app.scope["method"] == "POST"


# ---------------------------------------------------------------- handing over


class HandedOver(asyncio.Protocol):
    """A stand-in WebSocket protocol: records the bytes it is given and answers 101."""

    instances: list[HandedOver] = []

    def __init__(self, config: Any, server_state: Any, app_state: Any, _loop: Any = None) -> None:
        self.received = b""
        self.got_head = asyncio.Event()
        self.transport: asyncio.Transport | None = None
        HandedOver.instances.append(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        first = b"\r\n\r\n" not in self.received
        self.received += data
        if first and b"\r\n\r\n" in self.received:
            assert self.transport is not None
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            )
            self.got_head.set()


@pytest.fixture
def handed_over() -> list[HandedOver]:
    HandedOver.instances = []
    return HandedOver.instances


async def test_websocket_upgrade_is_handed_to_the_ws_protocol(
    http: str, handed_over: list[HandedOver]
) -> None:
    app = Recorder()
    async with (
        serve(app, http=http, ws=HandedOver, lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(websocket_upgrade("/chat?room=1") + b"\x81\x00frame bytes")
        status_line, _ = await client.read_head()
        assert status_line == b"HTTP/1.1 101 Switching Protocols"
        (protocol,) = handed_over
        head, _, rest = protocol.received.partition(b"\r\n\r\n")
        request_line, *header_lines = head.split(b"\r\n")
        assert request_line == b"GET /chat?room=1 HTTP/1.1"
        assert [line.lower() for line in header_lines] == [
            b"host: example.org",
            b"connection: upgrade",
            b"upgrade: websocket",
            b"sec-websocket-version: 13",
            b"sec-websocket-key: dghlihnhbxbszsbub25jzq==",
        ]
        assert rest == b"\x81\x00frame bytes"  # what followed the head, unchanged
    assert app.scopes == []  # the HTTP app never saw it


async def test_upgrade_after_pipelined_requests_waits_for_their_responses(
    http: str, handed_over: list[HandedOver]
) -> None:
    release = asyncio.Event()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await release.wait()
        await send_response(send, 200, scope["path"].encode())

    async with (
        serve(app, http=http, ws=HandedOver, lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("GET", "/first") + websocket_upgrade("/ws") + b"after")
        release.set()
        assert (await client.read_response()).body == b"/first"
        status_line, _ = await client.read_head()
        assert status_line == b"HTTP/1.1 101 Switching Protocols"
        (protocol,) = handed_over
        assert protocol.received.startswith(b"GET /ws HTTP/1.1\r\n")
        assert protocol.received.endswith(b"\r\n\r\nafter")


async def test_handed_over_connection_leaves_the_http_bookkeeping(
    http: str, handed_over: list[HandedOver]
) -> None:
    async with (
        serve(
            hello, http=http, ws=HandedOver, lifespan="off", timeout_keep_alive=0.1, timeout_request_head=0.1
        ) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(websocket_upgrade())
        await client.read_head()
        (protocol,) = handed_over
        # The HTTP timers are gone: a connection opened after it is closed by them, this one is not.
        async with RawClient.connect(running) as other:
            assert await other.closed()
        assert protocol.transport is not None and not protocol.transport.is_closing()
        # ...and the HTTP protocol no longer counts it among the server's connections.
        connections = running.server.server_state.connections
        transports = [getattr(connection, "transport", None) for connection in connections]
        assert protocol.transport not in transports
        protocol.transport.close()


# ---------------------------------------------------------------- a real WebSocket library


@pytest.mark.parametrize("ws", ["websockets-sansio", "wsproto"])
async def test_real_websocket_session_through_each_parser(http: str, ws: str) -> None:
    async def echo(scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] == "http":
            await send_response(send, 200, b"plain")
            return
        assert scope["type"] == "websocket"
        assert scope["path"] == "/echo"
        await receive()
        await send({"type": "websocket.accept"})
        message: dict[str, Any] = dict(await receive())
        await send({"type": "websocket.send", "text": "echo: " + message["text"]})
        await receive()

    async with (
        serve(echo, http=http, ws=ws, lifespan="off") as running,
        websockets.connect(running.ws_url + "/echo") as connection,
    ):
        await connection.send("hi")
        assert await connection.recv() == "echo: hi"
