"""Refusing a WebSocket, and ending one, as upstream uvicorn 0.55 does (issue 12).

Every implementation over both HTTP parsers: requests the websockets library could
not parse get 400/414/431; an HTTP/1.0 upgrade is refused with its real version
kept; a rejected handshake leaves the app a 1006 that shutdown does not turn into
1012; the library's own log lines appear exactly where upstream writes them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from tests.protocols.test_websocket_support import (
    IMPLEMENTATIONS,
    OP_BINARY,
    OP_CLOSE,
    close_payload,
    frame,
    handshake_request,
    instrumented,
    raw_websocket,
)
from tests.serving import RunningServer, serve

BASE_HEADERS = [
    ("Host", "example.org"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-WebSocket-Version", "13"),
]


async def never_called(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the app must not run for a refused handshake")


def only_connection(running: RunningServer) -> Any:
    (protocol,) = running.server.server_state.connections
    return protocol


# ---------------------------------------------------------------- requests websockets cannot parse

UNPARSEABLE = {
    "header-line-over-8-KiB": ("/", [*BASE_HEADERS, ("Cookie", "x" * 9000)], 431),
    "more-than-128-headers": ("/", [*BASE_HEADERS, *((f"X-{n}", "y") for n in range(130))], 431),
    "request-line-over-8-KiB": ("/" + "a" * 9000, BASE_HEADERS, 414),
    "a-body": ("/", [*BASE_HEADERS, ("Content-Length", "5")], 400),
    "a-chunked-body": ("/", [*BASE_HEADERS, ("Transfer-Encoding", "chunked")], 400),
}


@pytest.mark.parametrize(("path", "headers", "status"), list(UNPARSEABLE.values()), ids=list(UNPARSEABLE))
async def test_unparseable_handshakes_get_the_librarys_status(
    ws: type[Any], http: str, path: str, headers: list[tuple[str, str]], status: int
) -> None:
    if http == "zttp" and len(headers) > 100:
        pytest.skip("zttp refuses a head of over 100 fields itself (431), before the WebSocket library")
    options = {"limit_request_line": 20000, "limit_request_fields": 200}  # past the HTTP limits
    async with (
        serve(never_called, ws=ws, http=http, lifespan="off", **options) as running,
        raw_websocket(running, handshake_request(path, headers)) as client,
    ):
        response = client.response
    assert response.status == status
    assert response.header("connection") == "close"
    assert response.body.startswith(b"Failed to open a WebSocket connection")


@pytest.mark.parametrize(("path", "headers", "status"), list(UNPARSEABLE.values()), ids=list(UNPARSEABLE))
async def test_unparseable_handshakes_fed_as_raw_bytes(
    ws: type[Any], path: str, headers: list[tuple[str, str]], status: int
) -> None:
    # A WebSocket protocol driven as a plain asyncio.Protocol (no HTTP protocol in front).
    async with (
        serve(never_called, http=ws, ws=ws, lifespan="off") as running,
        raw_websocket(running, handshake_request(path, headers)) as client,
    ):
        assert client.response.status == status


async def test_a_raw_fed_handshake_still_works(ws: type[Any]) -> None:
    async def echo(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "bytes": message["bytes"]})
        await receive()

    async with (
        serve(echo, http=ws, ws=ws, lifespan="off") as running,
        raw_websocket(running, after_request=frame(OP_BINARY, b"early")) as client,
    ):
        assert client.response.status == 101
        assert (await client.read_frame()).payload == b"early"


async def test_the_librarys_lines_for_an_unparseable_request(
    ws: type[Any], http: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "uvicorn.error")
    request = handshake_request("/", [*BASE_HEADERS, ("Cookie", "x" * 9000)])
    async with serve(never_called, ws=ws, http=http, lifespan="off") as running:
        async with raw_websocket(running, request) as client:
            assert client.response.status == 431
        async with raw_websocket(running, handshake_request("/", [*BASE_HEADERS, ("Content-Length", "5")])):
            pass
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.error"]
    sent = "HTTP response sent (431 Request Header Fields Too Large)"
    assert (sent in lines) == (ws is not IMPLEMENTATIONS["wsproto"])
    assert not any(line.startswith("connection rejected") for line in lines if "400" in line)


# ---------------------------------------------------------------- HTTP/1.0


async def test_an_http_1_0_upgrade_is_refused(ws: type[Any], http: str) -> None:
    request = handshake_request("/", BASE_HEADERS).replace(b" HTTP/1.1\r\n", b" HTTP/1.0\r\n", 1)
    async with (
        serve(never_called, ws=ws, http=http, lifespan="off") as running,
        raw_websocket(running, request) as client,
    ):
        response = client.response
    assert response.status == 400
    assert response.body == b"WebSocket handshake requests must use HTTP/1.1."


class RecordingProtocol:
    """A third-party WebSocket protocol class: only bytes, through data_received."""

    received: list[tuple[bytes, object]] = []

    def __init__(self, config: Any, server_state: Any, app_state: Any, _loop: Any = None) -> None:
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        # Which protocol the transport talks to when the first bytes arrive.
        RecordingProtocol.received.append((data, self.transport.get_protocol()))
        self.transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        self.transport.close()

    def connection_lost(self, exc: object) -> None:
        pass


async def test_a_bytes_only_protocol_gets_the_real_version_after_the_switch(http: str) -> None:
    RecordingProtocol.received = []
    request = handshake_request("/", BASE_HEADERS).replace(b" HTTP/1.1\r\n", b" HTTP/1.0\r\n", 1)
    async with (
        serve(never_called, ws=RecordingProtocol, http=http, lifespan="off") as running,
        raw_websocket(running, request, after_request=b"\x81\x00") as client,
    ):
        assert client.response.status == 400
    ((data, talking_to),) = RecordingProtocol.received
    assert data.startswith(b"GET / HTTP/1.0\r\n")
    assert data.endswith(b"\r\n\r\n\x81\x00")
    assert isinstance(talking_to, RecordingProtocol)  # the switch came first


async def test_our_protocols_get_the_parsed_request_after_the_switch(ws: type[Any], http: str) -> None:
    seen: list[tuple[str, object]] = []

    class Recording(ws):  # type: ignore[misc, valid-type]
        def receive_upgrade(
            self, method: str, target: bytes, version: str, headers: Any, trailing: bytes
        ) -> None:
            seen.append((version, self.transport.get_protocol()))
            super().receive_upgrade(method, target, version, headers, trailing)

    async def accept(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    async with (
        serve(accept, ws=Recording, http=http, lifespan="off") as running,
        raw_websocket(running) as client,
    ):
        assert client.response.status == 101
    ((version, talking_to),) = seen
    assert version == "1.1"
    assert isinstance(talking_to, Recording)


# ---------------------------------------------------------------- after a rejection


@pytest.mark.parametrize("refusal", ["close", "denial"])
async def test_a_rejection_leaves_1006_that_shutdown_does_not_change(
    ws: type[Any], http: str, refusal: str
) -> None:
    refused, may_receive = asyncio.Event(), asyncio.Event()
    received: list[Any] = []
    protocols: list[Any] = []

    class Remembered(ws):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            protocols.append(self)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if refusal == "close":
            await send({"type": "websocket.close"})
        else:
            await send({"type": "websocket.http.response.start", "status": 401, "headers": []})
            await send({"type": "websocket.http.response.body", "body": b"no"})
        refused.set()
        await may_receive.wait()
        received.append(await receive())
        received.append(await receive())

    async with serve(app, ws=Remembered, http=http, lifespan="off") as running:
        async with raw_websocket(running) as client:
            response = client.response
        await refused.wait()
        (protocol,) = protocols
        protocol.shutdown()  # what graceful shutdown calls: the session is over already
        may_receive.set()
    assert response.status == (403 if refusal == "close" else 401)
    assert received == [{"type": "websocket.disconnect", "code": 1006}] * 2


@pytest.mark.parametrize("refusal", ["close", "denial", "error"])
async def test_the_librarys_rejection_line(
    ws: type[Any], http: str, refusal: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "uvicorn.error")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if refusal == "close":
            await send({"type": "websocket.close"})
        elif refusal == "denial":
            await send({"type": "websocket.http.response.start", "status": 401, "headers": []})
            await send({"type": "websocket.http.response.body", "body": b"no"})
        else:
            raise RuntimeError("boom")

    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running):
        pass
    expected = {
        "close": "connection rejected (403 Forbidden)",
        "denial": "connection rejected (401 Unauthorized)",
        "error": "connection rejected (500 Internal Server Error)",
    }[refusal]
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.error"]
    assert lines.count(expected) == (0 if ws is IMPLEMENTATIONS["wsproto"] else 1)
    assert "connection open" not in lines


# ---------------------------------------------------------------- closing while reading is paused


async def test_shutdown_while_reading_is_paused_reads_the_reply(ws: type[Any], http: str) -> None:
    events = {"read_paused": asyncio.Event()}
    app_done = asyncio.Event()

    async def app_that_does_not_read(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await app_done.wait()

    async with (
        serve(
            app_that_does_not_read, ws=instrumented(ws, events), http=http, lifespan="off", ws_max_queue=2
        ) as running,
        raw_websocket(running) as client,
    ):
        protocol = only_connection(running)
        protocol.close_timeout = 3600  # only the client's reply can end it within the test
        client.writer.write(b"".join(frame(OP_BINARY, b"x" * 1024) for _ in range(64)))
        await asyncio.wait_for(events["read_paused"].wait(), 30)
        protocol.shutdown()
        close = await client.read_close()
        await client.send(frame(OP_CLOSE, close_payload(1012)))  # behind 64 messages it had not read
        assert await client.at_eof()
        app_done.set()
    assert close.close_code == 1012
