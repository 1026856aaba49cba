"""Frames a client must never send, and messages over ``ws_max_size``, from a raw socket.

Every implementation must answer with an RFC 6455 close frame carrying the right
code (1002 protocol error, 1007 invalid UTF-8, 1009 too big), keep reading until
the client's close frame comes back, then end the TCP stream, and tell the app
with a ``websocket.disconnect`` holding that code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from tests.protocols.test_websocket_support import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_TEXT,
    Recorder,
    close_payload,
    frame,
    raw_websocket,
)
from tests.serving import serve

MAX_SIZE = 1024

BAD_FRAMES = {
    "unmasked": (frame(OP_TEXT, b"hi", mask=False), 1002),
    "reserved-opcode": (frame(0x3, b"x"), 1002),
    "reserved-control-opcode": (frame(0xB, b"x"), 1002),
    "rsv1-without-extension": (frame(OP_TEXT, b"hi", rsv=0b100), 1002),
    "rsv2": (frame(OP_TEXT, b"hi", rsv=0b010), 1002),
    "rsv3": (frame(OP_BINARY, b"hi", rsv=0b001), 1002),
    "fragmented-ping": (frame(OP_PING, b"x", fin=False), 1002),
    "ping-over-125-bytes": (frame(OP_PING, b"x" * 126), 1002),
    "continuation-without-start": (frame(OP_CONT, b"x"), 1002),
    "new-message-inside-fragmented-one": (frame(OP_TEXT, b"a", fin=False) + frame(OP_TEXT, b"b"), 1002),
    "close-with-reserved-code-1005": (frame(OP_CLOSE, close_payload(1005)), 1002),
    "close-with-code-999": (frame(OP_CLOSE, close_payload(999)), 1002),
    "close-with-1-byte-payload": (frame(OP_CLOSE, b"\x03"), 1002),
    "text-not-utf8": (frame(OP_TEXT, b"\xff\xfe"), 1007),
    "text-not-utf8-across-fragments": (frame(OP_TEXT, b"a", fin=False) + frame(OP_CONT, b"\xc3"), 1007),
    "close-reason-not-utf8": (frame(OP_CLOSE, close_payload(1000, b"\xff")), 1007),
    "binary-over-max-size": (frame(OP_BINARY, b"x" * (MAX_SIZE + 1)), 1009),
    "fragments-over-max-size": (frame(OP_BINARY, b"x" * 600, fin=False) + frame(OP_CONT, b"x" * 600), 1009),
    # 600 characters, 1200 bytes: the limit counts bytes.
    "text-over-max-size-in-bytes": (frame(OP_TEXT, "é".encode() * 600), 1009),
    # A frame announcing 10x the limit, cut short: the websockets implementations refuse
    # it from its header, wsproto (which does not expose it) once the bytes pass the limit.
    "declared-length-over-max-size": (
        frame(OP_BINARY, b"x" * 10 * MAX_SIZE)[: 2 + 8 + 4 + MAX_SIZE + 1],
        1009,
    ),
}


@pytest.mark.parametrize(("data", "code"), list(BAD_FRAMES.values()), ids=list(BAD_FRAMES))
async def test_protocol_errors_close_with_the_rfc_code(
    ws: type[Any], http: str, data: bytes, code: int
) -> None:
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off", ws_max_size=MAX_SIZE) as running,
        raw_websocket(running) as client,
    ):
        assert client.response.status == 101
        await client.send(frame(OP_TEXT, b"fine"))
        assert (await client.read_frame()).payload == b"fine"
        await client.send(data)
        close = await client.read_close()
        assert close.close_code == code
        await client.send(frame(OP_CLOSE, close_payload(code)))  # the client's reply
        if data is BAD_FRAMES["declared-length-over-max-size"][0]:
            client.writer.write_eof()  # the rest of that frame never comes: the client ends its stream
        assert await client.at_eof()  # then the server ends the TCP stream
        await asyncio.wait_for(app.done.wait(), 30)
    assert app.disconnect["code"] == code
    assert type(app.disconnect["code"]) is int  # not a library's enum member
    assert app.disconnect["reason"] == close.close_reason


async def test_a_message_of_exactly_max_size_is_fine(ws: type[Any], http: str) -> None:
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off", ws_max_size=MAX_SIZE) as running,
        raw_websocket(running) as client,
    ):
        await client.send(frame(OP_TEXT, "é".encode() * (MAX_SIZE // 2)))
        echo = await client.read_frame()
        await client.send(
            frame(OP_BINARY, b"x" * (MAX_SIZE // 2), fin=False) + frame(OP_CONT, b"y" * (MAX_SIZE // 2))
        )
        echo_fragmented = await client.read_frame()
    assert echo.payload == "é".encode() * (MAX_SIZE // 2)
    assert echo_fragmented.payload == b"x" * (MAX_SIZE // 2) + b"y" * (MAX_SIZE // 2)


@pytest.mark.parametrize("compression", ["deflate", None])
async def test_a_ping_between_fragments_may_be_longer_than_what_is_left_of_the_limit(
    ws: type[Any], http: str, compression: str | None
) -> None:
    # The websockets library counted the ping against what was left of the message's limit
    # (32 bytes, less than the ping) and failed the connection with 1009 (websockets_codec.py).
    # wsproto's permessage-deflate took the ping for the end of the compressed message, and
    # handed on the rest still compressed (wsproto_codec.py).
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off", ws_max_size=MAX_SIZE) as running,
        connect(running.ws_url, compression=compression) as client,
    ):
        pongs: list[asyncio.Future[float]] = []

        async def fragments() -> AsyncIterator[bytes]:
            yield b"x" * (MAX_SIZE - 32)
            pongs.append(await client.ping(b"p" * 40))
            yield b"y" * 16
            # The client ends with an empty fragment, which compressed takes a byte or two:
            # the websockets library checks a compressed frame's size against what is left
            # of the limit too, so a compressed message is kept a little under it.

        await client.send(fragments())
        assert await client.recv() == b"x" * (MAX_SIZE - 32) + b"y" * 16
        await asyncio.wait_for(pongs[0], 30)
    assert [m["type"] for m in app.messages][:2] == ["websocket.connect", "websocket.receive"]


async def test_nothing_is_read_after_a_protocol_error(ws: type[Any], http: str) -> None:
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off") as running,
        raw_websocket(running) as client,
    ):
        await client.send(frame(OP_TEXT, b"hi", mask=False) + frame(OP_TEXT, b"after"))
        assert (await client.read_close()).close_code == 1002
        await client.send(frame(OP_CLOSE, close_payload(1002)))
        assert await client.at_eof()
        await asyncio.wait_for(app.done.wait(), 30)
    assert [m["type"] for m in app.messages] == ["websocket.connect", "websocket.disconnect"]


async def test_max_size_counts_decompressed_bytes(ws: type[Any], http: str) -> None:
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off", ws_max_size=1024 * 1024) as running,
        connect(running.ws_url, max_size=None) as client,  # offers permessage-deflate
    ):
        assert [extension.name for extension in client.protocol.extensions] == ["permessage-deflate"]
        await client.send(b"\0" * 1024 * 1024)  # a few KiB on the wire, exactly the limit inflated
        assert await client.recv() == b"\0" * 1024 * 1024
        with pytest.raises(ConnectionClosedError) as closed:
            await client.send(b"\0" * 50 * 1024 * 1024)  # 50 MiB inflated: refused, not buffered
            await client.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


async def test_the_close_frame_reaches_a_client_that_is_still_sending(ws: type[Any], http: str) -> None:
    # The server refuses this 8 MiB message early, while most of it is still on its way:
    # its close frame must not be lost to a connection reset, and it reads on, past the
    # rest of the message, until the client's close frame; then it ends the stream.
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off", ws_max_size=MAX_SIZE) as running,
        raw_websocket(running) as client,
    ):
        (protocol,) = running.server.server_state.connections
        protocol.close_timeout = 3600  # only the client's close frame can end it within the test
        client.writer.write(frame(OP_BINARY, b"x" * 8 * 1024 * 1024))
        close = await client.read_close()
        await client.send(frame(OP_CLOSE, close_payload(1009)))
        assert await client.at_eof()
        await asyncio.wait_for(app.done.wait(), 30)
    assert close.close_code == 1009
    assert app.disconnect["code"] == 1009


async def test_a_real_client_sending_too_much_gets_1009_without_a_reset(ws: type[Any], http: str) -> None:
    # The websockets client is still writing its message when the 1009 arrives: the server
    # reads on until its close frame, so the client sees a clean closing handshake.
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off", ws_max_size=MAX_SIZE) as running,
        connect(running.ws_url, max_size=None, compression=None) as client,
    ):
        with pytest.raises(ConnectionClosedError) as closed:
            await client.send(b"x" * 4 * 1024 * 1024)
            await client.recv()
        await asyncio.wait_for(app.done.wait(), 30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert closed.value.sent is not None and closed.value.sent.code == 1009  # the client replied
    assert app.disconnect["code"] == 1009
