"""Lingering close (RFC 9112 9.6): a refused client that keeps sending still reads its whole answer.

Closing a socket that holds unread bytes sends a reset, which can destroy the
answer before the client reads it. These clients send a request the server
refuses and go on sending (a body, the next request) before they read: each must
get the complete 400/413/431 (or the last response) and then the end of the
connection, never a reset. The bounds are checked with clients that never stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import sys
from collections.abc import AsyncIterator

import pytest

from tests.protocols.apps import Recorder, hello, read_body, send_response
from tests.protocols.raw_http import READ_LIMIT_SECONDS, SIMPLE_GET, RawClient, request
from tests.serving import RunningServer, serve, serve_in_thread
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope
from uvicorn.protocols.http import lingering_close

#: More than the socket buffers hold at once, less than LINGER_BYTES.
TRAILING = b"x" * (512 * 1024)

REFUSED = {
    400: (request(headers=[("Host", "x"), ("Bad Header", "v"), ("Content-Length", "600000")]), {}),
    413: (
        request("POST", headers=[("Host", "x"), ("Content-Length", "600000")]),
        {"limit_request_body": 1000},
    ),
    431: (
        request(headers=[("Host", "x")] + [(f"X-{n}", "v") for n in range(10)]),
        {"limit_request_fields": 5},
    ),
}


async def send_without_reset(client: RawClient, data: bytes) -> None:
    """Send ``data``; a reset on the way fails the test (the server closed with bytes unread)."""
    try:
        await client.send(data)
    except ConnectionResetError as exc:  # pragma: no cover - the failure this module guards against
        raise AssertionError("the server reset the connection while the client was sending") from exc


@pytest.mark.parametrize("status", sorted(REFUSED))
async def test_a_refused_client_that_keeps_sending_reads_the_whole_answer(http: str, status: int) -> None:
    head, options = REFUSED[status]
    app = Recorder()
    async with (
        serve(app, http=http, lifespan="off", **options) as running,
        RawClient.connect(running) as client,
    ):
        await send_without_reset(client, head + TRAILING)  # all of it before reading a byte
        response = await client.read_response()
        assert await client.closed()
    assert response.status == status
    assert response.header(b"connection") == b"close"
    assert response.header(b"content-length") == str(len(response.body)).encode()
    assert app.scopes == []


async def test_a_chunked_body_over_the_limit_gets_413_while_the_client_sends_on(http: str) -> None:
    """Refused in the middle of the body the app is reading: the app is told, the client answered."""
    seen: list[dict[str, object]] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        _, messages = await read_body(receive)
        seen.extend(messages)

    head = request("POST", headers=[("Host", "x"), ("Transfer-Encoding", "chunked")])
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in [b"y" * 8192] * 64)
    async with (
        serve(app, http=http, lifespan="off", limit_request_body=20_000) as running,
        RawClient.connect(running) as client,
    ):
        await send_without_reset(client, head + chunks)
        response = await client.read_response()
        assert await client.closed()
    assert response.status == 413
    assert seen[-1]["type"] == "http.disconnect"


async def test_a_request_pipelined_behind_a_closing_response_does_not_reset_it(http: str) -> None:
    """``connection: close`` answered while the next requests (and a body) are already on their way."""
    closing = request(headers=[("Host", "x"), ("Connection", "close")])
    async with serve(hello, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await send_without_reset(client, closing + SIMPLE_GET * 3 + request("POST", body=TRAILING))
        response = await client.read_response()
        assert await client.closed()
    assert (response.status, response.body) == (200, b"Hello, world")


async def test_a_500_that_closes_does_not_reset_the_answer(http: str) -> None:
    """The app fails without reading the body still arriving: the 500 arrives whole."""

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        raise RuntimeError("boom")

    head = request("POST", headers=[("Host", "x"), ("Content-Length", str(len(TRAILING)))])
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await send_without_reset(client, head + TRAILING)
        response = await client.read_response()
        assert await client.closed()
    assert response.status == 500


async def trickle_until_closed(client: RawClient) -> None:
    """Send a byte at a time, at a client's slow pace, until the server has closed (the send fails)."""
    with contextlib.suppress(ConnectionError):
        while True:
            await client.send(b"z")
            await asyncio.sleep(0.01)  # the pace of a slow client, not synchronisation


