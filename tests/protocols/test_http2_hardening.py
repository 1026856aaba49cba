"""HTTP/2 under hostile or broken clients: hand-built frames over real sockets, on both engines.

Each test sends the bad frames, checks the error the RFC (or the limit) calls
for, and that the server goes on serving a new connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.protocols.apps import Recorder, hello, send_response
from tests.protocols.h2_client import (
    CONTINUATION,
    ENHANCE_YOUR_CALM,
    GOAWAY,
    HEADERS,
    NO_ERROR,
    PING,
    PROTOCOL_ERROR,
    REFUSED_STREAM,
    RST_STREAM,
    SETTINGS,
    WINDOW_UPDATE,
    H2Client,
    RawH2,
    frame,
)
from tests.serving import RunningServer, serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT


@pytest.fixture(params=["zttp", "h2"])
def engine(request: pytest.FixtureRequest) -> str:
    pytest.importorskip(str(request.param))
    return str(request.param)


def options(engine: str, **extra: Any) -> dict[str, Any]:
    return {"http2": True, "http2_engine": engine, "lifespan": "off", **extra}


async def assert_still_serving(running: RunningServer) -> None:
    async with H2Client.connect(running) as client:
        response = await client.get("/")
    assert response.status == 200


class Holding:
    """Answers 200 once ``release`` is set; counts the requests it saw."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def __call__(self, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        self.started += 1
        if scope["path"] == "/hold":
            await self.release.wait()
        await send_response(send, 200, b"ok")


async def test_max_concurrent_streams_is_advertised_and_enforced(engine: str) -> None:
    app = Holding()
    async with (
        serve(app, **options(engine, http2_max_concurrent_streams=2)) as running,
        H2Client.connect(running) as client,
    ):
        assert (await client.settings())[3] == 2  # SETTINGS_MAX_CONCURRENT_STREAMS
        async with RawH2.connect(running) as raw:
            path = [(":method", "GET"), (":scheme", "http"), (":path", "/hold"), (":authority", "x")]
            await raw.send(raw.headers(1, path) + raw.headers(3, path) + raw.headers(5, path))
            refused = await raw.read_until(RST_STREAM)
            assert refused is not None
            assert (refused.stream_id, refused.error_code) == (5, REFUSED_STREAM)
            app.release.set()
        await assert_still_serving(running)
    assert app.started == 3  # two held streams and the check after: never the refused one


@pytest.mark.parametrize("frames", [100, 3], ids=["many-small-frames", "too-many-bytes"])
async def test_continuation_flood_ends_the_connection(engine: str, frames: int) -> None:
    app = Recorder()
    async with (
        serve(app, **options(engine, limit_request_head_size=8192)) as running,
        RawH2.connect(running) as raw,
    ):
        fragment = b"\x00" * (8 if frames > 10 else 4000)  # never a complete header block
        continuation = b"".join(frame(CONTINUATION, 0, 1, fragment) for _ in range(frames))
        await raw.send(raw.headers(1, end_headers=False) + continuation)
        assert await raw.goaway_and_close() == ENHANCE_YOUR_CALM
        await assert_still_serving(running)
    assert len(app.scopes) == 1  # only the check after the attack


async def test_rapid_reset_ends_the_connection_and_others_are_served(engine: str) -> None:
    app = Holding()
    async with (
        serve(app, **options(engine, http2_max_resets=10)) as running,
        H2Client.connect(running) as bystander,
    ):
        held = await bystander.send("GET", "/hold")
        async with RawH2.connect(running) as raw:
            attack = b"".join(
                raw.headers(stream_id, end_stream=False) + frame(RST_STREAM, 0, stream_id, bytes(4))
                for stream_id in range(1, 60, 2)
            )
            await raw.send(attack)
            assert await raw.goaway_and_close() == ENHANCE_YOUR_CALM
        app.release.set()
        assert (await bystander.response(held)).status == 200
        await assert_still_serving(running)


@pytest.mark.parametrize("frame_type", [PING, SETTINGS], ids=["ping", "settings"])
async def test_ping_and_settings_floods_end_the_connection(engine: str, frame_type: int) -> None:
    async with (
        serve(hello, **options(engine, http2_max_control_frames=20)) as running,
        RawH2.connect(running) as raw,
    ):
        payload = b"12345678" if frame_type == PING else b""
        await raw.send(b"".join(frame(frame_type, 0, 0, payload) for _ in range(200)))
        assert await raw.goaway_and_close() == ENHANCE_YOUR_CALM
        replies = [f for f in raw.frames if f.type == frame_type and f.flags & 1]
        assert len(replies) <= 21  # bounded: the flood was not answered frame for frame
        await assert_still_serving(running)


