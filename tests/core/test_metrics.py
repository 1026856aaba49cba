"""``admin_port``: a server's own metrics and health endpoints, on a real server with real clients.

The scrapes are parsed with prometheus-client's parser (tests/core/metrics_scrape.py);
``--workers`` is covered with real processes in tests/cli/test_admin_workers.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.core.metrics_scrape import scrape
from tests.protocols.apps import read_body, send_response
from tests.protocols.raw_http import RawClient, request
from tests.protocols.test_websocket_support import IMPLEMENTATIONS
from tests.serving import RunningServer, ServerStartupFailed, serve
from uvicorn._startup import InvalidOptionError, MissingDependencyError
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.config import Config
from uvicorn.server import Server


class App:
    """/slow waits for ``release``; /body echoes the request body's size; anything else: 200 "ok"."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.slow_started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            await self.release.wait()
            await send({"type": "websocket.close"})
            return
        assert scope["type"] == "http"
        self.paths.append(scope["path"])
        if scope["path"] == "/slow":
            self.slow_started.set()
            await self.release.wait()
        body, _ = await read_body(receive)
        status = 404 if scope["path"] == "/missing" else 200
        await send_response(send, status, b"ok" if not body else b"%d" % len(body))


@pytest.fixture(params=["h11", "httptools"])
def http(request: pytest.FixtureRequest) -> str:
    """The HTTP parser: both report the same numbers."""
    return str(request.param)


def admin_url(running: RunningServer) -> str:
    telemetry = running.server._telemetry
    assert telemetry is not None and telemetry.admin is not None
    return telemetry.admin.url


@pytest.fixture
async def served(http: str) -> AsyncIterator[tuple[RunningServer, App]]:
    app = App()
    async with serve(
        app, http=http, lifespan="off", log_config=None, admin_port=0, limit_request_line=200
    ) as running:
        yield running, app
        app.release.set()


async def test_counters_match_the_requests_made(served: tuple[RunningServer, App]) -> None:
    running, _ = served
    async with httpx.AsyncClient(base_url=running.url) as client:
        for _ in range(3):
            assert (await client.get("/ok")).status_code == 200
        assert (await client.post("/body", content=b"x" * 100)).text == "100"
        assert (await client.get("/missing")).status_code == 404
        assert (await client.request("PROPFIND", "/ok")).status_code == 200  # counted as "other"
    async with RawClient.connect(running) as raw:
        await raw.send(request("GET", "/" + "a" * 300))  # over limit_request_line
        assert (await raw.read_response()).status == 414

    metrics = await asyncio.to_thread(scrape, admin_url(running))
    assert metrics.value("uvicorn_http_requests_total", method="GET", status_class="2xx") == 3
    assert metrics.value("uvicorn_http_requests_total", method="POST", status_class="2xx") == 1
    assert metrics.value("uvicorn_http_requests_total", method="GET", status_class="4xx") == 1
    assert metrics.value("uvicorn_http_requests_total", method="other", status_class="2xx") == 1
    assert metrics.value("uvicorn_http_request_duration_seconds_count") == 6
    assert metrics.value("uvicorn_http_request_duration_seconds_bucket", le="+Inf") == 6
    assert metrics.value("uvicorn_http_request_duration_seconds_sum") > 0
    assert metrics.value("uvicorn_received_bytes_total", protocol="http") == 100
    assert metrics.value("uvicorn_sent_bytes_total", protocol="http") == 5 * len(b"ok") + len(b"100")
    assert metrics.value("uvicorn_rejected_requests_total", reason="limit_request_line") == 1
    assert metrics.total("uvicorn_rejected_requests_total") == 1
    assert metrics.value("uvicorn_http_requests_in_flight") == 0
    assert metrics.value("uvicorn_workers") == 1
    assert metrics.value("uvicorn_event_loop_lag_seconds") >= 0
    assert metrics.total("uvicorn_worker_restarts_total") == 0


async def test_gauges_show_what_is_going_on_now(served: tuple[RunningServer, App]) -> None:
    running, app = served
    async with httpx.AsyncClient(base_url=running.url) as client, connect(running.ws_url + "/ws"):
        slow = asyncio.create_task(client.get("/slow"))
        await app.slow_started.wait()
        metrics = await asyncio.to_thread(scrape, admin_url(running))
        assert metrics.value("uvicorn_http_requests_in_flight") == 1
        assert metrics.value("uvicorn_open_connections", protocol="websocket") == 1
        assert metrics.value("uvicorn_open_connections", protocol="http1") == 1  # the slow request's
        app.release.set()
        assert (await slow).status_code == 200
    metrics = await asyncio.to_thread(scrape, admin_url(running))
    assert metrics.value("uvicorn_http_requests_in_flight") == 0


