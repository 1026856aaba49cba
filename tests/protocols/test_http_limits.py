"""The bounds on request bodies, requests per connection and slow readers, over real sockets (HTTP/1.1).

Each test sends the large or slow bytes, checks the status and the close, and
that the app (when it ran) saw ``http.disconnect``.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from tests.protocols.apps import Gate, send_response
from tests.protocols.raw_http import READ_LIMIT_SECONDS, SIMPLE_GET, RawClient, chunked, request
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope


class BodyReader:
    """Reads the whole body (answering with its size), or answers first if ``answer_first``.

    ``messages`` holds what ``receive()`` returned; ``done`` is set when the app returns.
    """

    def __init__(self, answer_first: bool = False) -> None:
        self.answer_first = answer_first
        self.messages: list[dict[str, Any]] = []
        self.receiving = asyncio.Event()
        self.done = asyncio.Event()

    @property
    def disconnected(self) -> bool:
        return any(message["type"] == "http.disconnect" for message in self.messages)

    async def __call__(self, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        try:
            if self.answer_first:
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b"early ", "more_body": True})
            total = 0
            while True:
                self.receiving.set()
                message: dict[str, Any] = dict(await receive())
                self.messages.append(message)
                if message["type"] == "http.disconnect":
                    return
                total += len(message["body"])
                if not message["more_body"]:
                    break
            if self.answer_first:
                await send({"type": "http.response.body", "body": b"%d" % total})
            else:
                await send_response(send, 200, b"%d" % total)
        finally:
            self.done.set()


async def wait(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), READ_LIMIT_SECONDS)


CHUNKED = [("Host", "example.org"), ("Transfer-Encoding", "chunked")]

# ---------------------------------------------------------------- limit_request_body


async def test_an_announced_body_over_the_limit_gets_413_before_the_app(
    http: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = BodyReader()
    async with (
        serve(app, http=http, lifespan="off", limit_request_body=100) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("POST", "/", headers=[("Host", "x"), ("Content-Length", "101")]))
        response = await client.read_response()
        assert response.status == 413
        assert response.header(b"connection") == b"close"
        assert await client.closed()
    assert app.messages == []  # the app never ran
    assert any("limit_request_body" in message for message in caplog.messages)


async def test_a_body_within_the_limit_is_served(http: str) -> None:
    async with (
        serve(BodyReader(), http=http, lifespan="off", limit_request_body=100) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("POST", "/", body=b"a" * 100))
        assert (await client.read_response()).body == b"100"
        await client.send(request("POST", "/", headers=CHUNKED) + chunked(b"a" * 60, b"b" * 40))
        assert (await client.read_response()).body == b"100"


async def test_a_chunked_body_growing_past_the_limit_gets_413(http: str) -> None:
    app = BodyReader()
    async with (
        serve(app, http=http, lifespan="off", limit_request_body=100) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("POST", "/", headers=CHUNKED) + b"40\r\n" + b"a" * 64 + b"\r\n")
        await wait(app.receiving)
        await client.send(b"40\r\n" + b"b" * 64 + b"\r\n")  # 128 bytes: past the limit
        response = await client.read_response()
        assert response.status == 413
        assert await client.closed()
        await wait(app.done)
    assert app.disconnected


async def test_a_body_past_the_limit_after_the_response_began_closes(http: str) -> None:
    app = BodyReader(answer_first=True)
    async with (
        serve(app, http=http, lifespan="off", limit_request_body=100) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("POST", "/", headers=CHUNKED) + b"40\r\n" + b"a" * 64 + b"\r\n")
        status_line, _ = await client.read_head()
        assert status_line == b"HTTP/1.1 200 OK"
        await client.send(b"40\r\n" + b"b" * 64 + b"\r\n")
        rest = await client.read_until_closed()
        assert b"413" not in rest and not rest.endswith(b"0\r\n\r\n")  # cut, not completed
        await wait(app.done)
    assert app.disconnected


# ---------------------------------------------------------------- timeout_request_body


async def test_a_body_that_stops_coming_gets_408(http: str, caplog: pytest.LogCaptureFixture) -> None:
    app = BodyReader()
    async with (
        serve(app, http=http, lifespan="off", timeout_request_body=0.5) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("POST", "/", headers=[("Host", "x"), ("Content-Length", "10")]) + b"12345")
        response = await client.read_response()  # and the other five bytes never come
        assert response.status == 408
        assert response.header(b"connection") == b"close"
        assert await client.closed()
        await wait(app.done)
    assert app.disconnected
    assert any("timeout_request_body" in message for message in caplog.messages)


async def test_a_stalled_body_after_the_response_began_closes(http: str) -> None:
    app = BodyReader(answer_first=True)
    async with (
        serve(app, http=http, lifespan="off", timeout_request_body=0.5) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("POST", "/", headers=CHUNKED) + b"5\r\nabcde\r\n")
        status_line, _ = await client.read_head()
        assert status_line == b"HTTP/1.1 200 OK"
        rest = await client.read_until_closed()
        assert b"408" not in rest
        await wait(app.done)
    assert app.disconnected


async def test_a_slow_app_is_never_cut_by_the_body_timeout(http: str) -> None:
    """The timeout runs only while the app waits for the client, not while the client waits for the app."""

    async def slow_reader(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await asyncio.sleep(0.5)  # the app is busy for longer than the timeout before it reads
        message = await receive()
        await send_response(send, 200, message["body"])  # type: ignore[typeddict-item]

    async with (
        serve(slow_reader, http=http, lifespan="off", timeout_request_body=0.1) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("POST", "/", body=b"payload"))
        assert (await client.read_response()).body == b"payload"


# ---------------------------------------------------------------- limit_keep_alive_requests


async def test_the_last_request_a_connection_may_serve_closes_it(http: str) -> None:
    gate = Gate()
    gate.open.set()
    async with (
        serve(gate, http=http, lifespan="off", limit_keep_alive_requests=2) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(SIMPLE_GET)
        assert (await client.read_response()).header(b"connection") is None
        await client.send(SIMPLE_GET)
        last = await client.read_response()
        assert last.header(b"connection") == b"close"
        assert await client.closed()


# ---------------------------------------------------------------- timeout_response_send


async def test_a_client_that_stops_reading_is_cut_off(http: str, caplog: pytest.LogCaptureFixture) -> None:
    disconnected = asyncio.Event()
    piece = b"x" * (1 << 20)

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            disconnected.set()

        watcher = asyncio.create_task(watch())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while not disconnected.is_set():  # sends wait while the client does not read
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            await asyncio.sleep(0)
        await watcher

    async with serve(app, http=http, lifespan="off", timeout_response_send=0.5) as running:
        sock = socket.create_connection((running.host, running.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(SIMPLE_GET)  # ... and never read
        try:
            await wait(disconnected)  # the server gave up on the client: the app is told
        finally:
            sock.close()
    assert any("timeout_response_send" in message for message in caplog.messages)