@pytest.mark.parametrize(
    "extra",
    [
        [("X-Upper", "1")],
        [("connection", "keep-alive")],
        [("te", "gzip")],
        [(":unknown", "1")],
    ],
    ids=["uppercase-name", "connection-specific", "te-not-trailers", "unknown-pseudo-header"],
)
async def test_malformed_headers_reset_the_stream_before_the_app(
    engine: str, extra: list[tuple[str, str]]
) -> None:
    app = Recorder()
    async with (
        serve(app, **options(engine)) as running,
        RawH2.connect(running) as raw,
    ):
        await raw.send(raw.headers(1, extra=extra))
        reset = await raw.read_until(RST_STREAM)
        assert reset is not None and reset.error_code == PROTOCOL_ERROR
        await assert_still_serving(running)
    assert len(app.scopes) == 1  # only the check after


async def test_missing_path_and_misplaced_pseudo_header(engine: str) -> None:
    app = Recorder()
    async with (
        serve(app, **options(engine)) as running,
        RawH2.connect(running) as raw,
    ):
        await raw.send(raw.headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "x")]))
        misplaced = [(":method", "GET"), (":scheme", "http"), ("a", "b"), (":path", "/")]
        await raw.send(raw.headers(3, misplaced))
        codes = {}
        while len(codes) < 2:
            found = await raw.read_until(RST_STREAM)
            assert found is not None, "the server closed instead of resetting the stream"
            codes[found.stream_id] = found.error_code
        assert codes == {1: PROTOCOL_ERROR, 3: PROTOCOL_ERROR}
        await assert_still_serving(running)
    assert len(app.scopes) == 1


@pytest.mark.parametrize("sent", [b"hello", b"h"], ids=["more-than-declared", "less-than-declared"])
async def test_content_length_must_match_the_data(engine: str, sent: bytes) -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        while True:
            message = dict(await receive())
            seen.append(message)
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        if seen[-1]["type"] != "http.disconnect":
            await send_response(send, 200, b"read it all")

    post = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "x"),
        ("content-length", "3"),
    ]
    async with serve(app, **options(engine)) as running, RawH2.connect(running) as raw:
        await raw.send(raw.headers(1, post, end_stream=False) + frame(0, 1, 1, sent))
        # A stream error; the h2 library makes it a connection error, which RFC 9113 5.4.1 allows.
        error = await raw.read_frame()
        while error is not None and error.type not in (RST_STREAM, GOAWAY):
            error = await raw.read_frame()
        assert error is not None and error.error_code == PROTOCOL_ERROR
    # The app never got a complete body: at most the bytes within the declared length, then a disconnect.
    assert all(len(message.get("body", b"")) <= 3 for message in seen)
    assert not any(message.get("more_body") is False for message in seen if message["type"] == "http.request")


async def test_extended_connect_for_another_protocol_is_refused(engine: str) -> None:
    """Only ``:protocol websocket`` is served (RFC 8441); anything else is malformed here."""
    app = Recorder()
    async with serve(app, **options(engine)) as running, RawH2.connect(running) as raw:
        tunnel = [(":method", "CONNECT"), (":protocol", "something-else"), (":scheme", "http")]
        tunnel += [(":path", "/"), (":authority", "x")]
        await raw.send(raw.headers(1, tunnel, end_stream=False))
        reset = await raw.read_until(RST_STREAM)
        assert reset is not None and reset.error_code == PROTOCOL_ERROR
    assert app.scopes == []


async def test_non_ascii_path_resets_the_stream(engine: str) -> None:
    app = Recorder()
    async with serve(app, **options(engine)) as running, RawH2.connect(running) as raw:
        raw_path = [(":method", "GET"), (":scheme", "http"), (":path", "/caf\u00e9"), (":authority", "x")]
        await raw.send(raw.headers(1, raw_path))
        reset = await raw.read_until(RST_STREAM)
        assert reset is not None and reset.error_code == PROTOCOL_ERROR
    assert app.scopes == []


async def test_too_many_header_fields_get_431_on_the_stream(engine: str) -> None:
    app = Recorder()
    async with (
        serve(app, **options(engine, limit_request_fields=5)) as running,
        H2Client.connect(running) as client,
    ):
        many = await client.get("/", headers=[(f"x-{index}", "1") for index in range(10)])
        fine = await client.get("/")  # the same connection goes on
    assert many.status == 431
    assert fine.status == 200
    assert len(app.scopes) == 1


async def test_idle_connection_gets_goaway_then_close(engine: str) -> None:
    async with (
        serve(hello, **options(engine, timeout_keep_alive=1)) as running,
        RawH2.connect(running) as raw,
    ):
        assert await raw.goaway_and_close() == NO_ERROR


async def test_incomplete_header_block_times_out(engine: str) -> None:
    app = Recorder()
    async with (
        serve(app, **options(engine, timeout_request_head=1, timeout_keep_alive=60)) as running,
        RawH2.connect(running) as raw,
    ):
        await raw.send(raw.headers(1, end_headers=False))  # and never the CONTINUATION
        assert await raw.goaway_and_close() == PROTOCOL_ERROR
    assert app.scopes == []


