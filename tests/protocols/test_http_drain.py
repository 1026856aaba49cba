"""The graceful drain of HTTP/1.1 connections: every request a client sent is answered, none is cut.

The server is told to stop (``should_exit``, as SIGTERM does) while connections
are idle, busy or pipelining; each test awaits the moment the connections were
told to drain (``Server._drain_started``) before it acts as a client would.
"""

from __future__ import annotations

import asyncio

from tests.protocols.apps import Gate, send_response
from tests.protocols.raw_http import SIMPLE_GET, RawClient, request
from tests.serving import RunningServer, serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope


def open_gate() -> Gate:
    """An app that answers every request at once with its path."""
    gate = Gate()
    gate.open.set()
    return gate


async def start_draining(running: RunningServer) -> None:
    running.server.should_exit = True
    await running.server._drain_started.wait()


async def test_a_request_on_an_idle_connection_is_answered_and_closes_it(http: str) -> None:
    gate = open_gate()
    async with serve(gate, http=http, lifespan="off") as running, RawClient.connect(running) as idle:
        await idle.send(SIMPLE_GET)
        assert (await idle.read_response()).header(b"connection") is None  # kept alive
        await start_draining(running)
        assert running.server.draining
        # The client did not know: it sends its next request on the connection it has.
        await idle.send(request("GET", "/after"))
        response = await idle.read_response()
        assert response.body == b"/after"
        assert response.header(b"connection") == b"close"
        assert await idle.closed()
    assert gate.paths == ["/", "/after"]


async def test_an_idle_connection_closes_at_its_keep_alive_timeout(http: str) -> None:
    async with (
        serve(open_gate(), http=http, lifespan="off", timeout_keep_alive=1) as running,
        RawClient.connect(running) as idle,
        RawClient.connect(running) as fresh,  # accepted, but no byte sent yet
    ):
        await idle.send(SIMPLE_GET)
        await idle.read_response()
        await start_draining(running)
        assert await idle.closed()
        assert await fresh.closed()


async def test_requests_in_flight_and_pipelined_behind_are_all_answered(http: str) -> None:
    gate = Gate()
    async with serve(gate, http=http, lifespan="off") as running, RawClient.connect(running) as busy:
        await busy.send(request("GET", "/in-flight") + request("GET", "/queued"))
        await gate.entered.wait()
        await start_draining(running)
        gate.open.set()
        first = await busy.read_response()
        second = await busy.read_response()
        assert await busy.closed()
    assert (first.body, first.header(b"connection")) == (b"/in-flight", None)
    assert (second.body, second.header(b"connection")) == (b"/queued", b"close")
    assert gate.paths == ["/in-flight", "/queued"]


async def test_a_request_in_flight_closes_its_connection(http: str) -> None:
    gate = Gate()
    async with serve(gate, http=http, lifespan="off") as running, RawClient.connect(running) as busy:
        await busy.send(request("GET", "/in-flight"))
        await gate.entered.wait()
        await start_draining(running)
        gate.open.set()
        response = await busy.read_response()
        assert response.header(b"connection") == b"close"
        assert await busy.closed()


async def test_a_response_begun_before_the_drain_leaves_the_next_request_to_close(http: str) -> None:
    started, finish = asyncio.Event(), asyncio.Event()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["path"] == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"one ", "more_body": True})
            started.set()
            await finish.wait()
            await send({"type": "http.response.body", "body": b"two"})
        else:
            await send_response(send, 200, scope["path"].encode())

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request("GET", "/stream"))
        await started.wait()
        await start_draining(running)
        finish.set()
        streamed = await client.read_response()
        # Its head went out before the drain, saying keep-alive: closing now could cut the
        # request the client sends next. That one is answered, and closes the connection.
        await client.send(request("GET", "/next"))
        following = await client.read_response()
        assert await client.closed()
    assert (streamed.body, streamed.header(b"connection")) == (b"one two", None)
    assert (following.body, following.header(b"connection")) == (b"/next", b"close")


async def test_with_reload_idle_connections_close_at_once(http: str) -> None:
    """Development restarts stay quick: as upstream, an idle connection is closed when the drain starts."""
    async with (
        serve(open_gate(), http=http, lifespan="off", reload=True, timeout_keep_alive=60) as running,
        RawClient.connect(running) as idle,
    ):
        await idle.send(SIMPLE_GET)
        await idle.read_response()
        await start_draining(running)
        assert await idle.closed()
