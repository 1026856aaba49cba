"""Server-level behaviour seen from the HTTP protocol: concurrency limit, contexts, access log, shutdown."""

from __future__ import annotations

import asyncio
import contextvars
import logging

import httpx
import pytest

from tests.protocols.apps import Gate, hello, send_response
from tests.protocols.raw_http import SIMPLE_GET, RawClient, request
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope

# ---------------------------------------------------------------- limit_concurrency


async def test_over_the_concurrency_limit_gets_503(http: str, caplog: pytest.LogCaptureFixture) -> None:
    gate = Gate()
    async with (
        serve(gate, http=http, lifespan="off", limit_concurrency=2) as running,
        RawClient.connect(running) as first,
    ):
        await first.send(request("GET", "/busy"))
        await gate.entered.wait()
        async with RawClient.connect(running) as second:
            await second.send(SIMPLE_GET)
            response = await second.read_response()
            assert response.status_line == b"HTTP/1.1 503 Service Unavailable"
            assert response.header(b"content-length") == b"19"
            assert response.header(b"connection") == b"close"
            assert response.header(b"server") == b"uvicorn"
            assert response.header(b"date") is not None
            assert response.body == b"Service Unavailable"
            assert await second.closed()
        gate.open.set()
        assert (await first.read_response()).body == b"/busy"
    assert gate.paths == ["/busy"]  # the refused request never reached the app
    assert "Exceeded concurrency limit." in caplog.messages


async def test_within_the_concurrency_limit_requests_are_served(http: str) -> None:
    async with (
        serve(hello, http=http, lifespan="off", limit_concurrency=2) as running,
        RawClient.connect(running) as client,
    ):
        for _ in range(2):
            await client.send(SIMPLE_GET)
            assert (await client.read_response()).status == 200


# ---------------------------------------------------------------- contextvars

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


async def context_app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    seen = request_id.get()
    request_id.set(scope["path"])  # must not leak into the next request
    await send_response(send, 200, seen.encode())


@pytest.mark.parametrize(("reset", "expected"), [(False, b"server"), (True, b"unset")])
async def test_request_context(http: str, reset: bool, expected: bytes) -> None:
    token = request_id.set("server")  # the context the server runs in
    try:
        async with (
            serve(context_app, http=http, lifespan="off", reset_contextvars=reset) as running,
            RawClient.connect(running) as client,
        ):
            await client.send(request("GET", "/one") + request("GET", "/two"))
            first = await client.read_response()
            second = await client.read_response()
    finally:
        request_id.reset(token)
    # With reset_contextvars, every request starts from an empty context (as upstream).
    assert first.body == second.body == expected


# ---------------------------------------------------------------- access log


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "uvicorn.access"]


async def test_access_log_line_per_request(http: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    async with serve(hello, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        port = client.local_port
        await client.send(
            request("GET", "/")
            + request("POST", "/items?page=2&q=a%20b", body=b"x")
            + request("GET", "/caf%C3%A9", version="HTTP/1.0")
        )
        for _ in range(3):
            await client.read_response()
    messages = [record.getMessage() for record in access_records(caplog)]
    assert messages == [
        f'127.0.0.1:{port} - "GET / HTTP/1.1" 200',
        f'127.0.0.1:{port} - "POST /items?page=2&q=a%20b HTTP/1.1" 200',
        f'127.0.0.1:{port} - "GET /caf%C3%A9 HTTP/1.0" 200',
    ]
    # The formatter gets the parts as arguments: client, method, path, version, status.
    assert access_records(caplog)[1].args == (
        f"127.0.0.1:{port}",
        "POST",
        "/items?page=2&q=a%20b",
        "1.1",
        200,
    )


async def test_access_log_shows_root_path_and_error_status(
    http: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        raise RuntimeError("fail")

    async with (
        serve(app, http=http, lifespan="off", root_path="/api") as running,
        httpx.AsyncClient() as client,
    ):
        assert (await client.get(running.url + "/thing")).status_code == 500
    [record] = access_records(caplog)
    assert record.getMessage().endswith('"GET /api/thing HTTP/1.1" 500')


async def test_no_access_log_when_disabled(http: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    async with (
        serve(hello, http=http, lifespan="off", access_log=False) as running,
        httpx.AsyncClient() as client,
    ):
        assert (await client.get(running.url)).status_code == 200
    assert access_records(caplog) == []


async def test_refused_requests_are_not_access_logged(http: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with serve(hello, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(b"GET / HTTP/1.1\r\n\r\n")  # no Host
        assert (await client.read_response()).status == 400
    assert access_records(caplog) == []
    assert any(message.startswith("Invalid HTTP request received") for message in caplog.messages)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n",
            "Invalid HTTP request received. Answered 400: unsupported request target.",
        ),
        (b"GET / HTTP/1.1\r\n\r\n", "Invalid HTTP request received. Answered 400: "),  # + the parser's words
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n",
            "Invalid HTTP request received. Answered 431: ",  # + what was over which limit
        ),
    ],
    ids=["authority-form", "no-host", "too-many-fields"],
)
async def test_refused_request_log_line_starts_with_upstreams_words(
    http: str, data: bytes, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Upstream logs ``Invalid HTTP request received.`` (a warning, no traceback); our reason follows once."""
    caplog.set_level(logging.INFO)
    async with (
        serve(hello, http=http, lifespan="off", limit_request_fields=2) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(data)
        await client.read_response()
    [record] = [record for record in caplog.records if "Invalid HTTP request" in record.getMessage()]
    assert record.name == "uvicorn.error"
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    message = record.getMessage()
    assert message.startswith(expected)
    assert message == expected or expected.endswith(": ") and len(message) > len(expected)
    assert message.count("Invalid HTTP request received") == 1


# ---------------------------------------------------------------- graceful shutdown


async def test_shutdown_waits_for_a_streaming_response(http: str) -> None:
    started = asyncio.Event()
    finish = asyncio.Event()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"part one, ", "more_body": True})
        started.set()
        await finish.wait()
        await send({"type": "http.response.body", "body": b"part two"})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        await started.wait()
        running.server.should_exit = True
        finish.set()
        response = await client.read_response()
    assert response.body == b"part one, part two"
