"""Defects the fuzzers found (tests/protocols/test_fuzz_*.py), each pinned by a plain test.

A defect in code another change is rewriting is marked ``xfail(strict=True)``
here until its owner fixes it; the fuzzers' checks name the test that tolerates it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.protocols.apps import Recorder
from tests.protocols.fuzzing.http1 import Stream
from tests.protocols.fuzzing.http1_broken import Broken
from tests.protocols.fuzzing.http1_checks import serve_stream
from tests.protocols.fuzzing.http1_requests import LIMITS, Request
from tests.protocols.fuzzing.http1_responses import parse_responses
from tests.protocols.fuzzing.websocket import HANDSHAKE, Session
from tests.protocols.fuzzing.websocket_checks import serve_session
from tests.protocols.raw_http import RawClient, chunked, request
from tests.protocols.test_websocket_support import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    close_payload,
    frame,
    raw_websocket,
)
from tests.protocols.test_websocket_support import Recorder as WebSocketRecorder
from tests.serving import serve


async def test_http_1_0_expect_100_continue_is_ignored(http: str) -> None:
    """RFC 9110 10.1.1: a server MUST ignore a 100-continue expectation in an HTTP/1.0 request."""
    app = Recorder()
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(b"POST /a HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi")
        response = await client.read_response()
    assert response.status_line == b"HTTP/1.1 200 OK"
    assert app.bodies == [b"hi"]


async def test_a_head_begun_before_the_response_gets_408(http: str) -> None:
    app = Recorder()
    async with (
        serve(app, http=http, lifespan="off", timeout_keep_alive=1, timeout_request_head=2) as running,
        RawClient.connect(running) as client,
    ):
        # The first byte of the next request travels with this one: the connection is not
        # idle once the response is out, and the head timeout governs it (408), as it does
        # when the byte comes after the response.
        await client.send(b"GET /a HTTP/1.1\r\nHost: example.org\r\n\r\nG")
        assert (await client.read_response()).status == 200
        assert (await client.read_response()).status == 408


@pytest.mark.parametrize(
    "first",
    [
        b"POST /a HTTP/1.1\r\nHost: example.org\r\nContent-Length: 6\r\n\r\nab\r\n\r\n",
        b"POST /a HTTP/1.1\r\nHost: example.org\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    ],
    ids=["content-length", "chunked"],
)
@pytest.mark.parametrize("split", [False, True], ids=["whole", "bytes"])
def test_a_head_begun_behind_a_body_gets_408(http: str, first: bytes, split: bool) -> None:
    """zttp: the next head's first bytes, read with a request's body, were not counted (keep-alive close).

    A content-length body may hold CRLF CRLF itself: the adapter counts the body's
    bytes rather than looking for the last one.
    """
    data = first + b"GE"
    stream = Stream([], None, b"", None, [], "linger", [])
    chunks = [data[i : i + 1] for i in range(len(data))] if split else [data]
    outcome = serve_stream(http, stream, chunks)
    responses, _ = parse_responses(outcome.written, ["POST", "GET"])
    assert [response.status for response in responses] == [200, 408]
    assert outcome.closed_by_server


def test_requests_read_whole_leave_no_head_pending(http: str) -> None:
    """zttp: behind a chunked body, the next head (same request line) was looked for from the read's start.

    It was found in the first request, the bytes "left" were counted as a head
    under way, and the idle connection got a 408 instead of a quiet keep-alive close.
    """
    chunked = b"POST /a HTTP/1.1\r\nHost: example.org\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n"
    chunked += b"X-Trailer: yes\r\n\r\n"
    data = chunked + b"POST /a HTTP/1.1\r\nHost: example.org\r\nContent-Length: 1\r\n\r\nc"
    outcome = serve_stream(http, Stream([], None, b"", None, [], "linger", []), [data])
    responses, rest = parse_responses(outcome.written, ["POST", "POST"])
    assert [response.status for response in responses] == [200, 200]
    assert rest == b""
    assert outcome.closed_by_server


async def test_whitespace_after_a_header_value_is_not_part_of_it(http: str) -> None:
    """RFC 9110 5.5 (llhttp kept it, h11 did not)."""
    app = Recorder()
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(b"GET / HTTP/1.1\r\nHost: example.org \r\nX-A:  a b \t \r\nX-B: \t\r\n\r\n")
        assert (await client.read_response()).status == 200
    assert app.scope["headers"] == [(b"host", b"example.org"), (b"x-a", b"a b"), (b"x-b", b"")]


async def test_trailer_fields_never_join_the_request_headers(http: str) -> None:
    """RFC 9110 6.5.1 (llhttp reported trailers as headers, appended to the app's scope["headers"])."""
    seen: list[list[tuple[bytes, bytes]]] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        while (await receive()).get("more_body", False):
            pass
        seen.append(list(scope["headers"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    headers = [("Host", "example.org"), ("Transfer-Encoding", "chunked")]
    # Fields that look like headers the app acts on (zttp refuses framing and routing ones, Host
    # included, in trailers with 400: docs/server-behaviour.md).
    body = chunked(b"abc")[: -len(b"\r\n")] + b"X-Trailer: yes\r\nCookie: session=evil\r\n\r\n"
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request("POST", "/", headers=headers) + body)
        assert (await client.read_response()).status == 204
    assert seen == [[(b"host", b"example.org"), (b"transfer-encoding", b"chunked")]]


def test_a_broken_body_behind_a_request_in_flight_gets_400(http: str) -> None:
    # Through the fuzz harness (virtual time), so the hang costs nothing to show.
    first = Request("GET", b"/a", b"/a", b"", "1.1", [(b"Host", b"example.org")], b"", "none")
    broken_head = Request(
        "POST",
        b"/b",
        b"/b",
        b"",
        "1.1",
        [(b"Host", b"example.org"), (b"Transfer-Encoding", b"chunked")],
        b"",
        "chunked",
    )
    broken = Broken("chunked-framing", broken_head.head() + b"zz\r\n", {http: {400}}, True, broken_head)
    stream = Stream([first], broken, b"", None, [], "linger", [])
    outcome = serve_stream(http, stream, [stream.data])
    responses, rest = parse_responses(outcome.written, ["GET", "POST"])
    assert [response.status for response in responses] == [200, 400]
    assert rest == b""
    assert outcome.closed_by_server
    assert not outcome.stalled
    assert (outcome.tasks_left, outcome.connections_left) == (0, 0)


def test_a_request_line_at_the_limit_is_served_however_it_arrives(http: str) -> None:
    """h11 counted a CR still waiting for its LF as part of the line, and answered 414."""
    limit = LIMITS["limit_request_line"]
    target = b"/" + b"a" * (limit - len("GET /") - len(" HTTP/1.1"))
    get = Request("GET", target, target, b"", "1.1", [(b"Host", b"example.org")], b"", "none")
    assert len(get.head().split(b"\r\n")[0]) == limit
    stream = Stream([get], None, b"", None, [], "go-away", [])
    # Exact splits need the harness: over TCP the two pieces may arrive as one.
    outcome = serve_stream(http, stream, [get.head()[: limit + 1], get.head()[limit + 1 :]])
    assert outcome.written.startswith(b"HTTP/1.1 200 OK\r\n")


def test_a_pipelined_head_whose_line_ended_with_the_request_before_it_is_no_414(http: str) -> None:
    """zttp: a head begun in the read that ended the request before it got 414 once more of it came.

    The adapter looked for the request line's end only in the read the head began
    in when that read began with it; zttp keeps the bytes after a message to itself.
    """
    first = Request("GET", b"/a", b"/a", b"", "1.1", [(b"Host", b"example.org")], b"", "none")
    padded = [(b"Host", b"example.org"), (b"X-Pad", b"p" * (LIMITS["limit_request_line"] + 50))]
    second = Request("GET", b"/b", b"/b", b"", "1.1", padded, b"", "none")
    head = second.head()
    value_starts = head.index(b"X-Pad:") + len(b"X-Pad:")
    stream = Stream([first, second], None, b"", None, [], "go-away", [])
    # The second head's request line travels with the first request; then a long value with no line end.
    chunks = [first.encode() + head[:value_starts], head[value_starts:-4], head[-4:]]
    responses, rest = parse_responses(serve_stream(http, stream, chunks).written, ["GET", "GET"])
    assert [response.status for response in responses] == [200, 200]
    assert responses[1].body == second.description()
    assert rest == b""


@pytest.mark.parametrize(
    "before",
    [
        b"",
        b"GET /a HTTP/1.1\r\nHost: example.org\r\n\r\n",
        b"POST /a HTTP/1.1\r\nHost: example.org\r\nContent-Length: 1\r\n\r\n\x00",
    ],
    ids=["alone", "behind", "behind-a-body"],
)
@pytest.mark.parametrize("version", [b"HTTP/2.0", b"HTTP/3.0"])
@pytest.mark.parametrize("split", [False, True], ids=["whole", "bytes"])
def test_a_request_line_of_http_2_or_later_gets_505_however_it_arrives(
    http: str, version: bytes, before: bytes, split: bool
) -> None:
    """zttp: the version split across reads got 400 (the adapter looked for it in the last read only)."""
    if http == "httptools" and version == b"HTTP/3.0":
        pytest.skip("llhttp knows no HTTP/3.0: 400, as docs/server-behaviour.md says")
    data = before + b"GET / " + version + b"\r\nHost: example.org\r\n\r\n"
    stream = Stream([], None, b"", None, [], "go-away", [])
    chunks = [data[i : i + 1] for i in range(len(data))] if split else [data]
    written = serve_stream(http, stream, chunks).written
    responses, _ = parse_responses(written, ["GET", "GET"])
    assert [response.status for response in responses] == [200] * bool(before) + [505]


@pytest.mark.parametrize("split", [False, True], ids=["whole", "bytes"])
@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"", b"Via: 2 HTTP/2\r\n\r\n"),
        (b"", b"Content-Length: 7\r\n\r\n HTTP/2"),
        (b"POST /a HTTP/1.1\r\nHost: example.org\r\nContent-Length: 7\r\n\r\n HTTP/2", b"\r\n"),
        (b"POST /a HTTP/1.1\r\nHost: example.org\r\nContent-Length: 10\r\n\r\n* \x00 HTTP/2", b"\r\n"),
    ],
    ids=["field", "body-after", "body-before", "line-in-a-body-before"],
)
def test_a_broken_head_naming_http_2_elsewhere_gets_400(
    http: str, before: bytes, after: bytes, split: bool
) -> None:
    """zttp: a refused head got 505 when any line of the read (a field, a body) had ' HTTP/2' in it."""
    data = before + b"GET / HTTP/1.1\r\nHost: example.org\r\nX-Bad: a\x00b\r\n" + after
    stream = Stream([], None, b"", None, [], "go-away", [])
    chunks = [data[i : i + 1] for i in range(len(data))] if split else [data]
    methods = ["POST", "GET"] if before else ["GET"]
    responses, _ = parse_responses(serve_stream(http, stream, chunks).written, methods)
    assert [response.status for response in responses] == [200] * bool(before) + [400]


