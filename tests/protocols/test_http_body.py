"""Request bodies in, response bodies out: streaming, framing, 100-continue and HEAD."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.protocols.apps import Recorder, StreamingReader, hello, read_body, send_response
from tests.protocols.raw_http import SIMPLE_GET, RawClient, request
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope

# ---------------------------------------------------------------- request bodies


async def test_content_length_body_streams_as_it_arrives(http: str) -> None:
    app = StreamingReader()
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request("POST", "/", headers=[("Host", "x"), ("Content-Length", "11")]) + b"hello")
        assert await app.messages.get() == {"type": "http.request", "body": b"hello", "more_body": True}
        await client.send(b" world")
        assert await app.messages.get() == {"type": "http.request", "body": b" world", "more_body": False}
        response = await client.read_response()
    assert response.body == b"11"


async def test_chunked_body_streams_as_it_arrives(http: str) -> None:
    app = StreamingReader()
    head = request("POST", "/", headers=[("Host", "x"), ("Transfer-Encoding", "chunked")])
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(head + b"5\r\nhello\r\n")
        assert await app.messages.get() == {"type": "http.request", "body": b"hello", "more_body": True}
        await client.send(b"6\r\n world\r\n")
        assert await app.messages.get() == {"type": "http.request", "body": b" world", "more_body": True}
        await client.send(b"0\r\n\r\n")
        assert await app.messages.get() == {"type": "http.request", "body": b"", "more_body": False}
        response = await client.read_response()
    assert response.body == b"11"


async def test_request_without_body(http: str) -> None:
    app = Recorder()
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        await client.read_response()
    assert app.messages == [[{"type": "http.request", "body": b"", "more_body": False}]]


async def test_chunked_body_with_trailers(http: str) -> None:
    app = Recorder()
    body = b"4\r\nabcd\r\n0\r\nX-Checksum: 1234\r\n\r\n"
    head = request("POST", "/", headers=[("Host", "x"), ("Transfer-Encoding", "chunked")])
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(head + body + SIMPLE_GET)
        assert (await client.read_response()).status == 200
        assert (await client.read_response()).status == 200  # the trailers were not taken as a request
    assert app.bodies == [b"abcd", b""]


async def test_large_upload_arrives_whole(http: str) -> None:
    app = Recorder()
    payload = os.urandom(3 * 1024 * 1024)

    async def in_two_parts() -> AsyncIterator[bytes]:
        yield payload[:1000]
        yield payload[1000:]

    async with serve(app, http=http, lifespan="off") as running, httpx.AsyncClient() as client:
        response = await client.post(running.url, content=payload)
        chunked_response = await client.post(running.url, content=in_two_parts())
    assert response.status_code == chunked_response.status_code == 200
    assert app.bodies == [payload, payload]
    assert len(app.messages[0]) > 1  # streamed in pieces, not buffered whole


async def test_receive_after_the_response_gets_disconnect(http: str) -> None:
    after: list[Any] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await read_body(receive)
        await send_response(send, 204)
        after.append(await receive())

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request("POST", "/", body=b"data"))
        assert (await client.read_response()).status == 204
        await client.send(request("POST", "/", body=b"more"))  # the connection stays usable
        assert (await client.read_response()).status == 204
    assert after == [{"type": "http.disconnect"}] * 2


async def test_response_before_the_body_is_read_keeps_the_connection(http: str) -> None:
    """The app answers without reading a large upload: the rest of it is skipped, not misread."""
    async with serve(hello, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        body = b"x" * (1024 * 1024)
        head = request("POST", "/", headers=[("Host", "x"), ("Content-Length", str(len(body)))])
        await client.send(head + body[:1000])
        response = await client.read_response()
        assert response.status == 200
        await client.send(body[1000:])
        await client.send(SIMPLE_GET)
        response = await client.read_response()
        assert (response.status, response.body) == (200, b"Hello, world")


# ---------------------------------------------------------------- Expect: 100-continue

EXPECT_HEAD = request(
    "POST", "/", headers=[("Host", "x"), ("Expect", "100-continue"), ("Content-Length", "18")]
)


async def test_100_continue_is_sent_when_the_app_reads(http: str) -> None:
    app = Recorder()
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(EXPECT_HEAD)
        interim = await client.read_response()
        assert interim.status_line == b"HTTP/1.1 100 Continue"
        assert interim.headers == []
        await client.send(b'{"hello": "world"}')
        response = await client.read_response()
    assert response.status == 200
    assert app.bodies == [b'{"hello": "world"}']


async def test_100_continue_is_not_sent_when_the_app_answers_without_reading(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send_response(send, 417, b"no thanks")

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(EXPECT_HEAD)
        response = await client.read_response()
        assert response.status_line == b"HTTP/1.1 417 Expectation Failed"
        # The client may still send the body it announced; the connection goes on after it.
        await client.send(b'{"hello": "world"}' + SIMPLE_GET)
        assert (await client.read_response()).status == 417


async def test_no_100_continue_inside_a_started_response(http: str) -> None:
    """An app that calls receive() after starting its response (a disconnect watcher)."""

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
        await send({"type": "http.response.body", "body": b"ab", "more_body": True})
        message = await receive()  # the body the client announced
        assert message["type"] == "http.request"
        await send({"type": "http.response.body", "body": b"cde"})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(EXPECT_HEAD)
        await client.send(b'{"hello": "world"}')
        response = await client.read_response()
    assert response.status_line == b"HTTP/1.1 200 OK"
    assert response.body == b"abcde"


# ---------------------------------------------------------------- response framing


async def test_single_body_message_gets_content_length(http: str) -> None:
    async with serve(hello, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        response = await client.read_response()
    assert response.status_line == b"HTTP/1.1 200 OK"
    assert response.header(b"content-length") == b"12"
    assert response.header(b"transfer-encoding") is None
    assert response.body == b"Hello, world"


async def test_body_without_headers_gets_content_length(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"abc"})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        response = await client.read_response()
    assert response.header(b"content-length") == b"3"
    assert response.body == b"abc"


async def streamed(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """Three body parts then an empty last message, no content-length."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    for part in (b"one,", b"two,", b"three"):
        await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def test_streamed_body_is_chunked(http: str) -> None:
    async with serve(streamed, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET + SIMPLE_GET)
        first = await client.read_response()
        second = await client.read_response()  # the framing ended the first body exactly
    for response in (first, second):
        assert response.chunked
        assert response.header(b"content-length") is None
        assert response.body == b"one,two,three"


