"""Bad or hostile request bytes: each rule gets the bytes that break it, and the exact answer.

Every refused request gets a short plain-text error response with
``connection: close``, the connection is then closed, and the app never sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from http import HTTPStatus

import httpx
import pytest

from tests.protocols.apps import Recorder, StreamingReader
from tests.protocols.raw_http import READ_LIMIT_SECONDS, SIMPLE_GET, RawClient, RawResponse, request
from tests.serving import RunningServer, serve
from uvicorn.protocols.http.connection import HTTPConnection
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.http.zttp_impl import ZttpProtocol


@contextlib.asynccontextmanager
async def recorded(http: str, **options: object) -> AsyncIterator[tuple[RunningServer, Recorder]]:
    app = Recorder()
    async with serve(app, http=http, lifespan="off", **options) as running:
        yield running, app


async def refused(running: RunningServer, data: bytes) -> RawResponse:
    """Send ``data``; return the error response after checking its shape and the close."""
    async with RawClient.connect(running) as client:
        await client.send(data)
        response = await client.read_response()
        assert response.header(b"connection") == b"close"
        assert response.header(b"content-type") == b"text/plain; charset=utf-8"
        assert response.header(b"content-length") == str(len(response.body)).encode()
        # The server's own answers carry its default headers, as app responses do.
        assert response.header(b"server") == b"uvicorn"
        assert response.header(b"date") is not None
        assert await client.closed()
    return response


def status_line(status: int) -> bytes:
    """``HTTP/1.1 <status> <phrase>``, with the phrase Python's ``http.HTTPStatus`` gives."""
    return b"HTTP/1.1 %d %s" % (status, HTTPStatus(status).phrase.encode())


async def assert_refused(http: str, data: bytes, status: int, **options: object) -> None:
    async with recorded(http, **options) as (running, app):
        response = await refused(running, data)
    assert response.status_line == status_line(status)
    assert app.scopes == []  # it never reached the app


# ---------------------------------------------------------------- request line


async def test_request_line_over_the_limit_gets_414(http: str) -> None:
    data = request("GET", "/" + "a" * 200)
    await assert_refused(http, data, 414, limit_request_line=100)


async def test_incomplete_request_line_over_the_limit_gets_414(http: str) -> None:
    """The line need not end for the server to give up on it."""
    await assert_refused(http, b"GET /" + b"a" * 500, 414, limit_request_line=100)


async def test_request_line_within_the_limit_is_served(http: str) -> None:
    target = "/" + "a" * 80
    async with recorded(http, limit_request_line=100) as (running, app), RawClient.connect(running) as client:
        await client.send(request("GET", target))
        assert (await client.read_response()).status == 200
    assert app.scope["path"] == target


async def test_default_request_line_limit(http: str) -> None:
    await assert_refused(http, request("GET", "/" + "a" * 9000), 414)


@pytest.mark.parametrize(
    "line",
    [
        b"NOT HTTP AT ALL",
        b"GET / HTTP/1.1 extra",
        b"GET /a b HTTP/1.1",
        b"GET /a\x01b HTTP/1.1",
        b"GET /caf\xc3\xa9 HTTP/1.1",
        b"GET / http/1.1",
        b"GET / HTTP/1.2",
        b"GET / HTTP/0.9",
        b"GET HTTP/1.1",
        b"CONNECT example.org:443 HTTP/1.1",
    ],
    ids=[
        "garbage",
        "extra-part",
        "space-in-target",
        "control-in-target",
        "raw-utf8-target",
        "lowercase-version",
        "http-1.2",
        "http-0.9",
        "no-target",
        "authority-form",
    ],
)
async def test_malformed_request_line_gets_400(http: str, line: bytes) -> None:
    await assert_refused(http, line + b"\r\nHost: x\r\n\r\n", 400)


async def test_400_body_says_what_upstream_says(http: str) -> None:
    async with recorded(http) as (running, _):
        response = await refused(running, b"NOT HTTP\r\n\r\n")
    assert response.body == b"Invalid HTTP request received."


