"""HTTP/2 as an app sees it, on both engines (zttp, h2), through real clients over real sockets."""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

import httpx
import pytest

from tests.protocols.apps import Recorder, hello, read_body, send_response
from tests.protocols.h2_client import INTERNAL_ERROR, H2Client
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(params=["zttp", "h2"])
def engine(request: pytest.FixtureRequest) -> str:
    """The HTTP/2 engine under test."""
    pytest.importorskip(str(request.param))
    return str(request.param)


def options(engine: str, **extra: Any) -> dict[str, Any]:
    return {"http2": True, "http2_engine": engine, "lifespan": "off", **extra}


async def test_prior_knowledge_request_reaches_the_app_as_http2(engine: str) -> None:
    app = Recorder()
    async with (
        serve(app, **options(engine, root_path="/api")) as running,
        httpx.AsyncClient(http1=False, http2=True) as client,
    ):
        response = await client.post(running.url + "/path%2Fitem?a=1&b=2", content=b"hello")
    assert response.http_version == "HTTP/2"
    assert response.status_code == 200
    scope = app.scope
    assert scope["http_version"] == "2"
    assert scope["method"] == "POST"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/api/path/item"
    assert scope["raw_path"] == b"/api/path%2Fitem"
    assert scope["root_path"] == "/api"
    assert scope["query_string"] == b"a=1&b=2"
    assert (b"host", b"127.0.0.1:%d" % running.port) in scope["headers"]
    assert scope["extensions"] == {
        "http.response.trailers": {},
        "http.response.early_hint": {},
        "http.response.pathsend": {},
        "http.response.zerocopysend": {},
    }
    assert app.bodies == [b"hello"]


async def test_tls_alpn_selects_http2_and_http11(
    engine: str,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
    tls_ca_ssl_context: ssl.SSLContext,
) -> None:
    app = Recorder()
    tls = {"ssl_certfile": tls_certificate_server_cert_path, "ssl_keyfile": tls_certificate_private_key_path}
    async with serve(app, **options(engine, **tls)) as running:
        async with httpx.AsyncClient(http2=True, verify=tls_ca_ssl_context) as client:
            h2 = await client.get(running.url + "/two")
        async with httpx.AsyncClient(verify=tls_ca_ssl_context) as client:
            h1 = await client.get(running.url + "/one")
    assert (h2.http_version, h2.text) == ("HTTP/2", "/two")
    assert (h1.http_version, h1.text) == ("HTTP/1.1", "/one")
    assert [scope["scheme"] for scope in app.scopes] == ["https", "https"]
    assert [scope["http_version"] for scope in app.scopes] == ["2", "1.1"]


@pytest.mark.parametrize("http", ["auto", "h11", "httptools", "zttp"])
async def test_every_http1_parser_serves_both_versions(http: str) -> None:
    pytest.importorskip("zttp") if http == "zttp" else None
    async with serve(hello, http=http, http2=True, lifespan="off") as running:
        async with httpx.AsyncClient(http1=False, http2=True) as client:
            h2 = await client.get(running.url)
        async with httpx.AsyncClient() as client:
            h1 = await client.get(running.url)
    assert (h2.http_version, h2.text) == ("HTTP/2", "Hello, world")
    assert (h1.http_version, h1.text) == ("HTTP/1.1", "Hello, world")


async def test_multiplexed_streams_are_served_concurrently(engine: str) -> None:
    both_arrived = asyncio.Event()
    arrived: list[str] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        arrived.append(scope["path"])
        if len(arrived) == 2:
            both_arrived.set()
        await both_arrived.wait()  # the first stream is answered only once the second is running
        await send_response(send, 200, scope["path"].encode())

    async with serve(app, **options(engine)) as running, H2Client.connect(running) as client:
        first = await client.send("GET", "/first")
        second = await client.send("GET", "/second")
        responses = [await client.response(first), await client.response(second)]
    assert [(r.status, r.body) for r in responses] == [(200, b"/first"), (200, b"/second")]


async def test_streamed_response_head_and_204(engine: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["path"] == "/204":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b"ignored"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"1")]})
        for chunk in (b"1", b"2", b"3"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async with serve(app, **options(engine)) as running, H2Client.connect(running) as client:
        streamed = await client.get("/")
        head = await client.response(await client.send("HEAD", "/"))
        no_content = await client.get("/204")
    assert (streamed.status, streamed.body, streamed.ended) == (200, b"123", True)
    assert streamed.header(b"x-app") == b"1"
    assert streamed.header(b"server") == b"uvicorn" and streamed.header(b"date") is not None
    assert (head.status, head.body, head.ended) == (200, b"", True)
    assert (no_content.status, no_content.body, no_content.header(b"content-length")) == (204, b"", None)


@pytest.mark.parametrize("te", [None, "trailers"])
async def test_trailers_only_when_the_request_asked(engine: str, te: str | None) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "trailers": True})
        await send({"type": "http.response.body", "body": b"hello"})
        await send(
            {"type": "http.response.trailers", "headers": [(b"X-Result", b"one")], "more_trailers": True}
        )
        await send({"type": "http.response.trailers", "headers": [(b"x-result", b"two")]})

    headers = [("te", te)] if te else []
    async with serve(app, **options(engine)) as running, H2Client.connect(running) as client:
        response = await client.get("/", headers=headers)
    assert (response.body, response.ended) == (b"hello", True)
    assert response.trailers == ([(b"x-result", b"one"), (b"x-result", b"two")] if te else [])