# ---------------------------------------------------------------- WebSockets


@pytest.mark.parametrize("cut", [-2, -1, "bytes"], ids=["between-the-crlfs", "before-the-last-lf", "bytes"])
def test_frames_right_behind_a_handshake_split_across_reads_reach_the_app(http: str, cut: Any) -> None:
    """zttp: the frames after a handshake whose end came in a later read than its start were lost."""
    frames = frame(OP_BINARY, b"first") + frame(OP_CLOSE, close_payload(1000))
    data = HANDSHAKE + frames
    end = len(HANDSHAKE)
    if cut == "bytes":
        chunks = [data[i : i + 1] for i in range(len(data))]
    else:
        chunks = [data[: end + cut], data[end + cut :]]
    session = Session([], None, [], b"", [], "go-away")
    outcome = serve_session(http, "websockets-sansio", session, chunks)
    assert [message.get("bytes") for message in outcome.app_log] == [b"first", None]
    assert outcome.app_log[-1] == {"type": "websocket.disconnect", "code": 1000, "reason": ""}


async def test_a_ping_inside_a_message_of_max_size_is_no_overflow(ws: type[Any], http: str) -> None:
    """The websockets library counted a control frame against what was left of ws_max_size."""
    app = WebSocketRecorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off", ws_max_size=100) as running,
        raw_websocket(running) as client,
    ):
        # All of the message is in before the ping: nothing is left of ws_max_size.
        await client.send(frame(OP_BINARY, b"a" * 100, fin=False) + frame(OP_PING, b"ping") + frame(OP_CONT))
        pong = await client.read_frame()
        echo = await client.read_frame()
        # A pong longer than what is left, cut after its header: it is read whole, with
        # the limit it has outside a message.
        first = frame(OP_TEXT, b"b" * 50, fin=False) + frame(OP_PONG, b"p" * 100)
        await client.send(first[:60])
        await client.send(first[60:] + frame(OP_CONT, b"c" * 50))
        second_echo = await client.read_frame()
    assert (pong.opcode, pong.payload) == (OP_PONG, b"ping")
    assert echo.payload == b"a" * 100
    assert (second_echo.opcode, second_echo.payload) == (OP_TEXT, b"b" * 50 + b"c" * 50)


