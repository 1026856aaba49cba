"""How a server stops: ``Server.draining``, ``shutdown_delay``, the drain's waits, a forced exit.

The drain itself, seen from clients, is tested with the protocols
(tests/protocols/test_http_drain.py) and with real processes under load
(tests/cli/test_workers.py, tests/worker/test_signals.py).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.protocols.apps import Gate
from tests.protocols.raw_http import SIMPLE_GET, RawClient
from tests.serving import RunningServer, ServerStartupFailed, serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.server import ServerState


def open_gate() -> Gate:
    gate = Gate()
    gate.open.set()
    return gate


async def draining(running: RunningServer) -> None:
    """Until the server has noticed it was told to stop (it looks on each 0.1 s tick)."""
    deadline = time.monotonic() + 30
    while not running.server.draining:
        assert time.monotonic() < deadline, "the server never started draining"
        await asyncio.sleep(0.01)


def test_a_new_server_is_not_draining() -> None:
    assert ServerState().draining is False


async def test_during_the_shutdown_delay_the_server_serves_on_and_reports_draining() -> None:
    async with serve(open_gate(), lifespan="off", shutdown_delay=60) as running:
        running.server.should_exit = True
        await draining(running)
        # Not ready (a readiness check would say so), yet serving as before: new
        # connections are accepted and kept alive, for clients the balancer still sends.
        async with RawClient.connect(running) as client:
            await client.send(SIMPLE_GET)
            response = await client.read_response()
        assert response.status == 200
        assert response.header(b"connection") is None
        assert not running.server._drain_started.is_set()
        running.server.force_exit = True  # a second Ctrl+C ends the delay (and the wait) at once


async def test_without_a_delay_the_drain_starts_at_once() -> None:
    async with serve(open_gate(), lifespan="off") as running:
        running.server.should_exit = True
        await running.server._drain_started.wait()
        assert running.server.draining


async def test_a_server_leaving_on_its_own_skips_the_delay(caplog: pytest.LogCaptureFixture) -> None:
    """The request limit retires the server: there is nobody to warn, so no delay."""
    async with serve(open_gate(), lifespan="off", limit_max_requests=1, shutdown_delay=60) as running:
        async with RawClient.connect(running) as client:
            await client.send(SIMPLE_GET)
            await client.read_response()
        await running.server._drain_started.wait()
    assert not any("before draining" in message for message in caplog.messages)


async def test_a_forced_exit_ends_the_wait_for_a_request_in_flight() -> None:
    gate = Gate()  # holds its request until the test ends
    async with serve(gate, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(SIMPLE_GET)
        await gate.entered.wait()
        running.server.should_exit = True
        await running.server._drain_started.wait()
        running.server.force_exit = True
    assert gate.paths == ["/"]


async def test_lifespan_startup_past_its_timeout_fails_the_startup(caplog: pytest.LogCaptureFixture) -> None:
    cancelled = asyncio.Event()

    async def app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await receive()
        try:
            await asyncio.Event().wait()  # a startup that never ends
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(ServerStartupFailed) as failed:
        async with serve(app, lifespan="on", timeout_lifespan_startup=0.2):
            pass
    assert failed.value.exit_code == 3
    assert cancelled.is_set()  # the app's lifespan task was cancelled, its cleanup ran
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert errors == [
        "Application startup did not complete within 0.2 seconds (timeout_lifespan_startup). Exiting."
    ]


async def test_lifespan_shutdown_past_its_timeout_is_given_up(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await asyncio.Event().wait()  # a shutdown that never ends

    async with serve(app, lifespan="on", timeout_lifespan_shutdown=0.2):
        pass
    assert "Application shutdown did not complete within 0.2 seconds (timeout_lifespan_shutdown)." in (
        caplog.messages
    )
