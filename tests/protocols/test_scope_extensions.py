"""What ``scope["extensions"]`` announces on HTTP/1.x: only what works for that request's version."""

from __future__ import annotations

from typing import Any

from tests.protocols.raw_http import RawClient, request
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable

FILES = {"http.response.pathsend", "http.response.zerocopysend"}
HTTP11 = FILES | {"http.response.trailers", "http.response.early_hint"}


class Announced:
    """Records the extension names of each request, then adds one of its own (as a middleware might)."""

    def __init__(self) -> None:
        self.names: list[set[str]] = []

    async def __call__(self, scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        self.names.append(set(scope["extensions"]))
        scope["extensions"]["x-middleware"] = {}
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


async def test_http11_and_http10_requests_announce_what_works_for_them(http: str) -> None:
    app = Announced()
    async with serve(app, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        for version in ("HTTP/1.1", "HTTP/1.1", "HTTP/1.0"):
            headers = [("Host", "example.org"), ("Connection", "keep-alive")]
            await client.send(request(headers=headers, version=version))
            assert (await client.read_response()).status == 200
    # HTTP/1.0 has no chunked framing (trailers) and no interim responses (103); what one
    # request's app added is not seen by the next request on the connection.
    assert app.names == [HTTP11, HTTP11, FILES]
