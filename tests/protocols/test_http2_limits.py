"""The request-body, stream and send bounds on HTTP/2, over real sockets, on both engines.

A bound broken by one stream ends that stream (413/408 on it, or a reset), never
the connection: each test checks that the connection goes on serving.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.protocols.apps import hello
from tests.protocols.h2_client import CANCEL, GOAWAY, HEADERS, NO_ERROR, H2Client, RawH2
from tests.protocols.test_http_limits import BodyReader, wait
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope


@pytest.fixture(params=["zttp", "h2"])
def engine(request: pytest.FixtureRequest) -> str:
    pytest.importorskip(str(request.param))
    return str(request.param)


def options(engine: str, **extra: Any) -> dict[str, Any]:
    return {"http2": True, "http2_engine": engine, "lifespan": "off", **extra}


async def still_serving(client: H2Client) -> None:
    assert (await client.get("/")).status == 200


async def test_an_announced_body_over_the_limit_gets_413_on_its_stream(engine: str) -> None:
    app = BodyReader()
    async with (
        serve(app, **options(engine, limit_request_body=100)) as running,
        H2Client.connect(running) as client,
    ):
        stream_id = await client.send("POST", "/", headers=[("content-length", "101")], end=False)
        response = await client.response(stream_id)
        assert response.status == 413
        assert response.reset_code in (None, NO_ERROR)  # "no need to send the body"
        await still_serving(client)
    assert [m for m in app.messages if m["type"] == "http.request" and m["body"]] == []


async def test_data_growing_past_the_limit_gets_413(engine: str) -> None:
    app = BodyReader()
    async with (
        serve(app, **options(engine, limit_request_body=100)) as running,
        H2Client.connect(running) as client,
    ):
        stream_id = await client.send("POST", "/", body=b"a" * 64, end=False)
        await wait(app.receiving)
        await client.send_body(stream_id, b"b" * 64, end=False)
        response = await client.response(stream_id)
        assert response.status == 413
        await wait(app.done)
        await still_serving(client)
    assert app.disconnected


async def test_data_past_the_limit_after_the_response_began_resets_the_stream(engine: str) -> None:
    app = BodyReader(answer_first=True)
    async with (
        serve(app, **options(engine, limit_request_body=100)) as running,
        H2Client.connect(running) as client,
    ):
        stream_id = await client.send("POST", "/", body=b"a" * 64, end=False)
        while not client.responses[stream_id].status:
            assert await client.read_events()
        await client.send_body(stream_id, b"b" * 64, end=False)
        response = await client.response(stream_id)
        assert response.reset_code == CANCEL
        await wait(app.done)
        await still_serving(client)
    assert app.disconnected


async def test_a_body_that_stops_coming_gets_408_on_its_stream(engine: str) -> None:
    app = BodyReader()
    async with (
        serve(app, **options(engine, timeout_request_body=0.5)) as running,
        H2Client.connect(running) as client,
    ):
        stream_id = await client.send("POST", "/", body=b"12345", end=False)  # and no more
        response = await client.response(stream_id)
        assert response.status == 408
        await wait(app.done)
        await still_serving(client)
    assert app.disconnected


async def test_after_its_last_stream_a_connection_says_goaway(engine: str) -> None:
    async with (
        serve(hello, **options(engine, limit_keep_alive_requests=2)) as running,
        RawH2.connect(running) as raw,
    ):
        await raw.send(raw.headers(1))
        assert await raw.read_until(HEADERS, 1) is not None
        await raw.send(raw.headers(3))  # the last stream it may serve: answered, with a GOAWAY naming it
        while await raw.read_frame() is not None:  # then the server closes
            pass
    goaways = [f for f in raw.frames if f.type == GOAWAY]
    assert [(f.error_code, int.from_bytes(f.payload[:4], "big")) for f in goaways] == [(NO_ERROR, 3)]
    assert [f.stream_id for f in raw.frames if f.type == HEADERS] == [1, 3]


async def test_a_stream_whose_window_stays_shut_is_reset(engine: str) -> None:
    disconnected = asyncio.Event()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            disconnected.set()

        watcher = asyncio.create_task(watch())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while not disconnected.is_set():  # each send waits for window that never comes
            await send({"type": "http.response.body", "body": b"x" * 16384, "more_body": True})
            await asyncio.sleep(0)  # once the stream is gone, send() returns at once
        await watcher

    async with (
        serve(app, **options(engine, timeout_response_send=0.5)) as running,
        H2Client.connect(running, window=0) as client,
    ):
        stream_id = await client.send("GET", "/")
        response = await client.response(stream_id)
        assert response.reset_code == CANCEL
        await wait(disconnected)