async def test_streamed_body_to_http_1_0_client_ends_with_the_connection(http: str) -> None:
    async with serve(streamed, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(b"GET / HTTP/1.0\r\n\r\n")
        response = await client.read_response()
    assert not response.chunked
    assert response.header(b"connection") == b"close"
    assert response.body == b"one,two,three"


async def test_streamed_body_with_app_content_length(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"6")]})
        await send({"type": "http.response.body", "body": b"abc", "more_body": True})
        await send({"type": "http.response.body", "body": b"def"})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET + SIMPLE_GET)
        first = await client.read_response()
        second = await client.read_response()
    for response in (first, second):
        assert not response.chunked
        assert response.header(b"content-length") == b"6"
        assert response.body == b"abcdef"


async def test_a_streamed_piece_reaches_the_client_before_the_app_waits_on_it(http: str) -> None:
    """Pieces of a stream are held only until the app yields: a client can answer each one."""
    acknowledged = asyncio.Event()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
        await send({"type": "http.response.body", "body": b"event-one\n", "more_body": True})
        await acknowledged.wait()  # set by the test only once it has read the piece
        await send({"type": "http.response.body", "body": b""})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        status_line, _ = await client.read_head()
        assert status_line == b"HTTP/1.1 200 OK"
        assert await client._bounded(client.reader.readexactly(10)) == b"event-one\n"
        acknowledged.set()
        await client.send(SIMPLE_GET)  # the response ended; the connection serves the next one
        status_line, _ = await client.read_head()
        assert status_line == b"HTTP/1.1 200 OK"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_large_streamed_body_arrives_whole_and_in_order(http: str, framing: str) -> None:
    pieces = [bytes([index % 251]) * 65536 for index in range(40)]  # 2.5 MiB, several write batches
    headers = [(b"content-length", b"%d" % sum(map(len, pieces)))] if framing == "content-length" else []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for index, piece in enumerate(pieces):
            await send({"type": "http.response.body", "body": piece, "more_body": index < len(pieces) - 1})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET + SIMPLE_GET)
        first = await client.read_response()
        second = await client.read_response()  # the next response starts right after the last piece
    for response in (first, second):
        assert response.chunked == (framing == "chunked")
        assert response.body == b"".join(pieces)


