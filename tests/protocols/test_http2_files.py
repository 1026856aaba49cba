"""``http.response.pathsend`` and ``zerocopysend`` on HTTP/2 streams, on both engines.

A file goes out as DATA frames read a chunk at a time as the client's window
lets the previous chunk out: a client that opens no window holds the app's
``send()`` with at most one chunk read, a reset stream ends the send, and the
server never keeps a file it opened.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.protocols.h2_client import H2Client
from tests.protocols.test_http_pathsend import open_descriptors, pathsend_app
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope

BIG = 8 * 1024 * 1024


@pytest.fixture(params=["zttp", "h2"])
def engine(request: pytest.FixtureRequest) -> str:
    pytest.importorskip(str(request.param))
    return str(request.param)


def options(engine: str) -> dict[str, Any]:
    return {"http2": True, "http2_engine": engine, "lifespan": "off"}


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "small.bin"
    path.write_bytes(os.urandom(100 * 1024 + 3))
    return path


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "big.bin"
    path.write_bytes(os.urandom(BIG))
    return path


async def test_pathsend_over_http2_with_httpx(engine: str, small_file: Path) -> None:
    async with (
        serve(pathsend_app(small_file), **options(engine)) as running,
        httpx.AsyncClient(http1=False, http2=True) as client,
    ):
        response = await client.get(running.url + "/")
        head = await client.head(running.url + "/")
    assert response.http_version == "HTTP/2"
    assert response.content == small_file.read_bytes()
    assert (
        response.headers["content-length"] == head.headers["content-length"] == str(small_file.stat().st_size)
    )
    assert head.content == b""
    assert open_descriptors(small_file) == 0


async def test_zerocopysend_parts_over_http2(engine: str, small_file: Path) -> None:
    data = small_file.read_bytes()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        assert "http.response.zerocopysend" in scope["extensions"]
        with small_file.open("rb") as file:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            part = {"type": "http.response.zerocopysend", "file": file, "offset": 3, "count": 70000}
            await send({**part, "more_body": True})
            await send({"type": "http.response.body", "body": b"|", "more_body": True})
            await send({"type": "http.response.zerocopysend", "file": file, "offset": 90000})

    async with serve(app, **options(engine)) as running, H2Client.connect(running) as client:
        response = await client.get("/")
    assert response.body == data[3:70003] + b"|" + data[90000:]


async def test_a_missing_file_is_a_500_on_its_stream(engine: str, tmp_path: Path) -> None:
    app = pathsend_app(tmp_path / "missing.bin", [(b"x-file", b"yes")])
    async with serve(app, **options(engine)) as running, H2Client.connect(running) as client:
        response = await client.get("/")
        after = await client.get("/")  # the connection serves on
    assert (response.status, response.header(b"x-file")) == (500, None)
    assert after.status == 500


class FileServing:
    """A pathsend app that records when its ``send()`` of the file returned."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.returned = asyncio.Event()

    async def __call__(self, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": str(self.path)})
        self.returned.set()


async def test_the_client_window_paces_the_file(engine: str, big_file: Path) -> None:
    app = FileServing(big_file)
    async with serve(app, **options(engine)) as running, H2Client.connect(running, window=65535) as client:
        stream_id = await client.send("GET", "/")
        response = client.responses[stream_id]
        while len(response.body) < 65535:
            assert await client.read_events(), "the server closed"
        # The client has granted no more window: the server has read at most a chunk ahead
        # (a server that read the whole file at once would have returned from send() already).
        assert not app.returned.is_set()
        assert open_descriptors(big_file) == 1
        client.auto_acknowledge = True
        client.conn.acknowledge_received_data(len(response.body), stream_id)
        await client.flush()
        response = await client.response(stream_id)
        await asyncio.wait_for(app.returned.wait(), 30)
    assert response.body == big_file.read_bytes()
    assert open_descriptors(big_file) == 0


async def test_a_reset_stream_ends_the_send_and_closes_the_file(engine: str, big_file: Path) -> None:
    app = FileServing(big_file)
    async with serve(app, **options(engine)) as running, H2Client.connect(running, window=65535) as client:
        stream_id = await client.send("GET", "/")
        response = client.responses[stream_id]
        while len(response.body) < 65535:
            assert await client.read_events(), "the server closed"
        client.conn.reset_stream(stream_id)
        await client.flush()
        await asyncio.wait_for(app.returned.wait(), 30)  # send() returned, without an error
        assert open_descriptors(big_file) == 0
        client.auto_acknowledge = True
        client.conn.increment_flow_control_window(len(response.body))  # the connection's window back
        after = await client.get("/")  # the connection serves on
    assert after.body == big_file.read_bytes()