async def test_limit_concurrency_refusals_are_counted(http: str) -> None:
    app = App()
    async with (
        # Two: the slow request's connection and task count, a second connection is one too many.
        serve(app, http=http, lifespan="off", log_config=None, admin_port=0, limit_concurrency=2) as running,
        httpx.AsyncClient(base_url=running.url) as client,
    ):
        slow = asyncio.create_task(client.get("/slow"))
        await app.slow_started.wait()
        assert (await client.get("/ok")).status_code == 503
        app.release.set()
        assert (await slow).status_code == 200
        metrics = await asyncio.to_thread(scrape, admin_url(running))
    assert metrics.value("uvicorn_rejected_requests_total", reason="limit_concurrency") == 1
    assert metrics.value("uvicorn_http_requests_total", method="GET", status_class="5xx") == 1


async def test_the_admin_port_never_serves_the_app_and_the_app_port_never_the_metrics(
    served: tuple[RunningServer, App],
) -> None:
    running, app = served
    async with httpx.AsyncClient() as client:
        for path in ("/", "/ok", "/metrics/", "/readyz/x"):
            response = await client.get(admin_url(running) + path)
            assert response.status_code == 404, path
        assert (await client.post(admin_url(running) + "/metrics")).status_code == 405
        assert app.paths == []  # nothing reached the app
        response = await client.get(running.url + "/metrics")
    assert (response.status_code, response.text) == (200, "ok")  # the app's answer
    assert app.paths == ["/metrics"]


async def test_without_an_admin_port_the_protocols_report_to_nobody(http: str) -> None:
    app = App()
    async with (
        serve(app, http=http, lifespan="off", log_config=None) as running,
        RawClient.connect(running) as raw,
    ):
        await raw.send(request("GET", "/ok"))
        await raw.read_response()
        assert running.server._telemetry is None
        assert running.server.server_state.observer is None
        (connection,) = running.server.server_state.connections
        assert connection.exchanges is None  # type: ignore[attr-defined]  # no per-request object at all


class SlowStartup:
    """A lifespan whose startup waits for ``release``."""

    def __init__(self) -> None:
        self.starting = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] == "lifespan":
            await receive()
            self.starting.set()
            await self.release.wait()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["path"] == "/slow":
            self.starting.clear()
            self.starting.set()
            await self.release.wait()
        await send_response(send, 200, b"done")


async def get_status(url: str) -> int:
    async with httpx.AsyncClient() as client:
        return (await client.get(url)).status_code


async def test_readyz_after_startup_and_not_during_the_drain(http: str) -> None:
    app = SlowStartup()
    config = Config(app, http=http, lifespan="on", log_config=None, admin_port=0, port=0)
    server = Server(config)
    serving = asyncio.create_task(server.serve())
    await app.starting.wait()  # the lifespan startup is running: the admin listener is up already
    url = admin_url(RunningServer(server, config, "127.0.0.1", 0))
    assert await get_status(url + "/livez") == 200
    assert await get_status(url + "/readyz") == 503

    app.release.set()
    await server._startup_complete.wait()
    assert await get_status(url + "/readyz") == 200
    (sock,) = [sock for listener in server.servers for sock in listener.sockets]
    app_url = "http://127.0.0.1:%d" % sock.getsockname()[1]

    app.release.clear()
    app.starting.clear()
    async with httpx.AsyncClient() as client:
        slow = asyncio.create_task(client.get(app_url + "/slow"))
        await app.starting.wait()
        server.should_exit = True  # as SIGTERM does
        assert await get_status(url + "/readyz") == 503  # draining: the slow request is still in flight
        assert await get_status(url + "/livez") == 200
        assert not slow.done()
        app.release.set()
        assert (await slow).status_code == 200
    await serving
    with pytest.raises(httpx.ConnectError):  # the listener closed with the server
        await get_status(url + "/livez")