async def test_what_was_streamed_before_an_app_error_still_reaches_the_client(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"partial;", "more_body": True})
        await send({"type": "http.response.body", "body": b"more;", "more_body": True})
        raise RuntimeError("the app broke mid-stream")

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        status_line, _ = await client.read_head()
        rest = await client.read_until_closed()  # closed: the body can never be completed
    assert status_line == b"HTTP/1.1 200 OK"
    assert rest == b"8\r\npartial;\r\n5\r\nmore;\r\n"


async def test_app_asking_for_chunked_gets_chunked(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        headers = [(b"transfer-encoding", b"chunked")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"whole body"})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        response = await client.read_response()
    assert response.chunked
    assert response.header_list(b"transfer-encoding") == [b"chunked"]
    assert response.body == b"whole body"


HEADER_ORDER_CASES = {
    # name: (the app's headers, its body messages, the request's version, the names written in order)
    "app-content-length": (
        [(b"x-first", b"1"), (b"Content-Length", b"4"), (b"x-last", b"2")],
        [b"body"],
        "HTTP/1.1",
        [b"date", b"server", b"x-first", b"Content-Length", b"x-last"],
    ),
    "app-chunked": (
        [(b"x-first", b"1"), (b"Transfer-Encoding", b"chunked"), (b"x-last", b"2")],
        [b"bo", b"dy"],
        "HTTP/1.1",
        [b"date", b"server", b"x-first", b"Transfer-Encoding", b"x-last"],
    ),
    "app-connection": (
        [(b"x-first", b"1"), (b"Connection", b"close"), (b"Content-Length", b"4"), (b"x-last", b"2")],
        [b"body"],
        "HTTP/1.1",
        [b"date", b"server", b"x-first", b"Connection", b"Content-Length", b"x-last"],
    ),
    "server-content-length": (
        [(b"x-first", b"1"), (b"x-last", b"2")],
        [b"body"],
        "HTTP/1.1",
        [b"date", b"server", b"x-first", b"x-last", b"content-length"],
    ),
    "server-chunked": (
        [(b"x-first", b"1"), (b"x-last", b"2")],
        [b"bo", b"dy"],
        "HTTP/1.1",
        [b"date", b"server", b"x-first", b"x-last", b"transfer-encoding"],
    ),
    "chunked-wins-over-length": (
        [(b"Content-Length", b"4"), (b"x-middle", b"1"), (b"Transfer-Encoding", b"chunked")],
        [b"body"],
        "HTTP/1.1",
        [b"date", b"server", b"x-middle", b"Transfer-Encoding"],
    ),
    "http-1.0-length-without-chunked": (
        [(b"Content-Length", b"4"), (b"x-middle", b"1"), (b"Transfer-Encoding", b"chunked")],
        [b"body"],
        "HTTP/1.0",
        [b"date", b"server", b"Content-Length", b"x-middle", b"connection"],
    ),
}


