"""A client that goes away: the app learns it from ``receive()``, and nothing is left behind."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.protocols.apps import Gate, read_body, send_response
from tests.protocols.raw_http import RawClient, request
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope


class Observer:
    """Puts each message the app receives on a queue; sends a response after a disconnect."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sends_after_disconnect = 0
        self.done = asyncio.Event()

    async def __call__(self, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        try:
            while True:
                message = dict(await receive())
                await self.received.put(message)
                if message["type"] == "http.disconnect":
                    break
            # Sending after the disconnect is not an error (ASGI HTTP 2.3): it does nothing.
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"late"})
            self.sends_after_disconnect = 2
        finally:
            self.done.set()


async def test_disconnect_in_the_middle_of_the_body(http: str) -> None:
    app = Observer()
    async with serve(app, http=http, lifespan="off") as running:
        async with RawClient.connect(running) as client:
            await client.send(
                request("POST", "/", headers=[("Host", "x"), ("Content-Length", "100")]) + b"x" * 10
            )
            first = await app.received.get()
            assert first == {"type": "http.request", "body": b"x" * 10, "more_body": True}
        assert await app.received.get() == {"type": "http.disconnect"}
        await app.done.wait()
        assert app.sends_after_disconnect == 2
    assert running.server.server_state.connections == set()


async def test_disconnect_in_the_middle_of_a_chunked_body(http: str) -> None:
    app = Observer()
    head = request("POST", "/", headers=[("Host", "x"), ("Transfer-Encoding", "chunked")])
    async with serve(app, http=http, lifespan="off") as running:
        async with RawClient.connect(running) as client:
            await client.send(head + b"3\r\nabc\r\n")
            assert (await app.received.get())["body"] == b"abc"
        assert await app.received.get() == {"type": "http.disconnect"}


async def test_disconnect_while_the_app_waits_after_the_body(http: str) -> None:
    """Long polling: the body is complete, the app waits on receive() for the client to leave."""
    app = Observer()
    async with serve(app, http=http, lifespan="off") as running:
        async with RawClient.connect(running) as client:
            await client.send(request("POST", "/", body=b"payload"))
            assert await app.received.get() == {
                "type": "http.request",
                "body": b"payload",
                "more_body": False,
            }
        assert await app.received.get() == {"type": "http.disconnect"}
        await app.done.wait()


async def test_half_close_in_the_middle_of_the_body_is_a_disconnect(http: str) -> None:
    app = Observer()
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request("POST", "/", headers=[("Host", "x"), ("Content-Length", "10")]) + b"12345")
        assert (await app.received.get())["more_body"] is True
        await client.half_close()  # the body can never be completed now
        assert await app.received.get() == {"type": "http.disconnect"}
        await app.done.wait()
        assert await client.closed()


async def test_disconnect_while_the_response_streams(http: str) -> None:
    sent = asyncio.Event()
    finished = asyncio.Event()
    sends_after_disconnect = 0

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        sent.set()
        assert await receive() == {"type": "http.request", "body": b"", "more_body": False}
        assert await receive() == {"type": "http.disconnect"}  # waits until the client has gone
        nonlocal sends_after_disconnect
        for _ in range(3):
            await send({"type": "http.response.body", "body": b"more", "more_body": True})
            sends_after_disconnect += 1
        finished.set()

    async with serve(app, http=http, lifespan="off") as running:
        async with RawClient.connect(running) as client:
            await client.send(request())
            await sent.wait()
        await finished.wait()
    assert sends_after_disconnect == 3


async def test_pipelined_requests_are_dropped_when_the_client_leaves(http: str) -> None:
    gate = Gate()
    async with serve(gate, http=http, lifespan="off") as running:
        async with RawClient.connect(running) as client:
            await client.send(request("GET", "/first") + request("GET", "/second"))
            await gate.entered.wait()
            # Reading is paused while "/second" waits its turn, so the server learns of the
            # reset when it writes the first response; it must not run "/second" then.
            client.abort()
        gate.open.set()
        # Another connection's request is answered after the first one's app has finished...
        async with RawClient.connect(running) as other:
            await other.send(request("GET", "/other"))
            assert (await other.read_response()).body == b"/other"
    assert gate.paths == ["/first", "/other"]  # ...and the abandoned "/second" never ran


async def test_no_tasks_or_connections_left_after_disconnects(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        body, messages = await read_body(receive)
        if messages[-1]["type"] == "http.disconnect":
            return
        await send_response(send, 200, body)

    async with serve(app, http=http, lifespan="off") as running:
        for _ in range(5):
            async with RawClient.connect(running) as client:
                await client.send(
                    request("POST", "/", headers=[("Host", "x"), ("Content-Length", "5")]) + b"ab"
                )
        async with RawClient.connect(running) as client:
            await client.send(request("POST", "/", body=b"whole"))
            assert (await client.read_response()).body == b"whole"
        state = running.server.server_state
        while state.connections or state.tasks:
            await asyncio.sleep(0.01)  # the server notices closed sockets on its own schedule