async def test_the_message_around_a_ping_keeps_its_limit(ws: type[Any], http: str) -> None:
    """The ping's own allowance does not add to the message's: one byte over is still 1009."""
    app = WebSocketRecorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off", ws_max_size=100) as running,
        raw_websocket(running) as client,
    ):
        await client.send(frame(OP_BINARY, b"a" * 100, fin=False) + frame(OP_PING, b"ping"))
        assert (await client.read_frame()).opcode == OP_PONG
        await client.send(frame(OP_CONT, b"a"))
        close = await client.read_close()
        await client.send(frame(OP_CLOSE, close_payload(1009)))
        assert await client.at_eof()
        await asyncio.wait_for(app.done.wait(), 30)
    assert close.close_code == 1009
    assert app.disconnect["code"] == 1009
    assert [m["type"] for m in app.messages] == ["websocket.connect", "websocket.disconnect"]


async def test_close_code_1014_from_the_client_is_echoed(ws: type[Any], http: str) -> None:
    """wsproto refused 1014 (Bad Gateway, registered with IANA) with 1002."""
    app = WebSocketRecorder()
    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running) as client:
        # Cut inside the close code: the frame is read whole all the same.
        close_frame = frame(OP_CLOSE, close_payload(1014, b"bad gateway"))
        await client.send(close_frame[:7])
        await client.send(close_frame[7:])
        close = await client.read_close()
        assert await client.at_eof()
        await asyncio.wait_for(app.done.wait(), 30)
    assert (close.close_code, close.close_reason) == (1014, "bad gateway")
    assert app.disconnect == {"type": "websocket.disconnect", "code": 1014, "reason": "bad gateway"}


async def test_close_code_1014_is_still_checked_like_any_close(ws: type[Any], http: str) -> None:
    """A 1014 close frame with a reason that is not UTF-8 is refused with 1007, as for any code."""
    app = WebSocketRecorder()
    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running) as client:
        await client.send(frame(OP_CLOSE, close_payload(1014, b"\xff")))
        close = await client.read_close()
        await asyncio.wait_for(app.done.wait(), 30)
    assert close.close_code == 1007
    assert app.disconnect["code"] == 1007


async def test_close_code_1014_in_reply_to_the_app_close_ends_cleanly(
    ws: type[Any], http: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The other way a 1014 close arrives: as the reply to ours (wsproto's CLOSED state)."""
    disconnects: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1011})
        disconnects.append(await receive())

    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running) as client:
        assert (await client.read_close()).close_code == 1011
        await client.send(frame(OP_CLOSE, close_payload(1014)))
        assert await client.at_eof()  # no second close frame (a 1002) before the end
    assert disconnects == [{"type": "websocket.disconnect", "code": 1011, "reason": ""}]
    assert not [record for record in caplog.records if record.levelname == "WARNING"]
