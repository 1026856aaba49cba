"""Server: default headers, limits, graceful shutdown, and every way of listening."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import stat
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.core.apps import hello
from tests.serving import ServerStartupFailed, serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.config import Config
from uvicorn.server import Server, ServerState

HTTP_IMPLEMENTATIONS = ["h11", "httptools"]


async def get(url: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url, **kwargs)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running_server(config: Config, sockets: list[socket.socket] | None = None) -> AsyncIterator[Server]:
    """Serve ``config`` as configured (its own host/port, uds or fd, or ``sockets``) until the block ends."""
    server = Server(config)
    task = asyncio.create_task(server.serve(sockets=sockets))
    started = asyncio.create_task(server._startup_complete.wait())
    await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
    assert server.started, "the server did not start"
    try:
        yield server
    finally:
        server.should_exit = True
        await task


# ---------------------------------------------------------------- default headers


@pytest.mark.parametrize("http", HTTP_IMPLEMENTATIONS)
async def test_default_headers(http: str) -> None:
    async with serve(hello, http=http) as running:
        response = await get(running.url)
    assert response.headers["server"] == "uvicorn"
    assert response.headers["date"].endswith(" GMT")


@pytest.mark.parametrize("http", HTTP_IMPLEMENTATIONS)
async def test_no_server_or_date_header(http: str) -> None:
    async with serve(hello, http=http, server_header=False, date_header=False) as running:
        response = await get(running.url)
    assert "server" not in response.headers
    assert "date" not in response.headers


@pytest.mark.parametrize("http", HTTP_IMPLEMENTATIONS)
async def test_custom_headers(http: str) -> None:
    headers = [("X-Extra", "one"), ("Server", "custom"), ("Server", "second")]
    async with serve(hello, http=http, headers=headers) as running:
        response = await get(running.url)
    assert response.headers["x-extra"] == "one"
    assert response.headers.get_list("server") == ["custom", "second"]  # they replace ours
    assert running.config.encoded_headers == [
        (b"x-extra", b"one"),
        (b"server", b"custom"),
        (b"server", b"second"),
    ]


async def app_with_server_header(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"server", b"my-app")]})
    await send({"type": "http.response.body", "body": b""})


@pytest.mark.parametrize("http", HTTP_IMPLEMENTATIONS)
async def test_app_overrides_server_header(http: str) -> None:
    async with serve(app_with_server_header, http=http, lifespan="off") as running:
        response = await get(running.url)
    assert response.headers.get_list("server") == ["my-app"]


async def test_default_headers_replaced_not_mutated_on_tick() -> None:
    config = Config(hello, headers=[("x-a", "b")])
    config.load()
    server = Server(config)
    await server.on_tick(0)
    first = server.server_state.default_headers
    snapshot = list(first)
    await server.on_tick(10)
    assert server.server_state.default_headers is not first
    assert first == snapshot
    second = server.server_state.default_headers
    assert [name for name, _ in second] == [b"date", b"server", b"x-a"]
    await server.on_tick(11)  # not a full second later: the same list
    assert server.server_state.default_headers is second


# ---------------------------------------------------------------- limits


class Gate:
    """An app whose responses wait until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.opened = asyncio.Event()

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] != "http":
            return
        self.entered.set()
        await self.opened.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"through the gate"})


@pytest.mark.parametrize("http", HTTP_IMPLEMENTATIONS)
async def test_limit_concurrency_answers_503(http: str) -> None:
    gate = Gate()
    async with (
        serve(gate, http=http, limit_concurrency=2, lifespan="off") as running,
        httpx.AsyncClient() as client,
    ):
        first = asyncio.create_task(client.get(running.url))
        await gate.entered.wait()
        async with httpx.AsyncClient() as other:
            refused = await other.get(running.url)
        gate.opened.set()
        accepted = await first
    assert refused.status_code == 503
    assert refused.text == "Service Unavailable"
    assert accepted.status_code == 200


