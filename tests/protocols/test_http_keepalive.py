"""Keep-alive, its timeout, pipelining in order, and when a connection closes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.protocols.apps import Gate, Recorder, hello, send_response
from tests.protocols.raw_http import SIMPLE_GET, RawClient, chunked, request
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope

# ---------------------------------------------------------------- keep-alive


async def test_connection_is_reused(http: str) -> None:
    async with serve(hello, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        for _ in range(3):
            await client.send(SIMPLE_GET)
            response = await client.read_response()
            assert response.status == 200
            assert response.header(b"connection") is None
        assert len(running.server.server_state.connections) == 1


async def test_httpx_reuses_one_connection(http: str) -> None:
    ports = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        client = scope["client"]
        assert client is not None
        ports.append(client[1])
        await send_response(send, 204)

    async with serve(app, http=http, lifespan="off") as running, httpx.AsyncClient() as client:
        for _ in range(3):
            assert (await client.get(running.url)).status_code == 204
    assert len(set(ports)) == 1


async def test_idle_connection_closes_after_keep_alive_timeout(http: str) -> None:
    async with (
        serve(hello, http=http, lifespan="off", timeout_keep_alive=0.2) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(SIMPLE_GET)
        assert (await client.read_response()).status == 200
        assert await client.closed()


async def test_keep_alive_restarts_after_a_skipped_body(http: str) -> None:
    """The app answered before reading; once the client has sent the rest, the idle countdown runs."""
    async with (
        serve(hello, http=http, lifespan="off", timeout_keep_alive=0.2) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("POST", "/", headers=[("Host", "x"), ("Content-Length", "10")]))
        assert (await client.read_response()).status == 200
        await client.send(b"0123456789")
        assert await client.closed()


async def test_each_idle_period_gets_the_whole_keep_alive_timeout(http: str) -> None:
    """The countdown restarts at every response, however early the first one started."""
    timeout = 1.0
    async with (
        serve(hello, http=http, lifespan="off", timeout_keep_alive=timeout) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(SIMPLE_GET)
        assert (await client.read_response()).status == 200
        # Time passing is what is tested here: idle for most of a period, then a request,
        # then idle again past the end of the first period but well within the second.
        await asyncio.sleep(timeout * 0.6)
        await client.send(SIMPLE_GET)
        assert (await client.read_response()).status == 200
        await asyncio.sleep(timeout * 0.6)
        await client.send(SIMPLE_GET)
        assert (await client.read_response()).status == 200
        assert await client.closed()


async def test_keep_alive_timeout_does_not_cut_a_request_in_progress(http: str) -> None:
    slow_entered = asyncio.Event()
    release = asyncio.Event()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["path"] == "/slow":
            slow_entered.set()
            await release.wait()
        await send_response(send, 200, scope["path"].encode())

    async with (
        serve(app, http=http, lifespan="off", timeout_keep_alive=0.2) as running,
        RawClient.connect(running) as busy,
    ):
        await busy.send(request("GET", "/first"))
        assert (await busy.read_response()).body == b"/first"  # its keep-alive countdown starts
        await busy.send(request("GET", "/slow"))
        await slow_entered.wait()
        # A connection answered later times out: by then the busy one's countdown, had it
        # kept running during the slow request, would have closed it too.
        async with RawClient.connect(running) as idle:
            await idle.send(SIMPLE_GET)
            assert (await idle.read_response()).status == 200
            assert await idle.closed()
        release.set()
        response = await busy.read_response()
    assert response.body == b"/slow"


# ---------------------------------------------------------------- closing


@pytest.mark.parametrize("value", ["close", "Close", "keep-alive, close", "CLOSE , upgrade"])
async def test_client_connection_close(http: str, value: str) -> None:
    app = Recorder()
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request(headers=[("Host", "x"), ("Connection", value)]) + SIMPLE_GET)
        response = await client.read_response()
        assert response.status == 200
        assert b"close" in (response.header(b"connection") or b"").lower()
        assert await client.closed()
    assert len(app.scopes) == 1  # the request sent after "close" was not served


async def test_app_connection_close(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send_response(send, 200, b"bye", [(b"connection", b"close")])

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        response = await client.read_response()
        assert response.header_list(b"connection") == [b"close"]
        assert response.body == b"bye"
        assert await client.closed()


async def test_app_connection_close_during_a_post(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await receive()
        await send_response(send, 200, b"bye", [(b"connection", b"close")])

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request("POST", "/", body=b"data") + SIMPLE_GET)
        response = await client.read_response()
        assert response.body == b"bye"
        assert await client.closed()


@pytest.mark.parametrize("connection", [None, "keep-alive"])
async def test_http_1_0_is_never_kept_alive(http: str, connection: str | None) -> None:
    headers = [] if connection is None else [("Connection", connection)]
    async with serve(hello, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request(headers=headers, version="HTTP/1.0"))
        response = await client.read_response()
        assert response.status_line == b"HTTP/1.1 200 OK"
        assert response.header(b"connection") == b"close"
        assert response.body == b"Hello, world"
        assert await client.closed()


async def test_client_half_close_still_gets_its_answer(http: str) -> None:
    gate = Gate()
    async with serve(gate, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request("GET", "/a") + request("GET", "/b"))
        await client.half_close()
        await gate.entered.wait()
        gate.open.set()
        assert (await client.read_response()).body == b"/a"
        assert (await client.read_response()).body == b"/b"
        assert await client.closed()


# ---------------------------------------------------------------- pipelining


async def test_pipelined_requests_are_answered_in_order(http: str) -> None:
    app = Recorder()
    requests = [
        request("GET", "/1"),
        request("POST", "/2", body=b"two"),
        request("PUT", "/3", headers=[("Host", "x"), ("Transfer-Encoding", "chunked")])
        + chunked(b"th", b"ree"),
        request("DELETE", "/4"),
    ]
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(b"".join(requests))
        bodies = [(await client.read_response()).body for _ in requests]
    assert bodies == [b"/1", b"/2", b"/3", b"/4"]
    assert app.bodies == [b"", b"two", b"three", b""]


async def test_pipelined_requests_wait_for_the_response_in_flight(http: str) -> None:
    gate = Gate()
    async with serve(gate, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request("GET", "/first") + request("GET", "/second"))
        await gate.entered.wait()
        assert gate.paths == ["/first"]  # the second waits its turn
        gate.open.set()
        assert (await client.read_response()).body == b"/first"
        assert (await client.read_response()).body == b"/second"


async def test_pipelined_requests_byte_by_byte(http: str) -> None:
    app = Recorder()
    data = request("GET", "/a") + request("POST", "/b", body=b"xyz") + request("GET", "/c")
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        for index in range(len(data)):
            await client.send(data[index : index + 1])
        bodies = [(await client.read_response()).body for _ in range(3)]
    assert bodies == [b"/a", b"/b", b"/c"]
    assert app.bodies == [b"", b"xyz", b""]


async def test_many_pipelined_requests(http: str) -> None:
    app = Recorder()
    count = 200
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(b"".join(request("GET", f"/{index}") for index in range(count)))
        bodies = [(await client.read_response()).body for _ in range(count)]
    assert bodies == [f"/{index}".encode() for index in range(count)]


@pytest.mark.parametrize(
    ("bad", "status"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\n", 431),
    ],
    ids=["garbage", "no-host", "cl-and-te", "control-character", "http-2", "too-many-fields"],
)
async def test_bad_request_after_good_ones_is_answered_last(http: str, bad: bytes, status: int) -> None:
    gate = Gate()
    async with serve(gate, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request("GET", "/a") + request("GET", "/b") + bad + request("GET", "/never"))
        await gate.entered.wait()
        gate.open.set()
        assert (await client.read_response()).body == b"/a"
        assert (await client.read_response()).body == b"/b"
        error = await client.read_response()
        assert error.status == status
        assert error.header(b"connection") == b"close"
        assert await client.closed()
    assert gate.paths == ["/a", "/b"]  # nothing after the bad request reached the app


async def test_bad_request_while_app_reads_the_body(http: str) -> None:
    """The app is still receiving when the broken request arrives: it is answered after."""
    received = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        message: dict[str, Any] = dict(await receive())
        received.append(message["body"])
        while message.get("more_body"):
            message = dict(await receive())
            received.append(message["body"])
        await send_response(send, 200, scope["path"].encode())

    head = request("POST", "/upload", headers=[("Host", "x"), ("Content-Length", "6")])
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(head + b"abc")
        await client.send(b"def" + b"BROKEN\r\n\r\n" + request("GET", "/never"))
        assert (await client.read_response()).body == b"/upload"
        assert (await client.read_response()).status == 400
        assert await client.closed()
    assert b"".join(received) == b"abcdef"
