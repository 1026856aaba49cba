"""The ASGI WebSocket session as an app sees it, through a real client, for every implementation.

Each test runs once per implementation (websockets-sansio, websockets, wsproto)
and HTTP parser (h11, httptools): an app must not be able to tell them apart.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.protocols.test_websocket_support import (
    OP_CLOSE,
    OP_TEXT,
    Recorder,
    close_payload,
    frame,
    raw_websocket,
)
from tests.serving import serve


# With permessage-deflate the library reads every frame; without it, plain messages
# take the fast path (plain_frames) and only the rest goes to the library.
@pytest.mark.parametrize("compression", ["deflate", None])
async def test_echo_text_and_binary(ws: type[Any], http: str, compression: str | None) -> None:
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off") as running,
        connect(running.ws_url, compression=compression) as client,
    ):
        assert bool(client.protocol.extensions) == (compression is not None)
        await client.send("héllo")
        assert await client.recv() == "héllo"
        await client.send(b"\x00\xffbytes")
        assert await client.recv() == b"\x00\xffbytes"
        big = b"x" * 300_000  # many TCP reads, one message
        await client.send(big)
        assert await client.recv() == big
    assert [m["type"] for m in app.messages[:4]] == [
        "websocket.connect",
        "websocket.receive",
        "websocket.receive",
        "websocket.receive",
    ]
    assert app.messages[1] == {"type": "websocket.receive", "text": "héllo"}
    assert app.messages[2] == {"type": "websocket.receive", "bytes": b"\x00\xffbytes"}


async def test_fragmented_messages_are_reassembled(ws: type[Any], http: str) -> None:
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off") as running,
        connect(running.ws_url, compression=None) as client,
    ):
        await client.send(["ab", "cdé", "f"])
        assert await client.recv() == "abcdéf"
        await client.send([b"\x01", b"\x02\x03"])
        assert await client.recv() == b"\x01\x02\x03"


async def test_scope(ws: type[Any], http: str) -> None:
    app = Recorder()
    async with serve(app, ws=ws, http=http, lifespan="off", root_path="/root") as running:
        url = running.ws_url + "/a%2Fb/c%C3%A9?x=1&y=%20"
        async with connect(url, additional_headers=[("X-Custom", "value")]) as client:
            await client.send("ping")
            await client.recv()
    scope = app.scope
    assert scope is not None
    assert scope["type"] == "websocket"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["scheme"] == "ws"
    assert scope["root_path"] == "/root"
    assert scope["path"] == "/root/a/b/cé"
    assert scope["raw_path"] == b"/root/a%2Fb/c%C3%A9"
    assert scope["query_string"] == b"x=1&y=%20"
    assert scope["server"] == (running.host, running.port)
    assert scope["client"][0] == "127.0.0.1"
    assert (b"x-custom", b"value") in scope["headers"]
    assert all(name == name.lower() for name, _ in scope["headers"])
    assert scope["subprotocols"] == []
    assert scope["extensions"] == {"websocket.http.response": {}}
    assert scope["state"] == {}


async def test_header_values_are_passed_as_bytes(ws: type[Any], http: str) -> None:
    app = Recorder()
    # The client sends the UTF-8 bytes of "abraão" (websockets encodes str as ISO-8859-1).
    username = "abraão".encode().decode("latin-1")
    async with (
        serve(app, ws=ws, http=http, lifespan="off") as running,
        connect(running.ws_url, additional_headers=[("Username", username)]),
    ):
        pass
    assert app.scope is not None
    assert (b"username", "abraão".encode()) in app.scope["headers"]


@pytest.mark.parametrize("chosen", ["chat", "superchat"])
async def test_subprotocol_chosen_by_the_app(ws: type[Any], http: str, chosen: str) -> None:
    offered: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        offered.extend(scope["subprotocols"])
        await receive()
        await send({"type": "websocket.accept", "subprotocol": chosen})
        await receive()

    async with (
        serve(app, ws=ws, http=http, lifespan="off") as running,
        connect(running.ws_url, subprotocols=["chat", "superchat"]) as client,  # type: ignore[list-item]
    ):
        assert client.subprotocol == chosen
    assert offered == ["chat", "superchat"]


async def test_a_subprotocol_the_client_did_not_offer_is_an_app_error(ws: type[Any], http: str) -> None:
    failure: list[BaseException] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        try:
            await send({"type": "websocket.accept", "subprotocol": "other"})
        except RuntimeError as exc:
            failure.append(exc)
            raise

    async with serve(app, ws=ws, http=http, lifespan="off") as running:
        with pytest.raises(InvalidStatus) as refused:
            await connect(running.ws_url, subprotocols=["chat"])  # type: ignore[list-item]
    assert refused.value.response.status_code == 500
    assert "did not offer" in str(failure[0])


async def test_accept_headers_and_default_headers(ws: type[Any], http: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        headers = [(b"x-extra", b"1"), (b"server", b"app-server")]
        await send({"type": "websocket.accept", "headers": headers})
        await receive()

    async with serve(app, ws=ws, http=http, lifespan="off") as running, connect(running.ws_url) as client:
        assert client.response is not None
        headers = client.response.headers
    assert headers["x-extra"] == "1"
    assert headers.get_all("server") == ["uvicorn", "app-server"]  # as upstream: both are sent
    assert len(headers.get_all("date")) == 1


async def test_accept_headers_with_a_line_break_are_refused(ws: type[Any], http: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept", "headers": [(b"x-evil", b"1\r\nset-cookie: a=b")]})

    async with serve(app, ws=ws, http=http, lifespan="off") as running:
        with pytest.raises(InvalidStatus) as refused:
            await connect(running.ws_url)
    assert refused.value.response.status_code == 500
    assert "set-cookie" not in refused.value.response.headers


@pytest.mark.parametrize(
    ("code", "reason"), [(None, None), (1000, ""), (1001, "going away"), (4321, "cüstom")]
)
async def test_close_from_the_app(ws: type[Any], http: str, code: int | None, reason: str | None) -> None:
    received: list[dict[str, Any]] = []
    late_send: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        close: dict[str, Any] = {"type": "websocket.close"}
        if code is not None:
            close["code"] = code
        if reason is not None:
            close["reason"] = reason
        await send(close)
        received.append(await receive())
        try:
            await send({"type": "websocket.send", "text": "too late"})
        except RuntimeError as exc:
            late_send.append(str(exc))

    async with serve(app, ws=ws, http=http, lifespan="off") as running, connect(running.ws_url) as client:
        await client.send("close please")
        with pytest.raises(ConnectionClosed):
            await client.recv()
    assert client.close_code == (code or 1000)
    assert client.close_reason == (reason or "")
    assert received == [{"type": "websocket.disconnect", "code": code or 1000, "reason": reason or ""}]
    assert late_send == ["Unexpected ASGI message 'websocket.send', after sending 'websocket.close'."]


@pytest.mark.parametrize("close", [{"code": 1006}, {"code": 999}, {"code": 5000}, {"reason": "x" * 124}])
async def test_an_invalid_close_is_an_app_error(ws: type[Any], http: str, close: dict[str, Any]) -> None:
    errors: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        try:
            await send({"type": "websocket.close", **close})
        except RuntimeError as exc:
            errors.append(str(exc))

    async with serve(app, ws=ws, http=http, lifespan="off") as running, connect(running.ws_url) as client:
        with pytest.raises(ConnectionClosed):
            await client.recv()
    assert len(errors) == 1
    assert "close code" in errors[0] or "close reason" in errors[0]


# 1014 (Bad Gateway) is registered with IANA but missing from wsproto's list: see wsproto_codec.py.
@pytest.mark.parametrize(
    ("code", "reason"), [(1000, ""), (1001, "bye"), (1014, "bad gateway"), (4000, "ünicode")]
)
async def test_close_from_the_client(ws: type[Any], http: str, code: int, reason: str) -> None:
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off") as running,
        connect(running.ws_url) as client,
    ):
        await client.send("hello")
        await client.recv()
        await client.close(code, reason)
        await asyncio.wait_for(app.done.wait(), 30)
    assert app.disconnect == {"type": "websocket.disconnect", "code": code, "reason": reason}
    assert client.close_code == code  # the server echoed the close frame


async def test_an_empty_close_frame_means_1005(ws: type[Any], http: str) -> None:
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off") as running,
        raw_websocket(running) as client,
    ):
        await client.send(frame(OP_CLOSE))
        echo = await client.read_close()
        assert echo.payload == b""
        assert await client.at_eof()
        await asyncio.wait_for(app.done.wait(), 30)
    assert app.disconnect == {"type": "websocket.disconnect", "code": 1005, "reason": ""}


async def test_messages_before_the_client_close_are_delivered_first(ws: type[Any], http: str) -> None:
    release = asyncio.Event()
    received: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await release.wait()  # let the client's messages and close arrive first
        while True:
            message = await receive()
            received.append(message)
            if message["type"] == "websocket.disconnect":
                return

    async with serve(app, ws=ws, http=http, lifespan="off") as running, raw_websocket(running) as client:
        await client.send(
            frame(OP_TEXT, b"one") + frame(OP_TEXT, b"two") + frame(OP_CLOSE, close_payload(1000))
        )
        assert (await client.read_close()).close_code == 1000
        release.set()
        assert await client.at_eof()
    assert received == [
        {"type": "websocket.receive", "text": "one"},
        {"type": "websocket.receive", "text": "two"},
        {"type": "websocket.disconnect", "code": 1000, "reason": ""},
    ]


async def test_client_gone_without_close_frame(ws: type[Any], http: str) -> None:
    app = Recorder()
    send_error: list[BaseException] = []

    async def app_that_sends_after(scope: Any, receive: Any, send: Any) -> None:
        await app(scope, receive, send)
        try:
            await send({"type": "websocket.send", "text": "anyone?"})
        except OSError as exc:  # ClientDisconnected, an OSError (ASGI 2.4)
            send_error.append(exc)

    async with (
        serve(app_that_sends_after, ws=ws, http=http, lifespan="off") as running,
        raw_websocket(running) as client,
    ):
        client.writer.transport.abort()  # no close frame, just gone
        await asyncio.wait_for(app.done.wait(), 30)
    assert app.disconnect == {"type": "websocket.disconnect", "code": 1006}
    assert len(send_error) == 1


async def test_receive_after_disconnect_keeps_answering(ws: type[Any], http: str) -> None:
    after: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        first = await receive()
        after.extend([first, await receive(), await receive()])

    async with serve(app, ws=ws, http=http, lifespan="off") as running, connect(running.ws_url) as client:
        await client.close(1001)
    assert after == [{"type": "websocket.disconnect", "code": 1001, "reason": ""}] * 3


async def test_lifespan_state_is_copied_into_each_scope(ws: type[Any], http: str) -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["counter"] = 1
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        seen.append(dict(scope["state"]))
        scope["state"]["counter"] += 1
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    async with serve(app, ws=ws, http=http, lifespan="on") as running:
        for _ in range(2):
            async with connect(running.ws_url):
                pass
    assert seen == [{"counter": 1}, {"counter": 1}]
