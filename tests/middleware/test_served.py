"""Each middleware behind a real uvicorn server on 127.0.0.1, with real clients."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.serving import serve
from uvicorn.middleware.message_logger import TRACE_LOG_LEVEL

MIB = 1024 * 1024


async def client_view(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer with the client, scheme and host the application sees."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": f"{scope['scheme']} {scope['client'][0]}"})
        await send({"type": "websocket.close"})
        return
    host = dict(scope["headers"]).get(b"host", b"").decode()
    body = f"{scope['scheme']} {scope['client'][0]}:{scope['client'][1]} {host}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------- proxy headers


async def test_proxy_headers_from_the_default_trusted_host(caplog: pytest.LogCaptureFixture) -> None:
    async with serve(client_view, lifespan="off") as running, httpx.AsyncClient() as client:
        response = await client.get(
            running.url + "/", headers={"X-Forwarded-For": "203.0.113.9:4711", "X-Forwarded-Proto": "https"}
        )
    assert response.text == f"https 203.0.113.9:4711 127.0.0.1:{running.port}"
    # The server's own scope changed too: its access log names the real client.
    access = [record.getMessage() for record in caplog.records if record.name == "uvicorn.access"]
    assert any(line.startswith("203.0.113.9:4711 - ") for line in access), access


async def test_proxy_headers_from_an_untrusted_host_are_ignored() -> None:
    options = {"lifespan": "off", "forwarded_allow_ips": "10.0.0.1"}
    async with serve(client_view, **options) as running, httpx.AsyncClient() as client:
        response = await client.get(running.url + "/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.text.startswith("http 127.0.0.1:")


async def test_forwarded_and_x_forwarded_host_options() -> None:
    options = {"lifespan": "off", "proxy_forwarded": True, "proxy_x_forwarded_host": True}
    async with serve(client_view, **options) as running, httpx.AsyncClient() as client:
        forwarded = await client.get(
            running.url + "/", headers={"Forwarded": 'for="[2001:db8::5]:443";proto=https;host=shop.example'}
        )
        x_forwarded = await client.get(running.url + "/", headers={"X-Forwarded-Host": "shop.example:8443"})
    assert forwarded.text == "https 2001:db8::5:443 shop.example"
    assert x_forwarded.text.endswith(" shop.example:8443")


async def test_websocket_gets_a_secure_scheme_from_the_proxy() -> None:
    async with serve(client_view, lifespan="off") as running:
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
        async with connect(running.ws_url + "/", additional_headers=headers) as websocket:
            assert await websocket.recv() == "wss 203.0.113.9"


# ---------------------------------------------------------------- WSGI


def pattern(size: int) -> Iterator[bytes]:
    """``size`` bytes of a non-repeating-looking pattern, in 64 KiB blocks."""
    block = hashlib.sha256(b"seed").digest() * 2048
    for offset in range(0, size, len(block)):
        yield block[: min(len(block), size - offset)]


def upload_then_download(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    """Hash the whole request body as it streams in, then stream 8 MiB back."""
    digest = hashlib.sha256()
    received = 0
    stream = environ["wsgi.input"]
    while block := stream.read(65536):
        digest.update(block)
        received += len(block)
    start_response(
        "200 OK",
        [("Content-Type", "application/octet-stream"), ("X-Upload", f"{received} {digest.hexdigest()}")],
    )
    yield from pattern(8 * MIB)


@pytest.mark.parametrize("http", ["h11", "httptools"])
async def test_wsgi_streams_8_mib_up_and_down(http: str) -> None:
    async def upload() -> AsyncIterator[bytes]:
        for block in pattern(8 * MIB):
            yield block

    expected = hashlib.sha256(b"".join(pattern(8 * MIB))).hexdigest()
    downloaded = hashlib.sha256()
    size = 0
    async with (
        serve(upload_then_download, interface="wsgi", http=http, lifespan="off") as running,
        httpx.AsyncClient(timeout=60) as client,
        client.stream("POST", running.url + "/upload", content=upload()) as response,
    ):
        async for block in response.aiter_raw():
            downloaded.update(block)
            size += len(block)
    assert response.status_code == 200
    assert response.headers["x-upload"] == f"{8 * MIB} {expected}"
    assert (size, downloaded.hexdigest()) == (8 * MIB, expected)


def text_body(environ: dict[str, Any], start_response: Any) -> list[Any]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["not bytes"]


def failing_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise RuntimeError("the app failed")


def text_after_bytes(environ: dict[str, Any], start_response: Any) -> Iterator[Any]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"some bytes, "
    yield "then text"


async def test_wsgi_misuse_is_a_500_and_one_error_line(caplog: pytest.LogCaptureFixture) -> None:
    async with serve(text_body, interface="wsgi", lifespan="off") as running, httpx.AsyncClient() as client:
        response = await client.get(running.url + "/page")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    errors = [
        record
        for record in caplog.records
        if record.name == "uvicorn.error" and record.levelno >= logging.ERROR
    ]
    assert [record.getMessage() for record in errors] == [
        'WSGI protocol error in "GET /page": the WSGI application produced a str body chunk; '
        "response bodies must be bytes (encode text, e.g. chunk.encode('utf-8'))"
    ]


async def test_a_failing_wsgi_app_gets_a_500() -> None:
    async with serve(failing_app, interface="wsgi", lifespan="off") as running, httpx.AsyncClient() as client:
        response = await client.get(running.url + "/")
    assert response.status_code == 500


async def test_wsgi_misuse_after_the_response_started_drops_the_connection() -> None:
    async with (
        serve(text_after_bytes, interface="wsgi", lifespan="off") as running,
        httpx.AsyncClient() as client,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(running.url + "/")


# ---------------------------------------------------------------- ASGI2 and the message logger


class ASGI2Hello:
    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"asgi2 " + self.scope["path"].encode()})


async def test_asgi2_app() -> None:
    async with serve(ASGI2Hello, interface="asgi2", lifespan="off") as running, httpx.AsyncClient() as client:
        response = await client.get(running.url + "/hi")
    assert response.text == "asgi2 /hi"


async def test_message_logger_at_trace_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(TRACE_LOG_LEVEL, logger="uvicorn.asgi")
    async with (
        serve(client_view, lifespan="off", log_level="trace") as running,
        httpx.AsyncClient() as client,
    ):
        await client.get(running.url + "/", headers={"X-Forwarded-For": "203.0.113.9"})
    lines = [record.getMessage() for record in caplog.records if record.name == "uvicorn.asgi"]
    # The logger sits inside the proxy middleware, so it already sees the real client.
    assert lines[0].startswith("203.0.113.9:0 - ASGI [1] Started scope={")
    assert (
        lines[1]
        == "203.0.113.9:0 - ASGI [1] Send {'type': 'http.response.start', 'status': 200, 'headers': '<...>'}"
    )
    assert lines[2].startswith("203.0.113.9:0 - ASGI [1] Send {'type': 'http.response.body', 'body': '<")
    assert lines[3] == "203.0.113.9:0 - ASGI [1] Completed"
