"""``http.response.trailers`` and ``http.response.early_hint`` on HTTP/1.1, read as raw bytes and by curl.

Trailers: a response started with ``"trailers": True`` is chunked; its trailer
section carries the app's fields only when the request said ``TE: trailers``,
and the body completes either way. Early hints: ``103 Early Hints`` before the
final response, to HTTP/1.1 clients only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.debian_tools import ensure_tool
from tests.protocols.raw_http import RawClient, request
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope

TE_TRAILERS = [("Host", "example.org"), ("TE", "trailers")]


async def with_trailers(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """Two body pieces, then two trailer messages."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"trailer", b"x-checksum, x-count"), (b"content-length", b"11")],
            "trailers": True,
        }
    )
    await send({"type": "http.response.body", "body": b"hello", "more_body": True})
    await send({"type": "http.response.body", "body": b" world"})
    await send(
        {"type": "http.response.trailers", "headers": [(b"X-Checksum", b"abc")], "more_trailers": True}
    )
    await send({"type": "http.response.trailers", "headers": [(b"x-count", b"2")]})


async def read_chunked_with_trailers(client: RawClient) -> tuple[bytes, list[bytes]]:
    """The body of a chunked response and the lines of its trailer section, as written."""
    body = b""
    while True:
        size = int((await client.reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            break
        body += (await client.reader.readexactly(size + 2))[:-2]
    lines = []
    while (line := await client.reader.readuntil(b"\r\n")) != b"\r\n":
        lines.append(line[:-2])
    return body, lines


async def test_trailers_reach_a_client_that_asked_for_them(http: str) -> None:
    async with (
        serve(with_trailers, http=http, lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request(headers=TE_TRAILERS))
        status_line, headers = await client.read_head()
        body, trailers = await asyncio.wait_for(read_chunked_with_trailers(client), 30)
        await client.send(request(headers=TE_TRAILERS))  # the connection goes on
        again = await client.read_head()
    assert status_line == b"HTTP/1.1 200 OK"
    names = [name.lower() for name, _ in headers]
    assert (b"transfer-encoding", b"chunked") in headers
    assert b"content-length" not in names  # chunked framing replaces the app's length
    assert (body, trailers) == (b"hello world", [b"x-checksum: abc", b"x-count: 2"])
    assert again[0] == b"HTTP/1.1 200 OK"


async def test_without_te_trailers_the_body_completes_without_them(http: str) -> None:
    async with (
        serve(with_trailers, http=http, lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request())
        await client.read_head()
        body, trailers = await asyncio.wait_for(read_chunked_with_trailers(client), 30)
        await client.send(request())
        again = await client.read_response()
    assert (body, trailers) == (b"hello world", [])
    assert again.status == 200


async def test_a_single_body_message_with_trailers_is_chunked_too() -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "trailers": True})
        await send({"type": "http.response.body", "body": b"whole"})
        await send({"type": "http.response.trailers", "headers": [(b"x-done", b"yes")]})

    async with serve(app, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request(headers=TE_TRAILERS))
        _, headers = await client.read_head()
        body, trailers = await asyncio.wait_for(read_chunked_with_trailers(client), 30)
    assert (b"transfer-encoding", b"chunked") in headers
    assert (body, trailers) == (b"whole", [b"x-done: yes"])


async def test_an_http10_client_gets_the_body_and_no_trailers() -> None:
    async with serve(with_trailers, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request(headers=TE_TRAILERS, version="HTTP/1.0"))
        received = await client.read_until_closed()
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower()
    assert body == b"hello world"


async def test_a_head_request_with_trailers_gets_the_head_alone() -> None:
    async with serve(with_trailers, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request("HEAD", headers=TE_TRAILERS))
        await client.read_head()
        await client.send(request(headers=TE_TRAILERS))  # nothing was left after the HEAD's head
        status_line, _ = await client.read_head()
    assert status_line == b"HTTP/1.1 200 OK"


@pytest.mark.parametrize(
    "fields",
    [[(b":status", b"200")], [(b"x-bad", b"line\r\nbreak")]],
    ids=["pseudo-header", "control-character"],
)
async def test_a_bad_trailer_is_an_app_error(fields: list[tuple[bytes, bytes]]) -> None:
    errors: list[Exception] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "trailers": True})
        await send({"type": "http.response.body", "body": b"data"})
        try:
            await send({"type": "http.response.trailers", "headers": fields})
        except RuntimeError as exc:
            errors.append(exc)
            raise

    async with serve(app, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request(headers=TE_TRAILERS))
        received = await client.read_until_closed()
    assert len(errors) == 1
    assert b"line\r\nbreak" not in received
    assert not received.endswith(b"0\r\n\r\n")  # the body was never completed: the client sees it broken


