"""The HTTP scope an app gets, identical under both parsers."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from tests.protocols.apps import Recorder, send_response
from tests.protocols.raw_http import RawClient, request
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope


async def scope_of(http: str, data: bytes, **options: Any) -> dict[str, Any]:
    """Send ``data`` on a new connection and return the scope the app saw."""
    app = Recorder()
    options.setdefault("lifespan", "off")
    options.setdefault("proxy_headers", False)
    async with serve(app, http=http, **options) as running, RawClient.connect(running) as client:
        await client.send(data)
        response = await client.read_response()
        assert response.status == 200, response
        scope = app.scope
        scope["_client_port"] = client.local_port
        scope["_server_port"] = running.port
    return scope


async def test_scope_fields(http: str) -> None:
    data = request(
        "GET", "/items/42?sort=asc&page=2", headers=[("Host", "example.org"), ("X-Custom", "Value One")]
    )
    scope = await scope_of(http, data)
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.3"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/items/42"
    assert scope["raw_path"] == b"/items/42"
    assert scope["query_string"] == b"sort=asc&page=2"
    assert scope["root_path"] == ""
    assert scope["server"] == ("127.0.0.1", scope["_server_port"])
    assert scope["client"] == ("127.0.0.1", scope["_client_port"])
    assert scope["headers"] == [(b"host", b"example.org"), (b"x-custom", b"Value One")]
    assert scope["state"] == {}


async def test_headers_keep_order_duplicates_and_raw_values(http: str) -> None:
    headers = [
        ("Host", "example.org"),
        ("Accept", "text/html"),
        ("X-Twice", "first"),
        ("Cookie", "a=1"),
        ("X-Twice", "second"),
        ("X-Spaces", "inner   spaces\tand tab"),
    ]
    scope = await scope_of(http, request(headers=headers))
    assert scope["headers"] == [
        (b"host", b"example.org"),
        (b"accept", b"text/html"),
        (b"x-twice", b"first"),
        (b"cookie", b"a=1"),
        (b"x-twice", b"second"),
        (b"x-spaces", b"inner   spaces\tand tab"),
    ]


async def test_whitespace_around_header_values_is_not_part_of_them(http: str) -> None:
    """RFC 9110 5.5: leading and trailing spaces and tabs are not part of a field value."""
    data = (
        b"GET / HTTP/1.1\r\nHost:  example.org \t\r\n"
        b"X-Around: \t inner  value \t \r\nX-Blank:  \t \r\nX-Tight:v\r\n\r\n"
    )
    scope = await scope_of(http, data)
    assert scope["headers"] == [
        (b"host", b"example.org"),
        (b"x-around", b"inner  value"),
        (b"x-blank", b""),
        (b"x-tight", b"v"),
    ]


async def test_header_value_with_obs_text_reaches_the_app_as_bytes(http: str) -> None:
    data = b"GET / HTTP/1.1\r\nHost: example.org\r\nX-Latin: caf\xe9\r\n\r\n"
    scope = await scope_of(http, data)
    assert (b"x-latin", b"caf\xe9") in scope["headers"]


async def test_http_1_0_request(http: str) -> None:
    scope = await scope_of(http, b"GET /old HTTP/1.0\r\n\r\n")
    assert scope["http_version"] == "1.0"
    assert scope["path"] == "/old"
    assert scope["headers"] == []


async def test_other_methods(http: str) -> None:
    for method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH", "PURGE"):
        scope = await scope_of(http, request(method, "/thing", body=b"x" if method != "OPTIONS" else b""))
        assert scope["method"] == method


async def test_percent_encoded_path(http: str) -> None:
    scope = await scope_of(http, request("GET", "/caf%C3%A9/a%2Fb%20c?q=%2F"))
    assert scope["path"] == "/café/a/b c"
    assert scope["raw_path"] == b"/caf%C3%A9/a%2Fb%20c"
    assert scope["query_string"] == b"q=%2F"  # never decoded


async def test_empty_query_string(http: str) -> None:
    scope = await scope_of(http, request("GET", "/path?"))
    assert scope["path"] == "/path"
    assert scope["query_string"] == b""


async def test_root_path_prefixes_path_and_raw_path(http: str) -> None:
    scope = await scope_of(http, request("GET", "/items%20x?a=b"), root_path="/api")
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/items x"
    assert scope["raw_path"] == b"/api/items%20x"
    assert scope["query_string"] == b"a=b"


async def test_absolute_form_target(http: str) -> None:
    scope = await scope_of(http, request("GET", "http://example.org/abs/path?q=1"))
    assert scope["path"] == "/abs/path"
    assert scope["raw_path"] == b"/abs/path"
    assert scope["query_string"] == b"q=1"


async def test_absolute_form_target_without_path(http: str) -> None:
    scope = await scope_of(http, request("GET", "http://example.org:8080"))
    assert scope["path"] == "/"
    assert scope["query_string"] == b""
    scope = await scope_of(http, request("GET", "https://example.org?x=y"))
    assert scope["path"] == "/"
    assert scope["query_string"] == b"x=y"


async def test_asterisk_form_target(http: str) -> None:
    scope = await scope_of(http, request("OPTIONS", "*"))
    assert scope["method"] == "OPTIONS"
    assert scope["path"] == "*"


async def test_asgi2_app_sees_asgi_version_2(http: str) -> None:
    scopes: list[Scope] = []

    class ASGI2App:
        def __init__(self, scope: Scope) -> None:
            scopes.append(scope)

        async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
            await send_response(send, 204)

    async with (
        serve(ASGI2App, http=http, interface="asgi2", lifespan="off") as running,
        httpx.AsyncClient() as client,
    ):
        response = await client.get(running.url)
    assert response.status_code == 204
    assert scopes[0]["asgi"] == {"version": "2.0", "spec_version": "2.3"}


async def test_scheme_is_https_over_tls(
    http: str,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
    tls_ca_ssl_context: ssl.SSLContext,
) -> None:
    app = Recorder()
    async with (
        serve(
            app,
            http=http,
            lifespan="off",
            proxy_headers=False,
            ssl_certfile=tls_certificate_server_cert_path,
            ssl_keyfile=tls_certificate_private_key_path,
        ) as running,
        httpx.AsyncClient(verify=tls_ca_ssl_context) as client,
    ):
        response = await client.get(running.url + "/secure")
    assert response.status_code == 200
    assert app.scope["scheme"] == "https"
    assert app.scope["server"] == ("127.0.0.1", running.port)


async def test_lifespan_state_is_copied_into_each_request(http: str) -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            scope["state"]["counter"] = 1
            scope["state"]["shared"] = ["from startup"]
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            assert message["type"] == "lifespan.shutdown"
            await send({"type": "lifespan.shutdown.complete"})
            return
        state = scope["state"]
        seen.append(dict(state))
        state["counter"] += 1  # a request's changes must not leak into the next request
        state["added"] = True
        await send_response(send, 204)

    async with serve(app, http=http, lifespan="on") as running, httpx.AsyncClient() as client:
        for _ in range(2):
            response = await client.get(running.url)
            assert response.status_code == 204
    assert seen == [{"counter": 1, "shared": ["from startup"]}] * 2


async def test_each_request_gets_its_own_scope(http: str) -> None:
    app = Recorder()
    async with (
        serve(app, http=http, lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("GET", "/one?a=1") + request("POST", "/two", body=b"xyz"))
        assert (await client.read_response()).body == b"/one"
        assert (await client.read_response()).body == b"/two"
    first, second = app.scopes
    assert first is not second
    assert (first["method"], first["path"], first["query_string"]) == ("GET", "/one", b"a=1")
    assert (second["method"], second["path"], second["query_string"]) == ("POST", "/two", b"")
    assert (b"content-length", b"3") in second["headers"]
    assert app.bodies == [b"", b"xyz"]
