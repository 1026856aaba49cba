"""The opening handshake: refusals, the 403 and denial responses, extensions, early frames.

A bad handshake gets 400 or 426 and never 101, whatever the implementation; an
app can refuse with 403 (``websocket.close``) or answer with any HTTP response
(the ``websocket.http.response`` extension).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.protocols.test_websocket_support import (
    IMPLEMENTATIONS,
    OP_TEXT,
    Recorder,
    frame,
    handshake_request,
    raw_websocket,
)
from tests.serving import serve

KEY = ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
BASE = [("Host", "example.org"), ("Upgrade", "websocket"), ("Connection", "Upgrade")]


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ([*BASE, KEY, ("Sec-WebSocket-Version", "8")], 426, "Unsupported Sec-WebSocket-Version"),
        ([*BASE, KEY], 400, "Missing Sec-WebSocket-Version"),
        ([*BASE, ("Sec-WebSocket-Version", "13")], 400, "Missing Sec-WebSocket-Key"),
        (
            [*BASE, ("Sec-WebSocket-Key", "c2hvcnQ="), ("Sec-WebSocket-Version", "13")],
            400,
            "Invalid Sec-WebSocket-Key",
        ),
        (
            [*BASE, ("Sec-WebSocket-Key", "not base64!"), ("Sec-WebSocket-Version", "13")],
            400,
            "Invalid Sec-WebSocket-Key",
        ),
        ([*BASE, KEY, KEY, ("Sec-WebSocket-Version", "13")], 400, "More than one Sec-WebSocket-Key"),
    ],
    ids=["wrong-version", "no-version", "no-key", "short-key", "malformed-key", "two-keys"],
)
async def test_bad_handshakes_are_refused(
    ws: type[Any], http: str, headers: list[tuple[str, str]], status: int, message: str, caplog: Any
) -> None:
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off") as running,
        raw_websocket(running, handshake_request(headers=headers)) as client,
    ):
        response = client.response
    assert response.status == status
    assert response.body.decode().startswith(message)
    assert response.header("connection") == "close"
    assert response.header("server") == "uvicorn"  # the server's default headers, as on every response
    assert response.header("date") is not None
    if status == 426 or message.startswith("Missing Sec-WebSocket-Version"):
        assert response.header("sec-websocket-version") == "13"
    assert app.scope is None  # the app never saw it
    assert any(f"Invalid WebSocket handshake ({status})" in r.getMessage() for r in caplog.records)


async def test_post_with_websocket_upgrade_is_refused(ws: type[Any], http: str) -> None:
    app = Recorder()
    request = handshake_request().replace(b"GET ", b"POST ", 1)
    async with (
        serve(app, ws=ws, http=http, lifespan="off") as running,
        raw_websocket(running, request) as client,
    ):
        assert client.response.status == 400
    assert app.scope is None


async def test_close_before_accept_is_403(ws: type[Any], http: str, caplog: pytest.LogCaptureFixture) -> None:
    after: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.close"})
        after.append(await receive())

    caplog.set_level(logging.INFO, "uvicorn.error")
    async with serve(app, ws=ws, http=http, lifespan="off") as running:
        with pytest.raises(InvalidStatus) as refused:
            await connect(running.ws_url + "/private?a=1")
    assert refused.value.response.status_code == 403
    assert refused.value.response.headers["content-length"] == "0"
    assert after == [{"type": "websocket.disconnect", "code": 1006}]
    assert any(r.getMessage().endswith('"WebSocket /private?a=1" 403') for r in caplog.records)


@pytest.mark.parametrize(
    ("app_error", "log"),
    [
        ("raise", "Exception in ASGI application"),
        ("return", "ASGI callable returned without completing handshake"),
    ],
)
async def test_app_failing_before_accept_gets_500(
    ws: type[Any], http: str, app_error: str, log: str, caplog: Any
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if app_error == "raise":
            raise ValueError("boom")

    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running) as client:
        response = client.response
    assert response.status == 500
    assert response.body == b"Internal Server Error"
    assert response.header("server") == "uvicorn"
    assert response.header("date") is not None
    assert any(log in r.getMessage() for r in caplog.records)


async def test_send_before_accept_is_an_app_error(ws: type[Any], http: str) -> None:
    errors: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await send({"type": "websocket.send", "text": "early"})
        except RuntimeError as exc:
            errors.append(str(exc))
            raise

    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running) as client:
        assert client.response.status == 500
    assert errors == [
        "Expected ASGI message 'websocket.accept', 'websocket.close' or "
        "'websocket.http.response.start' but got 'websocket.send'."
    ]


# ---------------------------------------------------------------- denial response


def denial_app(status: int, headers: list[tuple[bytes, bytes]], *bodies: bytes, after: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert "websocket.http.response" in scope["extensions"]
        await receive()
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        for index, body in enumerate(bodies):
            more = index < len(bodies) - 1
            await send({"type": "websocket.http.response.body", "body": body, "more_body": more})
        after.append(await receive())

    return app


async def test_denial_response_in_one_message_without_length_is_chunked(ws: type[Any], http: str) -> None:
    # Every implementation frames a body without content-length the same way: chunked.
    after: list[Any] = []
    app = denial_app(
        401, [(b"content-type", b"application/json"), (b"x-reason", b"auth")], b'{"no": 1}', after=after
    )
    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running) as client:
        response = client.response
    assert response.status == 401
    assert response.body == b'9\r\n{"no": 1}\r\n0\r\n\r\n'
    assert response.header("transfer-encoding") == "chunked"
    assert response.header("content-length") is None
    assert response.header("content-type") == "application/json"
    assert response.header("x-reason") == "auth"
    assert response.header("connection") == "close"
    assert response.header("server") == "uvicorn"
    assert after == [{"type": "websocket.disconnect", "code": 1006}]


async def test_denial_response_in_parts_is_chunked(ws: type[Any], http: str) -> None:
    after: list[Any] = []
    app = denial_app(400, [], b"first ", b"", b"second", after=after)
    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running) as client:
        response = client.response
    assert response.status == 400
    assert response.header("transfer-encoding") == "chunked"
    assert response.body == b"6\r\nfirst \r\n6\r\nsecond\r\n0\r\n\r\n"
    assert after == [{"type": "websocket.disconnect", "code": 1006}]


async def test_denial_response_with_the_apps_content_length(ws: type[Any], http: str) -> None:
    after: list[Any] = []
    app = denial_app(404, [(b"content-length", b"10")], b"01234", b"56789", after=after)
    async with serve(app, ws=ws, http=http, lifespan="off") as running:
        with pytest.raises(InvalidStatus) as refused:
            await connect(running.ws_url)
    assert refused.value.response.status_code == 404
    assert refused.value.response.body == b"0123456789"


async def test_denial_response_start_is_sent_once_its_framing_is_known(ws: type[Any], http: str) -> None:
    # The app fixes the framing with a content-length and then fails: the head already went out.
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        start = {
            "type": "websocket.http.response.start",
            "status": 404,
            "headers": [(b"content-length", b"0")],
        }
        await send(start)
        await send(start)  # a second start is an app error

    async with serve(app, ws=ws, http=http, lifespan="off") as running:
        with pytest.raises(InvalidStatus) as refused:
            await connect(running.ws_url)
    assert refused.value.response.status_code == 404


@pytest.mark.parametrize(
    "start",
    [
        {"status": 700, "headers": []},
        {"status": 101, "headers": []},
        {"status": 400, "headers": [(b"bad header", b"x")]},
        {"status": 400, "headers": [(b"x-split", b"a\r\nb")]},
    ],
    ids=["status-700", "status-101", "bad-name", "bad-value"],
)
async def test_an_invalid_denial_response_becomes_500(
    ws: type[Any], http: str, start: dict[str, Any]
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", **start})
        await send({"type": "websocket.http.response.body", "body": b"never sent"})

    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running) as client:
        response = client.response
    assert response.status == 500
    assert response.body == b"Internal Server Error"
    assert response.header("content-length") == "21"


async def test_a_denial_response_without_body_becomes_500(ws: type[Any], http: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 403, "headers": []})

    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running) as client:
        assert client.response.status == 500


async def test_a_message_other_than_the_body_during_a_denial_is_an_app_error(
    ws: type[Any], http: str
) -> None:
    errors: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        try:
            await send({"type": "websocket.accept"})
        except RuntimeError as exc:
            errors.append(str(exc))
        await send({"type": "websocket.http.response.body", "body": b"no"})

    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running) as client:
        assert client.response.status == 403
    assert errors == ["Expected ASGI message 'websocket.http.response.body' but got 'websocket.accept'."]


# ---------------------------------------------------------------- extensions and early frames


@pytest.mark.parametrize("deflate", [True, False])
async def test_per_message_deflate(ws: type[Any], http: str, deflate: bool) -> None:
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off", ws_per_message_deflate=deflate) as running,
        connect(running.ws_url) as client,  # offers permessage-deflate
    ):
        names = [extension.name for extension in client.protocol.extensions]
        await client.send("compressible " * 1000)
        assert await client.recv() == "compressible " * 1000
    assert names == (["permessage-deflate"] if deflate else [])


async def test_frames_sent_right_behind_the_handshake_are_kept(ws: type[Any], http: str) -> None:
    app = Recorder()
    # Request and first frame in one write: the frame waits for the app's accept.
    async with (
        serve(app, ws=ws, http=http, lifespan="off") as running,
        raw_websocket(running, after_request=frame(OP_TEXT, b"eager")) as client,
    ):
        assert client.response.status == 101
        echo = await client.read_frame()
    assert (echo.opcode, echo.payload) == (OP_TEXT, b"eager")


# The lines each library writes to uvicorn.error under upstream: websockets' Sans-I/O
# protocol "connection open" (never "connection closed"), its legacy server both,
# wsproto neither.
LIBRARY_LINES = {
    IMPLEMENTATIONS["websockets-sansio"]: {"connection open"},
    IMPLEMENTATIONS["websockets"]: {"connection open", "connection closed"},
    IMPLEMENTATIONS["wsproto"]: set(),
}


async def test_accept_is_logged(ws: type[Any], http: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "uvicorn.error")
    app = Recorder()
    async with serve(app, ws=ws, http=http, lifespan="off") as running:
        client = await connect(running.ws_url + "/chat?room=1")
        await client.close()
        await asyncio.wait_for(app.done.wait(), 30)
    messages = [r.getMessage() for r in caplog.records if r.name == "uvicorn.error"]
    assert any(m.endswith('"WebSocket /chat?room=1" [accepted]') for m in messages)
    assert {"connection open", "connection closed"} & set(messages) == LIBRARY_LINES[ws]
    assert messages.count("connection open") <= 1
