"""WebSockets over HTTP/2 (RFC 8441): an extended CONNECT stream served by the same WebSocket session."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.protocols.h2_client import H2Client
from tests.protocols.test_websocket_support import OP_CLOSE, OP_TEXT, close_payload, frame
from tests.serving import serve


@pytest.fixture(params=["zttp", "h2"])
def engine(request: pytest.FixtureRequest) -> str:
    pytest.importorskip(str(request.param))
    return str(request.param)


@pytest.fixture(params=["websockets-sansio", "wsproto", "websockets"])
def ws(request: pytest.FixtureRequest) -> str:
    return str(request.param)


WEBSOCKET_CONNECT = [(":protocol", "websocket"), ("sec-websocket-version", "13")]


async def test_echo_over_an_extended_connect_stream(engine: str, ws: str) -> None:
    seen: dict[str, Any] = {}
    finished = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["scope"] = scope
        await receive()
        await send({"type": "websocket.accept", "subprotocol": "chat"})
        message = await receive()
        await send({"type": "websocket.send", "text": "echo " + message["text"]})
        seen["disconnect"] = await receive()
        finished.set()

    options = {"http2": True, "http2_engine": engine, "ws": ws, "lifespan": "off"}
    async with serve(app, **options) as running, H2Client.connect(running) as client:
        assert (await client.settings()).get(8) == 1  # SETTINGS_ENABLE_CONNECT_PROTOCOL
        headers = [*WEBSOCKET_CONNECT, ("sec-websocket-protocol", "chat, other")]
        stream_id = await client.send("CONNECT", "/chat?room=1", headers=headers, end=False)
        response = client.responses[stream_id]
        while not response.status:
            assert await client.read_events(), "the server closed"
        assert response.status == 200
        assert response.header(b"sec-websocket-protocol") == b"chat"
        assert response.header(b"sec-websocket-accept") is None
        await client.send_body(stream_id, frame(OP_TEXT, b"hi"), end=False)
        while len(response.body) < 9:
            assert await client.read_events(), "the server closed"
        assert response.body[:9] == bytes([0x81, 7]) + b"echo hi"
        await client.send_body(stream_id, frame(OP_CLOSE, close_payload(1000, b"bye")), end=False)
        ended = await client.response(stream_id)  # the server echoes the close, then ends the stream
        await asyncio.wait_for(finished.wait(), 10)
    assert ended.ended
    assert ended.body.endswith(bytes([0x88, 5]) + close_payload(1000, b"bye"))
    scope = seen["scope"]
    assert (scope["type"], scope["http_version"], scope["scheme"], scope["path"]) == (
        "websocket",
        "2",
        "ws",
        "/chat",
    )
    assert scope["query_string"] == b"room=1"
    assert scope["subprotocols"] == ["chat", "other"]
    assert seen["disconnect"]["code"] == 1000


async def test_a_denied_websocket_is_an_http_response_on_the_stream(engine: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.close"})  # refuse: 403

    options = {"http2": True, "http2_engine": engine, "lifespan": "off"}
    async with serve(app, **options) as running, H2Client.connect(running) as client:
        stream_id = await client.send("CONNECT", "/", headers=WEBSOCKET_CONNECT, end=False)
        denied = await client.response(stream_id)
        after = await client.get("/")  # the connection goes on
    assert denied.status == 403
    assert denied.ended
    assert after.status in (200, 500)


async def test_client_reset_disconnects_the_websocket(engine: str) -> None:
    disconnected = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        assert message["type"] == "websocket.disconnect"
        disconnected.set()

    options = {"http2": True, "http2_engine": engine, "lifespan": "off"}
    async with serve(app, **options) as running, H2Client.connect(running) as client:
        stream_id = await client.send("CONNECT", "/", headers=WEBSOCKET_CONNECT, end=False)
        while not client.responses[stream_id].status:
            assert await client.read_events(), "the server closed"
        client.conn.reset_stream(stream_id)
        await client.flush()
        await asyncio.wait_for(disconnected.wait(), 10)


async def test_extended_connect_is_not_offered_without_a_websocket_library(engine: str) -> None:
    options = {"http2": True, "http2_engine": engine, "ws": "none", "lifespan": "off"}
    async with (
        serve(lambda scope, receive, send: None, **options) as running,
        H2Client.connect(running) as client,
    ):
        assert (await client.settings()).get(8, 0) == 0