@pytest.mark.parametrize("http", HTTP_IMPLEMENTATIONS)
async def test_limit_max_requests_stops_the_server(http: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    config = Config(hello, http=http, port=0, limit_max_requests=2)
    server = Server(config)
    task = asyncio.create_task(server.serve())
    await server._startup_complete.wait()
    port = server.servers[0].sockets[0].getsockname()[1]
    async with httpx.AsyncClient() as client:
        for _ in range(2):
            assert (await client.get(f"http://127.0.0.1:{port}")).status_code == 200
    await task  # no should_exit from us: the limit ends it
    assert "Maximum request limit of 2 exceeded. Terminating process." in caplog.messages


def test_limit_max_requests_jitter_is_within_bounds() -> None:
    limits = {
        Server(Config(hello, limit_max_requests=10, limit_max_requests_jitter=3)).limit_max_requests
        for _ in range(200)
    }
    assert limits <= {10, 11, 12, 13}
    assert len(limits) > 1
    assert Server(Config(hello)).limit_max_requests is None


async def test_callback_notify() -> None:
    calls: list[bool] = []

    async def notify() -> None:
        calls.append(True)

    config = Config(hello, callback_notify=notify, timeout_notify=30)
    config.load()
    server = Server(config)
    await server.on_tick(0)
    await server.on_tick(10)  # a second later: within timeout_notify, no second call
    assert calls == [True]


# ---------------------------------------------------------------- graceful shutdown


@pytest.mark.parametrize("http", HTTP_IMPLEMENTATIONS)
async def test_shutdown_waits_for_the_response_in_flight(http: str) -> None:
    gate = Gate()
    async with serve(gate, http=http, lifespan="off") as running, httpx.AsyncClient() as client:
        request = asyncio.create_task(client.get(running.url))
        await gate.entered.wait()
        running.server.should_exit = True
        # The server is now shutting down; the response still gets through.
        gate.opened.set()
        response = await request
    assert response.text == "through the gate"


class StalledStream:
    """An app that starts a streamed response and never finishes it."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"start", "more_body": True})
        self.entered.set()
        await asyncio.Event().wait()  # forever, until cancelled


@pytest.mark.parametrize("http", HTTP_IMPLEMENTATIONS)
async def test_timeout_graceful_shutdown_cancels_the_request(
    http: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = StalledStream()
    async with (
        serve(app, http=http, lifespan="off", timeout_graceful_shutdown=0) as running,
        httpx.AsyncClient() as client,
    ):
        request = asyncio.create_task(client.get(running.url))
        await app.entered.wait()
        running.server.should_exit = True
        with pytest.raises(httpx.RemoteProtocolError):
            await request  # the body was cut short
    assert "Cancel 1 running task(s), timeout graceful shutdown exceeded" in caplog.messages


# ---------------------------------------------------------------- where it listens


async def test_port_zero_logs_the_real_port(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with running_server(Config(hello, port=0)) as server:
        port = server.servers[0].sockets[0].getsockname()[1]
        assert (await get(f"http://127.0.0.1:{port}")).text == "hello"
    assert port != 0
    assert f"Uvicorn running on http://127.0.0.1:{port} (Press CTRL+C to quit)" in caplog.messages


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not has_ipv6_loopback(), reason="::1 is not available")
async def test_ipv6(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with running_server(Config(hello, host="::1", port=0)) as server:
        port = server.servers[0].sockets[0].getsockname()[1]
        assert (await get(f"http://[::1]:{port}")).text == "hello"
    assert f"Uvicorn running on http://[::1]:{port} (Press CTRL+C to quit)" in caplog.messages


async def test_bind_socket_tcp_serves() -> None:
    sock = Config(hello, port=0).bind_socket()
    with sock:
        # As upstream: the protocol is named, so sock.proto says TCP.
        assert (sock.family, sock.type) == (socket.AF_INET, socket.SOCK_STREAM)
        assert sock.proto == socket.IPPROTO_TCP
        async with running_server(Config(hello), sockets=[sock]) as server:
            port = server.servers[0].sockets[0].getsockname()[1]
            assert (await get(f"http://127.0.0.1:{port}")).text == "hello"


@pytest.mark.skipif(not has_ipv6_loopback(), reason="::1 is not available")
def test_bind_socket_ipv6() -> None:
    sock = Config(hello, host="::1", port=0).bind_socket()
    with sock:
        assert sock.family == socket.AF_INET6
        assert sock.getsockname()[0] == "::1"


async def test_unix_socket(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    path = str(tmp_path / "uvicorn.sock")
    async with running_server(Config(hello, uds=path)) as server:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o666
        transport = httpx.AsyncHTTPTransport(uds=path)
        async with httpx.AsyncClient(transport=transport) as client:
            assert (await client.get("http://uvicorn/")).text == "hello"
        assert server.started
    assert f"Uvicorn running on unix socket {path} (Press CTRL+C to quit)" in caplog.messages


def test_bind_socket_unix(tmp_path: Path) -> None:
    path = str(tmp_path / "bound.sock")
    with Config(hello, uds=path).bind_socket() as sock:
        assert sock.family == socket.AF_UNIX
        assert sock.getsockname() == path
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o666
        assert sock.get_inheritable()


async def test_file_descriptor(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        async with running_server(Config(hello, fd=listener.fileno())):
            assert (await get(f"http://127.0.0.1:{port}")).text == "hello"
        assert listener.fileno() != -1  # the server used a duplicate; ours stays open
    assert f"Uvicorn running on socket ('127.0.0.1', {port}) (Press CTRL+C to quit)" in caplog.messages


def test_bind_socket_from_file_descriptor() -> None:
    with socket.socket(socket.AF_UNIX) as original, Config(hello, fd=original.fileno()).bind_socket() as sock:
        assert sock.family == socket.AF_UNIX
        assert sock.fileno() != original.fileno()


async def test_prebound_sockets() -> None:
    socks = [socket.socket(), socket.socket()]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in socks]
    server = Server(Config(hello))
    task = asyncio.create_task(server.serve(sockets=socks))
    await server._startup_complete.wait()
    for port in ports:
        assert (await get(f"http://127.0.0.1:{port}")).text == "hello"
    server.should_exit = True
    await task
    assert all(sock.fileno() == -1 for sock in socks)  # closed at shutdown


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss(8) to read the listen backlog")
async def test_backlog_reaches_the_listening_socket() -> None:
    async with serve(hello, backlog=77) as running:
        listing = subprocess.run(
            ["ss", "-ltnH", f"sport = :{running.port}"], capture_output=True, text=True, check=True
        ).stdout
    # For a listening socket ss shows the backlog in the Send-Q column.
    assert listing.split()[2] == "77"


async def test_bind_failure_exits_3(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = Config(hello, port=taken.getsockname()[1])
        server = Server(config)
        with pytest.raises(SystemExit) as info:
            await server.serve()
    assert info.value.code == 3
    [error] = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert "address already in use" in error.lower()
    assert "choose another --port" in error


async def test_startup_failure_in_the_helper_is_reported_at_once() -> None:
    with pytest.raises(ServerStartupFailed) as info:
        async with serve("tests.core.apps:no_such_app"):
            pytest.fail("the block must not run")
    assert info.value.exit_code == 3


def test_server_state_starts_empty() -> None:
    state = ServerState()
    assert (state.total_requests, state.connections, state.tasks, state.default_headers) == (
        0,
        set(),
        set(),
        [],
    )
