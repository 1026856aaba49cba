"""What the client gets, and what is logged, when the app misbehaves."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from tests.protocols.apps import hello, send_response
from tests.protocols.raw_http import SIMPLE_GET, RawClient, request
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope


async def fail_before_start(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    if scope["path"] == "/fine":
        await send_response(send, 200, b"fine")
        return
    raise ValueError("the app broke")


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_exception_before_the_response_gets_a_500(http: str, caplog: pytest.LogCaptureFixture) -> None:
    async with serve(fail_before_start, http=http, lifespan="off") as running:
        async with RawClient.connect(running) as client:
            await client.send(SIMPLE_GET)
            response = await client.read_response()
            assert response.status_line == b"HTTP/1.1 500 Internal Server Error"
            assert response.header(b"content-length") == b"21"
            assert response.header(b"content-type") == b"text/plain; charset=utf-8"
            assert response.header(b"connection") == b"close"
            assert response.header(b"server") == b"uvicorn"
            assert response.header(b"date") is not None
            assert response.body == b"Internal Server Error"
            assert await client.closed()
        async with httpx.AsyncClient() as client:  # the server goes on serving
            assert (await client.get(running.url + "/fine")).text == "fine"
    [record] = error_records(caplog)
    assert record.getMessage().startswith("Exception in ASGI application")
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)
    assert "the app broke" in caplog.text  # the traceback is in the log


async def test_exception_after_the_response_started_closes_the_connection(
    http: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("broke halfway")

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        received = await client.read_until_closed()
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"transfer-encoding: chunked" in received
    assert received.endswith(b"7\r\npartial\r\n")  # no last-chunk: the client knows it was cut
    assert b"500" not in received
    assert "Exception in ASGI application" in caplog.text


async def fail_after_start(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    await send({"type": "http.response.start", "status": 200})
    raise ValueError("no body")


async def start_twice(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.start", "status": 404})


async def longer_than_length(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"too long"})


async def return_after_start(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    await send({"type": "http.response.start", "status": 204})


FAILING_BEFORE_THE_FIRST_BYTE = {
    "raise-after-start": (fail_after_start, "Exception in ASGI application"),
    "start-twice": (start_twice, "Exception in ASGI application"),
    "body-longer-than-content-length": (longer_than_length, "Exception in ASGI application"),
    "return-after-start": (return_after_start, "ASGI callable returned without completing response."),
}


@pytest.mark.parametrize("case", list(FAILING_BEFORE_THE_FIRST_BYTE))
async def test_failure_before_anything_was_written_gets_a_500(
    http: str, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The head waits for the first body message: until it goes out, a failure can still be a 500.

    The access log has one line for it, the 500's; none for the head that never went out.
    """
    app, logged = FAILING_BEFORE_THE_FIRST_BYTE[case]
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        response = await client.read_response()
        assert response.status_line == b"HTTP/1.1 500 Internal Server Error"
        assert response.header(b"connection") == b"close"
        assert response.body == b"Internal Server Error"
        assert await client.closed()
    [access_line] = [record.getMessage() for record in caplog.records if record.name == "uvicorn.access"]
    assert access_line.endswith('"GET / HTTP/1.1" 500')
    [error] = error_records(caplog)
    assert error.getMessage().startswith(logged)