INCOMPLETE_HEADS_THAT_CANNOT_BE_VALID = {
    "http-0.9": [b"GET /\r\n"],
    "http-0.9-bare-lf": [b"GET /\n"],
    "http-0.9-then-a-header": [b"GET /\r\nHost: x\r\n"],
    "http-0.9-line-in-pieces": [b"GET /", b"\r\n"],
    "extra-part": [b"GET / HTTP/1.1 extra\r\nHost: x\r\n"],
    "lowercase-version": [b"GET / http/1.1\r\n"],
}


@pytest.mark.parametrize(
    "pieces",
    list(INCOMPLETE_HEADS_THAT_CANNOT_BE_VALID.values()),
    ids=list(INCOMPLETE_HEADS_THAT_CANNOT_BE_VALID),
)
async def test_request_line_that_cannot_start_a_request_gets_400_at_once(
    http: str, pieces: list[bytes]
) -> None:
    """No waiting for the rest of the head (here for an hour): an HTTP/0.9 client sends no more."""
    reads: asyncio.Queue[bytes] = asyncio.Queue()
    app = Recorder()
    protocol = protocol_telling_reads(http, reads)
    async with (
        serve(app, http=protocol, lifespan="off", timeout_request_head=3600) as running,
        RawClient.connect(running) as client,
    ):
        await send_in_reads(client, reads, pieces)
        response = await client.read_response()  # bounded by READ_LIMIT_SECONDS, far below the timeout
        assert response.status_line == status_line(400)
        assert response.header(b"connection") == b"close"
        assert await client.closed()
    assert app.scopes == []


@pytest.mark.parametrize("pipelined", [True, False], ids=["pipelined", "kept-alive"])
async def test_http_0_9_line_after_a_valid_request_gets_400_at_once(http: str, pipelined: bool) -> None:
    """The version the parser read for the request before must not stand for this line's."""
    if http == "zttp":
        pytest.skip(
            "zttp keeps the bytes after a request to itself: a line behind another request is "
            "refused when its head ends or at timeout_request_head (docs/server-behaviour.md)"
        )
    async with (
        recorded(http, timeout_request_head=3600) as (running, app),
        RawClient.connect(running) as client,
    ):
        if pipelined:
            await client.send(SIMPLE_GET + b"GET /\r\n")
            assert (await client.read_response()).status == 200
        else:
            await client.send(SIMPLE_GET)
            assert (await client.read_response()).status == 200
            await client.send(b"GET /\r\n")
        assert (await client.read_response()).status == 400
        assert await client.closed()
    assert len(app.scopes) == 1


def protocol_telling_reads(http: str, reads: asyncio.Queue[bytes]) -> type[asyncio.Protocol]:
    """The parser's protocol class, putting what it read into ``reads`` once it has handled it.

    Lets a test send a head in pieces the server reads one at a time: the next piece
    goes out once the server is done with the one before.
    """
    base: type[HTTPConnection] = {"h11": H11Protocol, "httptools": HttpToolsProtocol, "zttp": ZttpProtocol}[
        http
    ]

    class TellingReads(base):  # type: ignore[misc,valid-type]
        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            reads.put_nowait(data)

    return TellingReads


async def send_in_reads(client: RawClient, reads: asyncio.Queue[bytes], pieces: list[bytes]) -> None:
    """Send each piece once the server is done reading the one before (protocol_telling_reads)."""
    for piece in pieces:
        await client.send(piece)
        received = b""
        while received != piece:
            received += await asyncio.wait_for(reads.get(), READ_LIMIT_SECONDS)


@pytest.mark.parametrize(
    "pieces",
    [
        [b"GET / HTTP/1.1\r\n", b"Host: x\r\n", b"X-Second: GET /\r\n", b"\r\n"],
        [b"GET / HT", b"TP/1.1\r", b"\nHost: x\r\n\r\n"],
        [b"GET / HTTP/1.0\r\n", b"\r\n"],
        [b"GET /", b" HTTP/1.1\r\nHost: x\r\n\r\n"],
        [b"GET / HTTP/1.1\r\nHost: x\r\nX-Value: GET /\r\n", b"\r\n"],
        [SIMPLE_GET + b"GET / HTTP/1.1\r\n", b"Host: x\r\n\r\n"],
    ],
    ids=[
        "line-then-each-header",
        "split-inside-the-line",
        "http-1.0-line-then-end",
        "split-after-target",
        "header-ending-like-a-request-line",
        "second-request-line-ends-a-read",
    ],
)
async def test_valid_heads_arriving_in_pieces_are_served(http: str, pieces: list[bytes]) -> None:
    """Each piece is read on its own; none of the partial heads is taken for an HTTP/0.9 line."""
    reads: asyncio.Queue[bytes] = asyncio.Queue()
    app = Recorder()
    protocol = protocol_telling_reads(http, reads)
    async with serve(app, http=protocol, lifespan="off") as running, RawClient.connect(running) as client:
        await send_in_reads(client, reads, pieces)
        for _ in range(1 + pieces[0].count(b"\r\n\r\n")):
            assert (await client.read_response()).status == 200
    assert [scope["path"] for scope in app.scopes] == ["/"] * (1 + pieces[0].count(b"\r\n\r\n"))


