"""Back-pressure both ways over real sockets: nobody buffers without bound.

A client that reads slowly makes the app's ``send()`` wait; an app that does not
read its upload makes the server stop reading the socket. The tests await the
moment the server pauses, reported by a thin subclass of the real protocol
(``pause_writing`` / ``pause_reading`` are the hooks asyncio and the connection
use), never a sleep.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.protocols.apps import send_response
from tests.protocols.raw_http import RawClient, request
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT, FlowControl
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.http.streamed_writes import FLUSH_SIZE

CHUNK = 256 * 1024
CHUNKS = 128  # 32 MiB: more than the kernel's socket buffers on both ends can hold


class Pauses:
    """Events set when the server pauses writing or reading, and the protocol that did."""

    def __init__(self) -> None:
        self.writing = asyncio.Event()
        self.reading = asyncio.Event()
        self.protocols: list[Any] = []


def instrumented(http: str, pauses: Pauses) -> type[asyncio.Protocol]:
    """The real protocol class for ``http``, reporting its pauses to ``pauses``."""
    base: Any = H11Protocol if http == "h11" else HttpToolsProtocol

    class ReportingFlowControl(FlowControl):
        __slots__ = ()

        def pause_reading(self) -> None:
            super().pause_reading()
            pauses.reading.set()

    class Reporting(base):  # type: ignore[misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self.flow = ReportingFlowControl(transport)  # type: ignore[arg-type]
            pauses.protocols.append(self)

        def pause_writing(self) -> None:
            super().pause_writing()
            pauses.writing.set()

    return Reporting


async def test_slow_reader_makes_send_wait(http: str) -> None:
    pauses = Pauses()
    sent = 0
    largest_buffer = 0
    payload = bytes(range(256)) * (CHUNK // 256)

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        nonlocal sent, largest_buffer
        (protocol,) = pauses.protocols
        await send({"type": "http.response.start", "status": 200})
        for index in range(CHUNKS):
            await send({"type": "http.response.body", "body": payload, "more_body": index < CHUNKS - 1})
            sent += 1
            largest_buffer = max(largest_buffer, protocol.transport.get_write_buffer_size())

    async with (
        serve(app, http=instrumented(http, pauses), lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request())
        await pauses.writing.wait()  # the client reads nothing until the server holds back
        sent_when_paused = sent
        response = await client.read_response()
    assert sent_when_paused < CHUNKS  # the app was made to wait...
    assert response.body == payload * CHUNKS  # ...and nothing was lost
    # The server's own buffer never held much more than one batch of a streamed body
    # (held pieces are written together, up to FLUSH_SIZE) beyond the high-water mark.
    assert largest_buffer <= FLUSH_SIZE + 2 * CHUNK


async def test_client_leaving_releases_a_waiting_send(http: str) -> None:
    pauses = Pauses()
    sends_returned = 0
    last: dict[str, Any] = {}
    finished = asyncio.Event()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        nonlocal sends_returned, last
        await send({"type": "http.response.start", "status": 200})
        try:
            for _ in range(CHUNKS):
                # Returns (does not raise) even once the client is gone.
                await send({"type": "http.response.body", "body": b"x" * CHUNK, "more_body": True})
                sends_returned += 1
            last = dict(await receive())
        finally:
            finished.set()

    async with serve(app, http=instrumented(http, pauses), lifespan="off") as running:
        async with RawClient.connect(running) as client:
            await client.send(request())
            await pauses.writing.wait()
            client.abort()
        await finished.wait()  # not stuck in send(): the disconnect released it
    assert sends_returned == CHUNKS
    assert last == {"type": "http.disconnect"}


async def test_unread_upload_makes_the_server_stop_reading(http: str) -> None:
    pauses = Pauses()
    start_reading = asyncio.Event()
    first_message: list[dict[str, Any]] = []
    total = 0

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        nonlocal total
        message: dict[str, Any] = dict(await receive())
        first_message.append(message)
        total += len(message["body"])
        await start_reading.wait()  # meanwhile the client keeps sending
        while message.get("more_body"):
            message = dict(await receive())
            total += len(message["body"])
        await send_response(send, 200, b"%d" % total)

    size = CHUNK * CHUNKS
    head = request("POST", "/", headers=[("Host", "x"), ("Content-Length", str(size))])
    async with (
        serve(app, http=instrumented(http, pauses), lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        uploading = asyncio.create_task(client.send(head + b"u" * size))
        await pauses.reading.wait()
        (protocol,) = pauses.protocols
        held = protocol.cycle._buffered  # what the server holds for the app right now
        assert not protocol.transport.is_reading()
        assert not uploading.done()  # the client is blocked too: the kernel buffers are full
        start_reading.set()
        await uploading
        response = await client.read_response()
    # Held back at the high-water mark, plus at most what one socket read brought in.
    assert held <= HIGH_WATER_LIMIT + CHUNK
    assert response.body == str(size).encode()  # nothing lost


async def test_reading_resumes_for_the_next_request(http: str) -> None:
    """After a paused upload is drained, the connection serves the next request normally."""
    pauses = Pauses()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        total = 0
        while True:
            message: dict[str, Any] = dict(await receive())
            total += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send_response(send, 200, b"%d" % total)

    size = 4 * 1024 * 1024
    async with (
        serve(app, http=instrumented(http, pauses), lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("POST", "/", body=b"b" * size) + request("GET", "/next"))
        assert (await client.read_response()).body == str(size).encode()
        assert (await client.read_response()).body == b"0"