# ---------------------------------------------------------------- 103 Early Hints


async def hinting(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """One hint before the start, one after it (before the body), one after the body: dropped."""
    await send({"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload; as=style"]})
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send(
        {"type": "http.response.early_hint", "links": [b"</a.js>; rel=preload", b"</b.js>; rel=preload"]}
    )
    await send({"type": "http.response.body", "body": b"page", "more_body": True})
    await send({"type": "http.response.early_hint", "links": [b"</late.css>; rel=preload"]})
    await send({"type": "http.response.body", "body": b"!"})


async def test_early_hints_go_before_the_final_response(http: str) -> None:
    async with serve(hinting, http=http, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request())
        first = await client.read_response()
        second = await client.read_response()
        final = await client.read_response()
    assert (first.status_line, first.headers) == (
        b"HTTP/1.1 103 Early Hints",
        [(b"link", b"</style.css>; rel=preload; as=style")],
    )
    assert second.status == 103
    assert second.header_list(b"link") == [b"</a.js>; rel=preload", b"</b.js>; rel=preload"]
    assert (final.status, final.body) == (200, b"page!")


async def test_an_http10_client_never_gets_an_early_hint() -> None:
    async with serve(hinting, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request(version="HTTP/1.0"))
        received = await client.read_until_closed()
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"103" not in received.split(b"\r\n\r\n")[0]
    assert received.endswith(b"\r\n\r\npage!")


async def test_a_link_with_a_line_break_is_an_app_error_and_nothing_of_it_is_written() -> None:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.early_hint", "links": [b"</a.css>\r\nx-injected: 1"]})

    async with serve(app, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request())
        response = await client.read_response()
    assert response.status == 500
    assert response.header(b"x-injected") is None


# ---------------------------------------------------------------- curl


@pytest.fixture(scope="session")
def curl() -> str:
    return ensure_tool("curl", "curl")


async def run_curl(curl: str, *arguments: str) -> str:
    process = await asyncio.create_subprocess_exec(
        curl, *arguments, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    output, errors = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, errors.decode(errors="replace")
    return output.decode(errors="replace")


async def test_curl_sees_the_hints_and_the_trailers(curl: str, tmp_path: Path) -> None:
    async def app(scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload"]})
        await with_trailers(scope, receive, send)

    heads, body = tmp_path / "heads.txt", tmp_path / "body.bin"
    async with serve(app, lifespan="off") as running:
        # -D writes every head curl reads: the 103, the final head, then the trailer section.
        arguments = ["-sS", "--http1.1", "-H", "TE: trailers", "-D", str(heads), "-o", str(body)]
        await run_curl(curl, *arguments, running.url + "/")
    lines = heads.read_text().replace("\r\n", "\n").split("\n")
    assert lines[:2] == ["HTTP/1.1 103 Early Hints", "link: </style.css>; rel=preload"]
    assert "HTTP/1.1 200 OK" in lines
    assert lines.index("x-checksum: abc") > lines.index("transfer-encoding: chunked")
    assert "x-count: 2" in lines
    assert body.read_bytes() == b"hello world"