async def test_zero_window_client_makes_send_wait(engine: str) -> None:
    sent = 0
    chunk = b"x" * 16384

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        nonlocal sent
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(64):  # 1 MiB against a window of 0
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            sent += 1
        await send({"type": "http.response.body", "body": b""})

    async with serve(app, **options(engine)) as running, H2Client.connect(running, window=0) as client:
        stream_id = await client.send("GET", "/")
        while not client.responses[stream_id].status:
            assert await client.read_events(), "the server closed"
        for _ in range(5):  # round trips: the server has run the app's task meanwhile
            client.conn.ping(b"12345678")
            await client.flush()
            while not any(type(e).__name__ == "PingAckReceived" for e in await client.read_events()):
                pass
        blocked_at = sent
        client.conn.increment_flow_control_window(1 << 24)
        client.conn.increment_flow_control_window(1 << 24, stream_id)
        client.auto_acknowledge = True
        await client.flush()
        response = await client.response(stream_id)
    assert blocked_at <= 1  # the first message is written; the next send waits for window
    assert len(response.body) == 64 * len(chunk)


async def test_request_body_credit_follows_the_app(engine: str) -> None:
    reading = asyncio.Event()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        total = len((await receive())["body"])
        await reading.wait()
        more = True
        while more:
            message = await receive()
            total += len(message["body"])
            more = message["more_body"]
        await send_response(send, 200, b"%d" % total)

    payload = b"u" * (4 << 20)
    async with serve(app, **options(engine)) as running, H2Client.connect(running) as client:
        stream_id = await client.send("POST", "/", end=False)
        upload = asyncio.create_task(client.send_body(stream_id, payload))
        while True:  # until the server stops giving credit (h2) or stops reading (zttp)
            connections = running.server.server_state.connections
            protocol: Any = next((c for c in connections if hasattr(c, "streams")), None)
            stream = protocol.streams.get(stream_id) if protocol is not None else None
            if stream is not None and (stream.unacknowledged or protocol.flow.read_paused):
                break
            await asyncio.sleep(0.01)
        held = stream.cycle.buffered
        assert not upload.done()  # the client is held back while the app does not read
        reading.set()
        await upload
        response = await client.response(stream_id)
    assert response.body == b"%d" % len(payload)
    assert held <= HIGH_WATER_LIMIT + 65536 + 16384  # the app's buffer, one window and a frame


async def test_graceful_shutdown_sends_goaway_and_drains(engine: str) -> None:
    app = Holding()
    async with serve(app, **options(engine)) as running, RawH2.connect(running) as raw:
        hold = [(":method", "GET"), (":scheme", "http"), (":path", "/hold"), (":authority", "x")]
        await raw.send(raw.headers(1, hold))
        while app.started == 0:
            await asyncio.sleep(0)
        for connection in list(running.server.server_state.connections):
            connection.shutdown()  # type: ignore[attr-defined]
        goaway = await raw.read_until(GOAWAY)
        assert goaway is not None and goaway.error_code == NO_ERROR
        assert int.from_bytes(goaway.payload[:4], "big") == 1  # the last stream it will answer
        await raw.send(raw.headers(3))  # too late: never processed, safe to retry elsewhere
        app.release.set()
        while await raw.read_frame() is not None:  # the server answers stream 1, then closes
            pass
    answered = [f.stream_id for f in raw.frames if f.type == HEADERS]
    assert answered == [1]
    # Stream 3 is past the GOAWAY's last stream: ignored (RFC 9113 6.8) or refused, never served.
    assert all(f.error_code == REFUSED_STREAM for f in raw.frames if f.type == RST_STREAM)
    assert app.started == 1


async def test_window_update_overflow_is_a_connection_error(engine: str) -> None:
    async with (
        serve(hello, **options(engine)) as running,
        RawH2.connect(running) as raw,
    ):
        await raw.send(frame(WINDOW_UPDATE, 0, 0, (2**31 - 1).to_bytes(4, "big")))
        assert await raw.goaway_and_close() != NO_ERROR
        await assert_still_serving(running)


async def test_refused_stream_logs_upstreams_words_then_the_reason(
    engine: str, caplog: pytest.LogCaptureFixture
) -> None:
    """As on HTTP/1.1: ``Invalid HTTP request received.``, then what was answered and why, once."""
    async with serve(hello, **options(engine)) as running, H2Client.connect(running) as client:
        response = await client.get("nowhere")
    assert response.status == 400
    [message] = [message for message in caplog.messages if "Invalid HTTP request" in message]
    assert message == "Invalid HTTP request received. Answered 400: unsupported request target."