async def test_failure_before_the_first_byte_leaves_the_server_serving(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["path"] == "/fine":
            await send_response(send, 200, b"fine")
        else:
            await fail_after_start(scope, receive, send)

    async with serve(app, http=http, lifespan="off") as running, httpx.AsyncClient() as client:
        response = await client.get(running.url + "/fail")
        assert (response.status_code, response.text) == (500, "Internal Server Error")
        assert (await client.get(running.url + "/fine")).text == "fine"


async def test_returning_without_a_response_gets_a_500(http: str, caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        pass

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        response = await client.read_response()
        assert response.status == 500
        assert await client.closed()
    assert [record.getMessage() for record in error_records(caplog)] == [
        "ASGI callable returned without starting response."
    ]


async def test_returning_with_an_unfinished_response_closes(
    http: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"some", "more_body": True})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        received = await client.read_until_closed()
    assert received.startswith(b"HTTP/1.1 200 OK")
    assert not received.endswith(b"0\r\n\r\n")
    assert [record.getMessage() for record in error_records(caplog)] == [
        "ASGI callable returned without completing response."
    ]


async def test_returning_a_value_closes_the_connection(http: str, caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> int:
        await send_response(send, 200, b"done")
        return 123

    # Without the proxy-headers middleware, which does not pass the return value on.
    async with (
        # A long keep-alive: only the server's reaction to the return value can close it.
        serve(app, http=http, lifespan="off", proxy_headers=False, timeout_keep_alive=60) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(SIMPLE_GET)
        assert (await client.read_response()).body == b"done"
        assert await client.closed()
    assert [record.getMessage() for record in error_records(caplog)] == [
        "ASGI callable should return None, but returned '123'."
    ]


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        (
            [{"type": "http.response.body", "body": b""}],
            "Expected ASGI message 'http.response.start', but got 'http.response.body'.",
        ),
        (
            [{"type": "http.response.start", "status": 200}, {"type": "http.response.start", "status": 200}],
            "Expected ASGI message 'http.response.body', but got 'http.response.start'.",
        ),
        (
            [
                {"type": "http.response.start", "status": 200},
                {"type": "http.response.body", "body": b"done"},
                {"type": "http.response.body", "body": b"again"},
            ],
            "Unexpected ASGI message 'http.response.body' sent, after response already completed.",
        ),
    ],
    ids=["body-before-start", "start-twice", "body-after-end"],
)
async def test_messages_out_of_order_raise_in_the_app(
    http: str, messages: list[dict[str, Any]], error: str
) -> None:
    errors: list[str] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        try:
            for message in messages:
                await send(message)  # type: ignore[arg-type]
        except RuntimeError as exc:
            errors.append(str(exc))
            raise

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        received = await client.read_until_closed()
    assert errors == [error]
    if len(messages) == 3:
        assert received.endswith(b"\r\n\r\ndone")  # the completed response stands
    else:  # nothing had been written yet
        assert received.startswith(b"HTTP/1.1 500 Internal Server Error")


# ---------------------------------------------------------------- invalid response heads


@pytest.mark.parametrize(
    ("headers", "culprit"),
    [
        ([(b"x-split", b"value\r\nSet-Cookie: smuggled=1")], "b'x-split'"),
        ([(b"x-lf", b"value\nInjected: 1")], "b'x-lf'"),
        ([(b"x-cr", b"value\rInjected: 1")], "b'x-cr'"),
        ([(b"x-nul", b"val\x00ue")], "b'x-nul'"),
        ([(b"bad\r\nname", b"value")], "b'bad\\r\\nname'"),
        ([(b"bad name", b"value")], "b'bad name'"),
        ([(b"nul\x00name", b"value")], "b'nul\\x00name'"),
        ([(b"", b"value")], "b''"),
    ],
    ids=[
        "crlf-value",
        "lf-value",
        "cr-value",
        "nul-value",
        "crlf-name",
        "space-name",
        "nul-name",
        "empty-name",
    ],
)
async def test_invalid_response_header_gets_a_500_and_is_never_written(
    http: str, headers: list[tuple[bytes, bytes]], culprit: str, caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[Exception] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
        except RuntimeError as exc:
            errors.append(exc)
            raise
        await send({"type": "http.response.body", "body": b"never"})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        received = await client.read_until_closed()
    assert received.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert headers[0][0] not in received.lower() or not headers[0][0]
    assert b"smuggled" not in received and b"Injected" not in received
    assert len(errors) == 1  # the app was told
    assert culprit in str(errors[0])
    assert culprit in caplog.text  # and the log says which header


@pytest.mark.parametrize("status", ["200", 99, 1000, None])
async def test_invalid_status_gets_a_500(http: str, status: object) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": status})  # type: ignore[typeddict-item]
        await send({"type": "http.response.body", "body": b"never"})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        response = await client.read_response()
    assert response.status == 500


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-length", b"abc")],
        [(b"content-length", b"-1")],
        [("x-str", "text")],
        [(b"x-buffer", bytearray(b"text"))],
    ],
    ids=["non-numeric-length", "negative-length", "str-header", "bytearray-value"],
)
async def test_invalid_header_types_and_lengths_get_a_500(http: str, headers: list[Any]) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"never"})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        response = await client.read_response()
    assert response.status == 500


async def test_a_clean_value_seen_before_does_not_let_a_bad_one_through(http: str) -> None:
    """Header values found clean are remembered; that memory must never excuse another value."""

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        value = b"ok" if scope["path"] == "/clean" else b"ok\r\nx-injected: 1"
        await send_response(send, 200, b"body", [(b"x-value", value)])

    async with serve(app, http=http, lifespan="off") as running:
        for _ in range(2):
            async with RawClient.connect(running) as client:
                await client.send(request("GET", "/clean"))
                assert (await client.read_response()).header(b"x-value") == b"ok"
            async with RawClient.connect(running) as client:
                await client.send(request("GET", "/bad"))
                response = await client.read_response()
                assert response.status == 500
                assert response.header(b"x-injected") is None


async def test_finished_requests_leave_no_task_behind(http: str) -> None:
    """Each request task leaves server_state.tasks as it ends, or shutdown would wait for it."""

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["path"] == "/raise":
            raise ValueError("the app broke")
        if scope["path"] == "/fine":
            await send_response(send, 200, b"fine")

    async with serve(app, http=http, lifespan="off") as running:
        for path, status in (("/fine", 200), ("/raise", 500), ("/nothing", 500), ("/fine", 200)):
            async with RawClient.connect(running) as client:
                await client.send(request("GET", path))
                assert (await client.read_response()).status == status
        assert running.server.server_state.tasks == set()


async def test_iterable_of_headers_is_accepted(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        headers = ((name, value) for name, value in [(b"x-one", b"1"), (b"x-two", b"2")])
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        response = await client.read_response()
    assert (response.header(b"x-one"), response.header(b"x-two")) == (b"1", b"2")


async def test_app_headers_keep_their_case_and_order(http: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        headers = [(b"X-Upper", b"A"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
        await send_response(send, 200, b"", headers)

    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        response = await client.read_response()
    names = [name for name, _ in response.headers]
    assert b"X-Upper" in names
    assert response.header_list(b"set-cookie") == [b"a=1", b"b=2"]


async def test_a_failing_request_does_not_affect_other_connections(http: str) -> None:
    async with (
        serve(fail_before_start, http=http, lifespan="off") as running,
        RawClient.connect(running) as good,
        RawClient.connect(running) as bad,
    ):
        await bad.send(SIMPLE_GET)
        await good.send(b"GET /fine HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await bad.read_response()).status == 500
        assert (await good.read_response()).body == b"fine"
        await good.send(b"GET /fine HTTP/1.1\r\nHost: x\r\n\r\n")  # still kept alive
        assert (await good.read_response()).body == b"fine"


async def test_hello_is_not_logged_as_an_error(http: str, caplog: pytest.LogCaptureFixture) -> None:
    async with serve(hello, http=http, lifespan="off") as running, httpx.AsyncClient() as client:
        assert (await client.get(running.url)).status_code == 200
    assert error_records(caplog) == []
