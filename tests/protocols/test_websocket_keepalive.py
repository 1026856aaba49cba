"""Pings both ways, the keepalive timeout, and graceful server shutdown with an open WebSocket."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.protocols.test_websocket_support import (
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    Recorder,
    frame,
    instrumented,
    raw_websocket,
)
from tests.serving import serve

FAST_KEEPALIVE = {"ws_ping_interval": 0.05, "ws_ping_timeout": 0.5}


async def test_a_client_ping_gets_a_pong_with_its_payload(ws: type[Any], http: str) -> None:
    async with (
        serve(Recorder(), ws=ws, http=http, lifespan="off", ws_ping_interval=None) as running,
        raw_websocket(running) as client,
    ):
        await client.send(frame(OP_PING, b"are you there"))
        pong = await client.read_frame()
    assert (pong.opcode, pong.payload) == (OP_PONG, b"are you there")


async def test_keepalive_pings_answered_keep_the_connection(ws: type[Any], http: str) -> None:
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off", **FAST_KEEPALIVE) as running,
        raw_websocket(running) as client,
    ):
        payloads = []
        for _ in range(3):  # each ping after the first proves the connection outlived a pong wait
            ping = await client.read_frame()
            assert ping.opcode == OP_PING
            payloads.append(ping.payload)
            await client.send(frame(OP_PONG, ping.payload))
        assert len(set(payloads)) == 3  # a fresh payload per ping
    assert app.disconnect["code"] == 1006  # the client just went away at the end


async def test_keepalive_timeout_closes_with_1011(ws: type[Any], http: str) -> None:
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off", ws_ping_interval=0.05, ws_ping_timeout=0.05) as running,
        raw_websocket(running) as client,
    ):
        close = await client.read_close()  # pings arrive; this client never answers them
        assert await client.at_eof()
        await asyncio.wait_for(app.done.wait(), 30)
    assert all(received.opcode == OP_PING for received in client.received)
    assert (close.close_code, close.close_reason) == (1011, "keepalive ping timeout")
    assert app.disconnect == {
        "type": "websocket.disconnect",
        "code": 1011,
        "reason": "keepalive ping timeout",
    }


async def test_the_websockets_client_answers_keepalive_pings(ws: type[Any], http: str) -> None:
    events = {"pong": asyncio.Event()}
    async with (
        serve(
            Recorder(), ws=instrumented(ws, events), http=http, lifespan="off", **FAST_KEEPALIVE
        ) as running,
        connect(running.ws_url, ping_interval=None) as client,
    ):
        for index in range(3):  # three pings answered, and the connection still carries messages
            await asyncio.wait_for(events["pong"].wait(), 30)
            events["pong"].clear()
            await client.send(str(index))
            assert await client.recv() == str(index)
        protocol: Any = next(iter(running.server.server_state.connections))
        assert protocol.ping_sent_at > 0


async def test_keepalive_disabled_sends_no_ping(ws: type[Any], http: str) -> None:
    async with (
        serve(Recorder(), ws=ws, http=http, lifespan="off", ws_ping_interval=None) as running,
        connect(running.ws_url) as client,
    ):
        protocol: Any = next(iter(running.server.server_state.connections))
        await client.send("x")
        await client.recv()
        assert protocol.ping_timer is None
        assert protocol.ping_sent_at == 0.0


async def test_shutdown_closes_open_websockets_with_1012_and_waits_for_the_app(
    ws: type[Any], http: str
) -> None:
    client_saw_close = asyncio.Event()
    app_finished: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        disconnect = await receive()
        await client_saw_close.wait()  # the server must wait for this, not cut the app short
        app_finished.append(disconnect)

    async with serve(app, ws=ws, http=http, lifespan="off") as running:
        client = await connect(running.ws_url)
        running.server.should_exit = True
        try:
            await client.recv()
        except ConnectionClosed:
            client_saw_close.set()
    assert client.close_code == 1012
    assert app_finished == [{"type": "websocket.disconnect", "code": 1012}]


async def test_a_bounded_drain_keeps_websockets_open_then_closes_them_with_1001(
    ws: type[Any], http: str
) -> None:
    """With timeout_graceful_shutdown a WebSocket lives on through the drain, then is told 1001."""
    app = Recorder()
    async with serve(app, ws=ws, http=http, lifespan="off", timeout_graceful_shutdown=2) as running:
        client = await connect(running.ws_url)
        running.server.should_exit = True
        await running.server._drain_started.wait()
        await client.send("still here")  # the drain began: the WebSocket still works
        assert await client.recv() == "still here"
        with pytest.raises(ConnectionClosed):
            await client.recv()
        await asyncio.wait_for(app.done.wait(), 30)
    assert client.close_code == 1001
    assert app.disconnect["code"] == 1001


async def test_shutdown_during_the_handshake_answers_500(ws: type[Any], http: str) -> None:
    in_handshake = asyncio.Event()
    later: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        in_handshake.set()
        later.append(await receive())

    async with (
        serve(app, ws=ws, http=http, lifespan="off") as running,
        raw_websocket(running, read_response_now=False) as client,
    ):
        await asyncio.wait_for(in_handshake.wait(), 30)
        running.server.should_exit = True
        response = await client.read_response()
    assert response.status == 500
    assert later == [{"type": "websocket.disconnect", "code": 1006}]


async def test_shutdown_while_our_close_waits_for_its_reply(ws: type[Any], http: str) -> None:
    closed = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})
        closed.set()

    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running) as client:
        await asyncio.wait_for(closed.wait(), 30)
        running.server.should_exit = True  # this client never replies to the close frame
        close = await client.read_close()
        assert await client.at_eof()
    assert close.opcode == OP_CLOSE
    assert close.close_code == 1000  # one close frame, not a second one with 1012
