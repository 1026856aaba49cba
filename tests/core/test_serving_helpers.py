"""The shared test helpers in tests/serving.py: they must start, report failures, and stop."""

from __future__ import annotations

import socket

import httpx
import pytest
import websockets.asyncio.client

from tests.core.apps import hello
from tests.serving import ServerStartupFailed, serve, serve_in_thread
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.config import Config


async def test_serve_with_options() -> None:
    async with serve(hello, http="h11") as running:
        assert running.host == "127.0.0.1"
        assert running.url == f"http://127.0.0.1:{running.port}"
        assert running.config.http == "h11"
        async with httpx.AsyncClient() as client:
            assert (await client.get(running.url)).text == "hello"
    assert running.server.started
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(running.url)  # stopped with the block


async def test_serve_with_a_config() -> None:
    config = Config(hello)
    async with serve(config) as running:
        assert running.config is config


async def test_serve_rejects_config_plus_options() -> None:
    with pytest.raises(TypeError):
        async with serve(Config(hello), http="h11"):
            pass


def test_serve_in_thread_with_a_raw_socket() -> None:
    with serve_in_thread(hello) as running, socket.create_connection((running.host, running.port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        response = b""
        while chunk := sock.recv(4096):
            response += chunk
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert response.endswith(b"hello")


def test_serve_in_thread_reports_startup_failure() -> None:
    with pytest.raises(ServerStartupFailed) as info, serve_in_thread("tests.core.apps:does_not_exist"):
        pytest.fail("must not start")
    assert info.value.exit_code == 3


async def echo_websocket(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    message = await receive()
    if message["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": "echo: " + str(message.get("text"))})
        await send({"type": "websocket.close", "code": 1000})


async def test_serve_websocket_url() -> None:
    async with serve(echo_websocket, lifespan="off") as running:
        assert running.ws_url == f"ws://127.0.0.1:{running.port}"
        async with websockets.asyncio.client.connect(running.ws_url + "/chat") as websocket:
            await websocket.send("hi")
            assert await websocket.recv() == "echo: hi"