async def test_early_hints_before_the_response(engine: str) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload; as=style"]})
        await send_response(send, 200, b"OK")

    async with serve(app, **options(engine)) as running, H2Client.connect(running) as client:
        response = await client.get("/")
    assert response.informational == [(103, [(b"link", b"</style.css>; rel=preload; as=style")])]
    assert (response.status, response.body) == (200, b"OK")


async def test_app_errors_answer_500_or_reset_only_their_stream(
    engine: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["path"] == "/raise":
            raise RuntimeError("boom")
        if scope["path"] == "/partial":
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]}
            )
            await send({"type": "http.response.body", "body": b"12345"})
            return
        if scope["path"] == "/nothing":
            return
        await send_response(send, 200, b"fine")

    async with serve(app, **options(engine)) as running, H2Client.connect(running) as client:
        raised = await client.get("/raise")
        partial = await client.get("/partial")
        nothing = await client.get("/nothing")
        after = await client.get("/")  # the same connection goes on
    assert (raised.status, raised.body) == (500, b"Internal Server Error")
    assert raised.header(b"connection") is None  # connection-specific fields never go out on HTTP/2
    assert partial.reset_code == INTERNAL_ERROR
    assert nothing.status == 500
    assert (after.status, after.body) == (200, b"fine")
    assert "Exception in ASGI application" in caplog.text
    assert "ASGI callable returned without starting response." in caplog.text
    assert "Response content shorter than Content-Length" in caplog.text


async def test_limit_concurrency_answers_503(engine: str) -> None:
    release = asyncio.Event()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["path"] == "/hold":
            await release.wait()
        await send_response(send, 200, b"ok")

    async with (
        serve(app, **options(engine, limit_concurrency=2)) as running,
        H2Client.connect(running) as client,
    ):
        held = [await client.send("GET", "/hold"), await client.send("GET", "/hold")]
        refused = await client.get("/")  # two requests in flight: the limit is reached
        release.set()
        finished = [await client.response(stream_id) for stream_id in held]
    assert refused.status == 503
    assert [response.status for response in finished] == [200, 200]


async def test_client_reset_disconnects_the_app(engine: str) -> None:
    disconnected = asyncio.Event()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["method"] == "GET":
            await send_response(send, 200, b"next")
            return
        message = await receive()
        while message["type"] != "http.disconnect":
            message = await receive()
        disconnected.set()

    async with serve(app, **options(engine)) as running, H2Client.connect(running) as client:
        stream_id = await client.send("POST", "/", body=b"part", end=False)
        client.conn.reset_stream(stream_id)
        await client.flush()
        await asyncio.wait_for(disconnected.wait(), 10)
        after = await client.get("/")  # the connection is still served
    assert (after.status, after.body) == (200, b"next")


async def test_access_log_and_max_requests_count_http2(engine: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    async with serve(hello, **options(engine)) as running, H2Client.connect(running) as client:
        await client.get("/logged?x=1")
        total = running.server.server_state.total_requests
    assert '"GET /logged?x=1 HTTP/2" 200' in caplog.text
    assert total == 1


async def test_request_body_in_pieces(engine: str) -> None:
    received: list[bytes] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        body, _ = await read_body(receive)
        received.append(body)
        await send_response(send, 200, b"%d" % len(body))

    payload = bytes(range(256)) * 1024  # 256 KiB: several windows' worth
    async with serve(app, **options(engine)) as running, H2Client.connect(running) as client:
        response = await client.response(await client.send("POST", "/", body=payload))
    assert response.body == b"%d" % len(payload)
    assert received == [payload]


async def test_proxy_headers_apply_to_http2_streams(engine: str) -> None:
    app = Recorder()
    async with serve(app, **options(engine)) as running, H2Client.connect(running) as client:
        await client.get("/", headers=[("x-forwarded-for", "203.0.113.7"), ("x-forwarded-proto", "https")])
    assert app.scope["client"][0] == "203.0.113.7"
    assert app.scope["scheme"] == "https"