async def test_a_slow_client_is_not_kept_past_the_time_bound(
    http: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lingering_close, "LINGER_SECONDS", 0.2)
    async with serve(hello, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(b"GET / HTTP/1.1\r\nBad Header: v\r\n\r\n")
        assert (await client.read_response()).status == 400
        assert await client.closed()  # the server's half-close: its answer is complete
        # Had the server lingered without a bound, this would run into the test's limit.
        await asyncio.wait_for(trickle_until_closed(client), READ_LIMIT_SECONDS)


async def test_a_flooding_client_is_cut_off_at_the_byte_bound(
    http: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lingering_close, "LINGER_SECONDS", 3600.0)
    monkeypatch.setattr(lingering_close, "LINGER_BYTES", 64 * 1024)
    async with serve(hello, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(b"GET / HTTP/1.1\r\nBad Header: v\r\n\r\n")
        assert (await client.read_response()).status == 400

        async def flood() -> None:
            with contextlib.suppress(ConnectionError):
                while True:
                    await client.send(b"f" * 65536)

        await asyncio.wait_for(flood(), READ_LIMIT_SECONDS)


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_a_lingering_connection_does_not_hold_up_shutdown(loop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if loop == "asyncio" and sys.version_info >= (3, 12):
        pytest.skip(
            "from 3.12 asyncio.Server.wait_closed waits for every transport: LINGER_SECONDS bounds it"
        )
    monkeypatch.setattr(lingering_close, "LINGER_SECONDS", 3600.0)  # only the client could end it
    with contextlib.ExitStack() as client_side:
        with serve_in_thread(hello, loop=loop, lifespan="off") as running:
            sock = socket.create_connection((running.host, running.port), timeout=READ_LIMIT_SECONDS)
            client_side.enter_context(sock)
            sock.sendall(b"GET / HTTP/1.1\r\nBad Header: v\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):  # up to the server's half-close
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 400 ")
            # Lingering now, as long as the client keeps its end open: not a connection being served.
            assert running.server.server_state.connections == set()
        # The server has shut down (its thread is over) while the client still holds the connection.
        sock.sendall(b"more")


async def test_a_lingering_connection_is_not_counted_by_limit_concurrency(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send_response(send, 200, b"served")

    # Two: the connection asking counts itself. A lingering one counted too would make it a 503.
    async with (
        serve(app, http=http, lifespan="off", limit_concurrency=2) as running,
        RawClient.connect(running) as refused,
    ):
        await refused.send(b"GET / HTTP/1.1\r\nBad Header: v\r\n\r\n")
        assert (await refused.read_response()).status == 400
        assert await refused.closed()  # lingering now, until this client closes
        async with RawClient.connect(running) as client:
            await client.send(SIMPLE_GET)
            response = await client.read_response()
    assert (response.status, response.body) == (200, b"served")


@pytest.fixture
def tls_options(
    tls_certificate_server_cert_path: str, tls_certificate_private_key_path: str
) -> dict[str, str]:
    return {"ssl_certfile": tls_certificate_server_cert_path, "ssl_keyfile": tls_certificate_private_key_path}


@contextlib.asynccontextmanager
async def tls_client(running: RunningServer, context: ssl.SSLContext) -> AsyncIterator[RawClient]:
    reader, writer = await asyncio.open_connection(running.host, running.port, ssl=context)
    try:
        yield RawClient(reader, writer)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


async def test_under_tls_a_refused_client_that_keeps_sending_reads_the_whole_answer(
    http: str, tls_options: dict[str, str], tls_ca_ssl_context: ssl.SSLContext
) -> None:
    """TLS has no half-close: the server reads and discards until the client has read and closed."""
    head, options = REFUSED[413]
    async with (
        serve(hello, http=http, lifespan="off", **options, **tls_options) as running,
        tls_client(running, tls_ca_ssl_context) as client,
    ):
        await send_without_reset(client, head + TRAILING)
        response = await client.read_response()
    assert response.status == 413


async def test_under_tls_a_body_ended_by_the_close_is_not_held_by_lingering(
    http: str,
    tls_options: dict[str, str],
    tls_ca_ssl_context: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An HTTP/1.0 body without a length ends with the close: with nothing unread, no lingering delays it."""
    monkeypatch.setattr(lingering_close, "LINGER_SECONDS", 3600.0)

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"streamed", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async with (
        serve(app, http=http, lifespan="off", **tls_options) as running,
        tls_client(running, tls_ca_ssl_context) as client,
    ):
        await client.send(request(version="HTTP/1.0"))
        response = await client.read_response()  # up to the close (bounded: READ_LIMIT_SECONDS)
    assert (response.status, response.header(b"content-length"), response.body) == (200, None, b"streamed")