async def test_an_admin_port_in_use_stops_the_startup(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="uvicorn.error"), pytest.raises(ServerStartupFailed):
            async with serve(App(), lifespan="off", log_config=None, admin_port=port):
                pass
    (line,) = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert line.startswith(f"Could not listen on the admin port (--admin-port) 127.0.0.1:{port}: ")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"admin_port": 70000}, "Invalid value for 'admin_port' (--admin-port): 70000. Use a port number"),
        ({"admin_port": 8000, "port": 8000}, "The app listens on port 8000"),
        ({"admin_port": 9000, "admin_host": ""}, "Invalid value for 'admin_host' (--admin-host): ''."),
        (
            {"log_format": "xml"},
            "Invalid value for 'log_format' (--log-format): 'xml'. Use 'text' or 'json'.",
        ),
    ],
)
def test_unusable_admin_options_are_one_line_naming_the_option(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidOptionError, match=re.escape(message)):
        Config(App(), log_config=None, **options).load()  # type: ignore[arg-type]


def test_an_admin_port_without_prometheus_client_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # as if it were not installed
    with pytest.raises(
        MissingDependencyError, match=r"needs prometheus-client: pip install prometheus-client"
    ):
        Config(App(), log_config=None, admin_port=9000).load()


def test_every_metric_is_documented() -> None:
    from tests.repo.doc_samples import DOCS_DIR

    page = (DOCS_DIR / "metrics.md").read_text()
    families = _families_of_an_idle_server()
    assert {name for name in families if f"`{name}`" not in page} == set()


def _families_of_an_idle_server() -> set[str]:
    from uvicorn._metrics import ServerMetrics
    from uvicorn._metrics_export import SnapshotCollector

    collector = SnapshotCollector(lambda: ServerMetrics().snapshot())
    names = set()
    for family in collector.collect():
        suffix = "_total" if family.type == "counter" else ""
        names.add(family.name + suffix)
    return names


async def echo_websocket(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    assert scope["type"] == "websocket"
    await receive()
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"] * 2})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


@pytest.mark.parametrize("ws", list(IMPLEMENTATIONS))
async def test_websocket_messages_and_their_bytes_are_counted(ws: str) -> None:
    # The class, not its name: no import-time deprecation warning mid-test.
    async with (
        serve(
            echo_websocket, ws=IMPLEMENTATIONS[ws], lifespan="off", log_config=None, admin_port=0
        ) as running,
        connect(running.ws_url + "/echo") as websocket,
    ):
        await websocket.send("héllo")  # 6 bytes of UTF-8; the echo doubles it
        assert await websocket.recv() == "héllohéllo"
        await websocket.send(b"\x00" * 100)
        assert await websocket.recv() == b"\x00" * 100
        metrics = await asyncio.to_thread(scrape, admin_url(running))
    assert metrics.value("uvicorn_websocket_messages_total", direction="received") == 2
    assert metrics.value("uvicorn_websocket_messages_total", direction="sent") == 2
    assert metrics.value("uvicorn_received_bytes_total", protocol="websocket") == 106
    assert metrics.value("uvicorn_sent_bytes_total", protocol="websocket") == 112
    assert metrics.value("uvicorn_open_connections", protocol="websocket") == 1


@pytest.mark.parametrize("engine", ["zttp", "h2"])
async def test_http2_streams_are_counted_like_requests(engine: str) -> None:
    app = App()
    async with (
        serve(app, http2=True, http2_engine=engine, lifespan="off", log_config=None, admin_port=0) as running,
        httpx.AsyncClient(base_url=running.url, http1=False, http2=True) as client,  # h2c prior knowledge
    ):
        for _ in range(3):
            response = await client.get("/ok")
            assert (response.status_code, response.http_version) == (200, "HTTP/2")
        assert (await client.post("/body", content=b"y" * 50)).text == "50"
        metrics = await asyncio.to_thread(scrape, admin_url(running))
    assert metrics.value("uvicorn_http_requests_total", method="GET", status_class="2xx") == 3
    assert metrics.value("uvicorn_http_requests_total", method="POST", status_class="2xx") == 1
    assert metrics.value("uvicorn_received_bytes_total", protocol="http") == 50
    assert metrics.value("uvicorn_sent_bytes_total", protocol="http") == 3 * 2 + 2
    assert metrics.value("uvicorn_open_connections", protocol="http2") == 1
    assert metrics.value("uvicorn_open_connections", protocol="http1") == 0
