"""Choosing the implementation (``--ws``), the deprecated ``websockets`` one, ``none``, and TLS."""

from __future__ import annotations

import importlib
import logging
import ssl
import subprocess
import sys
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.protocols.test_websocket_support import IMPLEMENTATIONS, Recorder
from tests.serving import serve
from uvicorn.config import Config, UvicornDeprecationWarning
from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


@pytest.mark.parametrize("name", list(IMPLEMENTATIONS))
def test_ws_names_select_the_implementations(name: str) -> None:
    config = Config(app=Recorder(), ws=name)
    config.load()
    assert config.ws_protocol_class is IMPLEMENTATIONS[name]


def test_auto_prefers_websockets_sansio() -> None:
    assert AutoWebSocketsProtocol is WebSocketsSansIOProtocol
    config = Config(app=Recorder())
    config.load()
    assert config.ws_protocol_class is WebSocketsSansIOProtocol


@pytest.mark.parametrize(
    ("blocked", "chosen"),
    [(["websockets"], "WSProtocol"), (["websockets", "wsproto"], "None")],
    ids=["without-websockets", "without-either"],
)
def test_auto_falls_back_when_libraries_are_missing(blocked: list[str], chosen: str) -> None:
    # A fresh interpreter where importing the blocked libraries fails, as if not installed.
    code = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol as chosen\n"
        "print(getattr(chosen, '__name__', chosen))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == chosen


def test_the_legacy_implementation_warns_when_imported() -> None:
    name = "uvicorn.protocols.websockets.websockets_impl"
    original = sys.modules.pop(name)
    try:
        with pytest.warns(UvicornDeprecationWarning, match="The `websockets` implementation is deprecated"):
            importlib.import_module(name)
    finally:
        sys.modules[name] = original  # keep the class the other tests hold


async def test_ws_none_serves_an_upgrade_request_as_http(http: str, caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"plain http"})

    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}
    headers["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ=="
    async with serve(app, ws="none", http=http, lifespan="off") as running, httpx.AsyncClient() as client:
        response = await client.get(running.url, headers=headers)
    assert (response.status_code, response.content) == (200, b"plain http")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "Unsupported upgrade request." in warnings


async def test_wss_over_tls(
    ws: type[Any],
    tls_ca_ssl_context: ssl.SSLContext,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
) -> None:
    app = Recorder()
    options = {
        "ssl_certfile": tls_certificate_server_cert_path,
        "ssl_keyfile": tls_certificate_private_key_path,
    }
    async with (
        serve(app, ws=ws, lifespan="off", **options) as running,
        connect(running.ws_url, ssl=tls_ca_ssl_context) as client,
    ):
        await client.send("secret")
        assert await client.recv() == "secret"
    assert running.ws_url.startswith("wss://")
    assert app.scope is not None and app.scope["scheme"] == "wss"


async def test_the_legacy_implementation_keeps_its_asgi_method_names() -> None:
    """Upstream's legacy protocol calls the app's callables asgi_receive/asgi_send; code using them works."""
    from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol

    async def app(scope: Any, receive: Any, send: Any) -> None:
        protocol = send.__self__
        assert isinstance(protocol, WebSocketProtocol)
        assert (await protocol.asgi_receive())["type"] == "websocket.connect"
        await protocol.asgi_send({"type": "websocket.accept"})
        message = await protocol.asgi_receive()
        await protocol.asgi_send({"type": "websocket.send", "text": "echo " + message["text"]})

    async with (
        serve(app, ws="websockets", lifespan="off") as running,
        connect(running.ws_url) as client,
    ):
        await client.send("hi")
        assert await client.recv() == "echo hi"