# ---------------------------------------------------------------- HTTP/2 and later


async def test_http_2_request_line_gets_505(http: str) -> None:
    await assert_refused(http, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505)


async def test_http_3_request_line_is_refused(http: str) -> None:
    async with recorded(http) as (running, app):
        response = await refused(running, b"GET / HTTP/3.0\r\nHost: x\r\n\r\n")
    # h11 reads the version and answers 505; llhttp knows no such version and says 400.
    assert response.status in (505, 400)
    assert app.scopes == []


async def test_http_2_preface_is_refused(http: str) -> None:
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    await assert_refused(http, preface, 505)


# ---------------------------------------------------------------- Host


async def test_missing_host_on_http_1_1_gets_400(http: str) -> None:
    await assert_refused(http, b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400)


async def test_repeated_host_gets_400(http: str) -> None:
    data = b"GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"
    await assert_refused(http, data, 400)


async def test_http_1_0_needs_no_host(http: str) -> None:
    async with recorded(http) as (running, app), RawClient.connect(running) as client:
        await client.send(b"GET /old HTTP/1.0\r\n\r\n")
        assert (await client.read_response()).status == 200
    assert app.scope["path"] == "/old"


INVALID_HOSTS = {
    "space-and-path": b"exa mple/x",
    "space": b"exa mple",
    "path": b"example.org/x",
    "query": b"example.org?x",
    "userinfo": b"user@example.org",
    "letters-in-port": b"example.org:80a",
    "two-ports": b"example.org:80:80",
    "negative-port": b"example.org:-1",
    "unclosed-ipv6": b"[::1",
    "bare-ipv6": b"::1",
    "not-ipv6": b"[not-an-address]",
    "bad-ipv6": b"[::1::2]",
    "after-ipv6": b"[::1]x",
    "bad-percent": b"%zz.example",
    "quote": b'ex"ample.org',
    "non-ascii": b"caf\xc3\xa9.example",
    "control": b"exa\x01mple",
}


