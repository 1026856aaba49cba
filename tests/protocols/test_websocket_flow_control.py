"""Back-pressure: a slow app or a slow client must not make the server buffer without bound.

Reading stops while ``ws_max_queue`` messages wait for the app; ``send()`` waits
while the transport's write buffer is full. The tests await the moment the server
pauses (reported by a thin subclass of the real implementation), never a sleep.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.protocols.test_websocket_support import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    Recorder,
    close_payload,
    frame,
    instrumented,
    raw_websocket,
)
from tests.serving import RunningServer, serve

MESSAGES = 64
MESSAGE = 16384  # 64 x 16 KiB: far more than the server may queue with ws_max_queue=4


def only_connection(running: RunningServer) -> Any:
    (protocol,) = running.server.server_state.connections
    return protocol


async def test_a_full_queue_pauses_reading_until_the_app_catches_up(ws: type[Any], http: str) -> None:
    events = {"read_paused": asyncio.Event()}
    release = asyncio.Event()
    received: list[bytes] = []

    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await release.wait()
        while len(received) < MESSAGES:
            message = await receive()
            received.append(message["bytes"])
        await send({"type": "websocket.send", "bytes": b"all read"})
        await receive()

    impl = instrumented(ws, events)
    async with (
        serve(slow_app, ws=impl, http=http, lifespan="off", ws_max_queue=4) as running,
        raw_websocket(running) as client,
    ):
        payloads = [bytes([index]) * MESSAGE for index in range(MESSAGES)]
        client.writer.write(b"".join(frame(OP_BINARY, payload) for payload in payloads))  # drained later
        try:
            await asyncio.wait_for(events["read_paused"].wait(), 30)
            protocol = only_connection(running)
            queued = len(protocol.session.messages)
            assert not protocol.transport.is_reading()
        finally:
            release.set()  # never leave the app (and so the server's shutdown) waiting
        done = await client.read_frame()
        assert done.payload == b"all read"
        assert protocol.transport.is_reading()  # resumed once the app caught up
    # At most the limit plus what one socket read carried, not everything that was sent.
    assert 4 <= queued < MESSAGES
    assert received == payloads  # nothing lost, in order


async def test_close_from_the_app_reads_the_reply_even_with_a_full_queue(ws: type[Any], http: str) -> None:
    events = {"read_paused": asyncio.Event()}
    close_now = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await close_now.wait()
        await send({"type": "websocket.close", "code": 1000})  # never read the queued messages

    class WaitsForTheReply(instrumented(ws, events)):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.close_timeout = 600.0  # only the client's reply can end this connection in time

    async with (
        serve(app, ws=WaitsForTheReply, http=http, lifespan="off", ws_max_queue=2) as running,
        raw_websocket(running) as client,
    ):
        client.writer.write(b"".join(frame(OP_BINARY, b"x" * MESSAGE) for _ in range(MESSAGES)))
        try:
            await asyncio.wait_for(events["read_paused"].wait(), 30)
        finally:
            close_now.set()
        close = await client.read_close()
        await client.send(frame(OP_CLOSE, close_payload(1000)))
        assert await client.at_eof()  # the server read our reply past the unread messages
    assert close.close_code == 1000


async def test_ws_max_queue_1_pauses_after_one_unread_message_until_the_app_closes(
    ws: type[Any], http: str
) -> None:
    # Upstream 0.55's websockets-sansio and wsproto pause reading after every message the
    # app has not taken, whatever ws_max_queue says; here ws_max_queue=1 does that.
    events = {"read_paused": asyncio.Event()}
    close_now = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await close_now.wait()
        await send({"type": "websocket.close", "code": 1000})  # the message stays unread

    async with (
        serve(app, ws=instrumented(ws, events), http=http, lifespan="off", ws_max_queue=1) as running,
        raw_websocket(running) as client,
    ):
        await client.send(frame(OP_TEXT, b"x"))
        try:
            await asyncio.wait_for(events["read_paused"].wait(), 30)
            protocol = only_connection(running)
            assert len(protocol.session.messages) == 1
            assert not protocol.transport.is_reading()
        finally:
            close_now.set()
        assert (await client.read_close()).close_code == 1000
        assert protocol.transport.is_reading()  # the close resumed reading, for the reply
        await client.send(frame(OP_CLOSE, close_payload(1000)))
        assert await client.at_eof()


async def test_send_waits_while_the_client_does_not_read(ws: type[Any], http: str) -> None:
    events = {"write_paused": asyncio.Event()}
    chunk = b"y" * 65536
    count = 200  # 12.5 MiB: more than the kernel buffers between us and the client
    progress = {"sent": 0, "largest_buffer": 0}
    holder: dict[str, RunningServer] = {}

    async def fast_app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        transport = only_connection(holder["running"]).transport
        for _ in range(count):
            await send({"type": "websocket.send", "bytes": chunk})
            progress["sent"] += 1
            progress["largest_buffer"] = max(progress["largest_buffer"], transport.get_write_buffer_size())
        await receive()

    async with serve(fast_app, ws=instrumented(ws, events), http=http, lifespan="off") as running:
        holder["running"] = running
        async with raw_websocket(running) as client:
            await asyncio.wait_for(events["write_paused"].wait(), 30)
            sent_when_paused = progress["sent"]
            payloads = [(await client.read_frame()).payload for _ in range(count)]
    assert sent_when_paused < count  # the app was held back...
    assert payloads == [chunk] * count  # ...and nothing was lost
    # Buffered: below the high-water mark plus the frame that crossed it (generously bounded).
    assert progress["largest_buffer"] <= 4 * 65536


async def test_a_client_that_does_not_read_cannot_make_the_server_queue_pongs(
    ws: type[Any], http: str
) -> None:
    events = {"write_paused": asyncio.Event(), "read_paused": asyncio.Event()}
    async with (
        serve(
            Recorder(), ws=instrumented(ws, events), http=http, lifespan="off", ws_ping_interval=None
        ) as running,
        raw_websocket(running) as client,
    ):
        # 32 MiB of pings, each asking for a 125-byte pong, and this client reads nothing.
        # (One mask for all: the server does not care, and masking each in Python is slow.)
        client.writer.write(frame(OP_PING, b"p" * 125) * 250_000)
        try:
            await asyncio.wait_for(events["read_paused"].wait(), 30)
            buffered = only_connection(running).transport.get_write_buffer_size()
        finally:
            client.writer.transport.abort()  # our own unsent pings must not hold the close
    assert events["write_paused"].is_set()  # reading stopped because the pongs could not leave
    # The pongs for one socket read (<= 256 KiB) beyond the high-water mark, not for all 32 MiB.
    assert buffered < 1024 * 1024