@pytest.mark.parametrize("case", list(HEADER_ORDER_CASES))
async def test_response_headers_keep_the_order_the_app_sent(http: str, case: str) -> None:
    """The app's framing headers stay where it put them; what the server adds itself goes last."""
    headers, bodies, version, expected = HEADER_ORDER_CASES[case]

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for index, body in enumerate(bodies):
            await send({"type": "http.response.body", "body": body, "more_body": index < len(bodies) - 1})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request(version=version))
        response = await client.read_response()
    assert [name for name, _ in response.headers] == expected
    assert response.body == b"body"


async def test_response_header_order_as_httpx_reads_it(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"2"), (b"set-cookie", b"a=1")]
        await send_response(send, 200, b"ok", headers)

    async with serve(app, http=http, lifespan="off") as running, httpx.AsyncClient() as client:
        response = await client.get(running.url)
    names = [name for name, _ in response.headers.raw]
    assert names[-3:] == [b"content-type", b"content-length", b"set-cookie"]


async def test_large_response_body(http: str) -> None:
    payload = os.urandom(2 * 1024 * 1024)

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send_response(send, 200, payload)

    async with serve(app, http=http, lifespan="off") as running, httpx.AsyncClient() as client:
        response = await client.get(running.url)
    assert response.content == payload


async def test_head_request_gets_headers_but_no_body(http: str) -> None:
    async with serve(hello, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request("HEAD", "/") + SIMPLE_GET)
        head = await client.read_response(head_request=True)
        after = await client.read_response()
    assert head.status == 200
    assert head.header(b"content-length") == b"12"
    # No body bytes were written: the next response starts right after the head.
    assert (after.status, after.body) == (200, b"Hello, world")


async def test_head_request_to_a_streaming_app(http: str) -> None:
    async with serve(streamed, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request("HEAD", "/") + SIMPLE_GET)
        head = await client.read_response(head_request=True)
        after = await client.read_response()
    assert head.status == 200
    assert head.header(b"transfer-encoding") == b"chunked"  # as a GET would say, but no chunks follow
    assert after.body == b"one,two,three"


@pytest.mark.parametrize("status", [204, 304])
async def test_bodiless_statuses_write_no_body(http: str, status: int) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send_response(send, status, b"ignored body")

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET + request("GET", "/second"))
        first = await client.read_response()
        second = await client.read_response()
    assert first.status == second.status == status
    assert first.header(b"transfer-encoding") is None


async def test_unknown_status_code_is_written(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send_response(send, 599, b"odd")

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        response = await client.read_response()
    assert response.status == 599
    assert response.body == b"odd"


@pytest.mark.parametrize(
    ("parts", "message", "written"),
    [
        ([b"abc", b"defg"], "Response content longer than Content-Length", True),
        ([b"ab", b"c"], "Response content shorter than Content-Length", True),
        ([b"abc"], "Response content shorter than Content-Length", False),
        ([b"abcdefg"], "Response content longer than Content-Length", False),
        ([b"abcdefg", b""], "Response content longer than Content-Length", False),
    ],
    ids=["longer-streamed", "shorter-streamed", "shorter-single", "longer-single", "longer-first-piece"],
)
async def test_body_not_matching_content_length_is_an_app_error(
    http: str, parts: list[bytes], message: str, written: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Once bytes went out the connection is closed; a first body that does not fit the head gets a 500."""
    errors: list[BaseException] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"6")]})
        try:
            for index, part in enumerate(parts):
                await send({"type": "http.response.body", "body": part, "more_body": index < len(parts) - 1})
        except RuntimeError as exc:
            errors.append(exc)
            raise

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        received = await client.read_until_closed()
    assert [str(error) for error in errors] == [message]
    if written:
        assert received.startswith(b"HTTP/1.1 200 OK\r\n")
        assert len(received.partition(b"\r\n\r\n")[2]) <= 6  # never more than announced
    else:
        assert received.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
        assert received.endswith(b"\r\n\r\nInternal Server Error")
        assert b"abc" not in received
    assert "Exception in ASGI application" in caplog.text