@pytest.mark.parametrize("host", list(INVALID_HOSTS.values()), ids=list(INVALID_HOSTS))
async def test_invalid_host_gets_400(http: str, host: bytes) -> None:
    """RFC 9112 3.2: a Host header field with an invalid field value gets 400."""
    await assert_refused(http, b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n", 400)


async def test_invalid_host_gets_400_on_http_1_0_too(http: str) -> None:
    await assert_refused(http, b"GET / HTTP/1.0\r\nHost: exa mple/x\r\n\r\n", 400)


async def test_invalid_host_from_httpx_gets_400(http: str) -> None:
    async with recorded(http) as (running, app), httpx.AsyncClient() as client:
        response = await client.get(running.url, headers={"Host": "exa mple/x"})
    assert response.status_code == 400
    assert response.text == "Invalid HTTP request received: invalid Host header."
    assert app.scopes == []


VALID_HOSTS = [
    b"example.org",
    b"example.org:8000",
    b"EXAMPLE.org",
    b"under_score.local",
    b"xn--caf-dma.example",
    b"127.0.0.1",
    b"127.0.0.1:80",
    b"[::1]",
    b"[::1]:8000",
    b"[::ffff:192.0.2.1]",
    b"[fe80::1%25eth0]:80",
    b"[v1.future]",
    b"example.org:",
    b"%65xample.org",
    b"",
]


@pytest.mark.parametrize("host", VALID_HOSTS, ids=[host.decode() or "empty" for host in VALID_HOSTS])
@pytest.mark.parametrize("version", ["1.1", "1.0"])
async def test_valid_host_forms_are_served(http: str, host: bytes, version: str) -> None:
    """Names, IPv4, [IPv6] (with a zone, or IPvFuture), any port, and the empty Host (RFC 9112 3.2)."""
    data = b"GET / HTTP/%b\r\nHost: %b\r\n\r\n" % (version.encode(), host)
    async with recorded(http) as (running, app), RawClient.connect(running) as client:
        await client.send(data)
        assert (await client.read_response()).status == 200
    assert (b"host", host) in app.scope["headers"]


async def test_a_valid_host_seen_before_does_not_let_an_invalid_one_through(http: str) -> None:
    """Valid Host values are remembered; that memory must never excuse another value."""
    async with recorded(http) as (running, app):
        for host, status in [(b"example.org", 200), (b"example.org/x", 400), (b"example.org", 200)]:
            async with RawClient.connect(running) as client:
                await client.send(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
                assert (await client.read_response()).status == status
    assert len(app.scopes) == 2


# ---------------------------------------------------------------- framing (request smuggling)


async def test_content_length_and_transfer_encoding_together_get_400(http: str) -> None:
    smuggled = request("GET", "/smuggled")
    data = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        + smuggled
    )
    await assert_refused(http, data, 400)


@pytest.mark.parametrize(
    "value",
    [b"abc", b"-1", b"+5", b"1 2", b"0x10"],
    ids=["letters", "negative", "plus-sign", "two-numbers", "hex"],
)
async def test_invalid_content_length_gets_400(http: str, value: bytes) -> None:
    data = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + value + b"\r\n\r\nhello"
    await assert_refused(http, data, 400)


async def test_conflicting_content_lengths_get_400(http: str) -> None:
    data = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
    await assert_refused(http, data, 400)


@pytest.mark.parametrize(
    "value",
    [b"18446744073709551616", b"99999999999999999999", b"99999999999999999999999"],
    ids=["2-to-the-64", "20-digits", "23-digits"],
)
async def test_overflowing_content_length_gets_400_at_once(http: str, value: bytes) -> None:
    """Over 64 bits (llhttp's bound, which h11 alone would not apply): no body could ever complete it."""
    await assert_refused(
        http, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + value + b"\r\n\r\nabc", 400
    )


async def test_largest_content_length_is_read_as_a_body(http: str) -> None:
    """2**64 - 1 fits: the body is read (here the client gives up and the app is told)."""
    app = StreamingReader()
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\n\r\n"
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(head + b"abc")
        assert (await app.messages.get())["body"] == b"abc"
        client.abort()
        assert await app.messages.get() == {"type": "http.disconnect"}


@pytest.mark.parametrize("data", [b"", b"some data"], ids=["size-alone", "size-and-data"])
@pytest.mark.parametrize(
    "size",
    [b"10000000000000000", b"ffffffffffffffffffff", b"ffffffffffffffffffffffff"],
    ids=["2-to-the-64", "20-digits", "24-digits"],
)
async def test_overflowing_chunk_size_gets_400_at_once(http: str, size: bytes, data: bytes) -> None:
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    async with (
        serve(StreamingReader(), http=http, lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(head + size + b"\r\n" + data)
        response = await client.read_response()  # bounded by READ_LIMIT_SECONDS: no wait for the chunk
        assert response.status_line == status_line(400)
        assert await client.closed()


@pytest.mark.parametrize(
    "value",
    [b"gzip", b"chunked, gzip", b"chunked, chunked"],
    ids=["no-chunked", "chunked-not-last", "chunked-twice"],
)
async def test_transfer_encoding_without_final_chunked_is_refused(http: str, value: bytes) -> None:
    """RFC 9112 6.3: the body's length cannot be known, so the request cannot be read."""
    data = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + value + b"\r\n\r\n0\r\n\r\n"
    # h11 refuses any coding but chunked itself, with 501, before the head reaches us.
    await assert_refused(http, data, 501 if http == "h11" else 400)


async def test_unsupported_transfer_coding_gets_501(http: str) -> None:
    data = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
    await assert_refused(http, data, 501)


async def test_broken_chunked_body_closes_and_tells_the_app(http: str) -> None:
    app = StreamingReader()
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(head + b"3\r\nabc\r\n")
        assert (await app.messages.get())["body"] == b"abc"
        await client.send(b"zz\r\nnot a chunk\r\n")
        response = await client.read_response()
        assert response.status_line == status_line(400)
        assert await client.closed()
        assert await app.messages.get() == {"type": "http.disconnect"}


# ---------------------------------------------------------------- header fields


@pytest.mark.parametrize(
    "value",
    [b"a\x00b", b"a\x01b", b"a\x1bb", b"a\x7fb", b"a\rb"],
    ids=["nul", "soh", "escape", "del", "bare-cr"],
)
async def test_control_characters_in_header_values_get_400(http: str, value: bytes) -> None:
    data = b"GET / HTTP/1.1\r\nHost: x\r\nX-Value: " + value + b"\r\n\r\n"
    await assert_refused(http, data, 400)


@pytest.mark.parametrize(
    "line",
    [b"Host : x", b"X-\xe9: 1", b"X Y: 1", b": no-name", b"no-colon"],
    ids=["space-before-colon", "non-ascii-name", "space-in-name", "empty-name", "no-colon"],
)
async def test_malformed_header_lines_get_400(http: str, line: bytes) -> None:
    data = b"GET / HTTP/1.1\r\nHost: x\r\n" + line + b"\r\n\r\n"
    await assert_refused(http, data, 400)


async def test_folded_header_never_reaches_the_app_as_two_lines(http: str) -> None:
    """obs-fold (RFC 9112 5.2): refused, or joined into one value; never a second header."""
    data = b"GET / HTTP/1.1\r\nHost: x\r\nX-Folded: one\r\n Injected: two\r\n\r\n"
    async with recorded(http) as (running, app), RawClient.connect(running) as client:
        await client.send(data)
        response = await client.read_response()
    if response.status == 200:
        assert (b"x-folded", b"one Injected: two") in app.scope["headers"]
        assert all(name != b"injected" for name, _ in app.scope["headers"])
    else:
        assert response.status == 400
        assert app.scopes == []


async def test_too_many_header_fields_get_431(http: str) -> None:
    headers = [("Host", "x")] + [(f"X-Field-{index}", "1") for index in range(10)]
    await assert_refused(
        http,
        request(headers=headers),
        431,
        limit_request_fields=5,
    )


async def test_header_fields_up_to_the_limit_are_served(http: str) -> None:
    headers = [("Host", "x")] + [(f"X-Field-{index}", "1") for index in range(4)]
    async with recorded(http, limit_request_fields=5) as (running, app), RawClient.connect(running) as client:
        await client.send(request(headers=headers))
        assert (await client.read_response()).status == 200
    assert len(app.scope["headers"]) == 5


async def test_default_header_field_limit(http: str) -> None:
    headers = [("Host", "x")] + [(f"X-Field-{index}", "1") for index in range(150)]
    await assert_refused(http, request(headers=headers), 431)


# ---------------------------------------------------------------- head size


async def test_head_over_the_size_limit_gets_431(http: str) -> None:
    data = request(headers=[("Host", "x"), ("X-Big", "v" * 2000)])
    await assert_refused(http, data, 431, limit_request_head_size=1024)


async def test_incomplete_head_over_the_size_limit_gets_431(http: str) -> None:
    """A head that keeps growing is refused before it ends, so it is never buffered whole."""
    data = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 4000
    await assert_refused(http, data, 431, limit_request_head_size=1024)


async def test_head_size_is_counted_per_request(http: str) -> None:
    """Several heads, each within the limit, on one connection: all served."""
    head = request("GET", "/", headers=[("Host", "x"), ("X-Pad", "p" * 500)])
    async with (
        recorded(http, limit_request_head_size=1024) as (running, app),
        RawClient.connect(running) as client,
    ):
        await client.send(head * 5)
        for _ in range(5):
            assert (await client.read_response()).status == 200
    assert len(app.scopes) == 5


async def test_default_head_size_limit(http: str) -> None:
    if http == "zttp":
        pytest.skip("zttp refuses heads over 64 KiB itself, below the default limit (docs/settings.md)")
    headers = [("Host", "x")] + [(f"X-Big-{index}", "v" * 8000) for index in range(20)]  # ~160 KB
    await assert_refused(http, request(headers=headers), 431)


# ---------------------------------------------------------------- request head timeout


async def test_silent_client_is_closed_after_the_head_timeout(http: str) -> None:
    async with (
        recorded(http, timeout_request_head=0.3) as (running, app),
        RawClient.connect(running) as client,
    ):
        assert await client.read_until_closed() == b""  # nothing to answer: just closed
    assert app.scopes == []


async def trickle(client: RawClient, data: bytes, interval: float) -> None:
    """Send ``data`` one byte at a time (the pace of a slowloris client, not synchronisation)."""
    with contextlib.suppress(ConnectionError):
        for index in range(len(data)):
            await client.send(data[index : index + 1])
            await asyncio.sleep(interval)


async def test_slow_head_gets_408(http: str, caplog: pytest.LogCaptureFixture) -> None:
    data = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"s" * 1000 + b"\r\n\r\n"
    async with (
        recorded(http, timeout_request_head=0.5) as (running, app),
        RawClient.connect(running) as client,
    ):
        sending = asyncio.create_task(trickle(client, data, 0.02))  # would take 20 s
        try:
            response = await client.read_response()
            assert response.status_line == status_line(408)
            assert response.header(b"connection") == b"close"
            assert response.header(b"server") == b"uvicorn"
            assert response.header(b"date") is not None
            assert await client.closed()
        finally:
            sending.cancel()
    assert app.scopes == []
    assert any("timeout_request_head" in message for message in caplog.messages)


async def test_head_timeout_restarts_after_each_response(http: str) -> None:
    """On a kept-alive connection the next head must also arrive in time (keep-alive is longer here)."""
    options = {"timeout_request_head": 0.5, "timeout_keep_alive": 60}
    async with recorded(http, **options) as (running, app), RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        assert (await client.read_response()).status == 200
        sending = asyncio.create_task(trickle(client, SIMPLE_GET + b"X" * 1000, 0.02))
        try:
            response = await client.read_response()
        finally:
            sending.cancel()
        assert response.status == 408
        assert await client.closed()
    assert len(app.scopes) == 1


async def test_idle_kept_alive_connection_waits_for_the_keep_alive_timeout(http: str) -> None:
    """Idle between requests is governed by timeout_keep_alive (often set long behind load balancers)."""
    options = {"timeout_request_head": 0.3, "timeout_keep_alive": 60}
    async with recorded(http, **options) as (running, app), RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        assert (await client.read_response()).status == 200
        # A connection opened now is closed by its head timeout: by then a head timer
        # armed at the end of the first response would have closed `client` too.
        async with RawClient.connect(running) as clock:
            assert await clock.closed()
        await client.send(SIMPLE_GET)
        assert (await client.read_response()).status == 200
    assert len(app.scopes) == 2


async def test_head_timeout_does_not_limit_the_body_or_the_app(http: str) -> None:
    """Only the head is timed: a body that arrives later than the head timeout is fine."""
    app = StreamingReader()
    head = request("POST", "/", headers=[("Host", "x"), ("Content-Length", "6")])
    async with (
        serve(app, http=http, lifespan="off", timeout_request_head=0.3) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(head + b"abc")
        assert (await app.messages.get())["body"] == b"abc"
        # A connection opened now is closed by its head timeout: by then this one's
        # head timeout would have fired too, had it still been running.
        async with RawClient.connect(running) as clock:
            assert await clock.closed()
        await client.send(b"def")
        response = await client.read_response()
    assert response.status == 200
    assert response.body == b"6"


# ---------------------------------------------------------------- options


@pytest.mark.parametrize(
    "option",
    ["limit_request_line", "limit_request_fields", "limit_request_head_size", "timeout_request_head"],
)
async def test_invalid_limit_fails_startup_with_one_line(option: str) -> None:
    # Server.serve() raises for a program (a ValueError, as upstream's checks do); uvicorn.run()
    # and the command line print the message as one line and exit 3 (tests/core/test_config.py).
    with pytest.raises(ValueError) as failure:
        async with serve(Recorder(), lifespan="off", **{option: 0}):
            pass
    message = str(failure.value)
    assert "\n" not in message
    assert f"'{option}'" in message
    assert "--" + option.replace("_", "-") in message
