"""Lifespan: auto/on/off, state shared into request scopes, and failures at startup and shutdown."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from tests.core.apps import echo_scope, hello, json_body
from tests.processes import run_python
from tests.serving import ServerStartupFailed, serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.config import Config
from uvicorn.lifespan.off import LifespanOff
from uvicorn.lifespan.on import LifespanOn


class LifespanApp:
    """Implements lifespan: records the events, fills ``state``, answers requests with the state."""

    def __init__(self, fail_startup: bool = False, fail_shutdown: bool = False) -> None:
        self.events: list[str] = []
        self.lifespan_scope: dict[str, Any] | None = None
        self.fail_startup = fail_startup
        self.fail_shutdown = fail_shutdown

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] == "lifespan":
            self.lifespan_scope = dict(scope)
            message = await receive()
            self.events.append(message["type"])
            if self.fail_startup:
                await send({"type": "lifespan.startup.failed", "message": "no database"})
                return
            scope["state"]["db"] = "connected"
            scope["state"]["shared"] = []
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            self.events.append(message["type"])
            if self.fail_shutdown:
                await send({"type": "lifespan.shutdown.failed", "message": "could not flush"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
            return
        assert scope["type"] == "http"
        state = scope["state"]
        shown = {"db": state.get("db"), "shared": list(state.get("shared", [])), "mine": state.get("mine")}
        state["mine"] = "set by a request"  # must not leak into the next request's copy
        if "shared" in state:
            state["shared"].append("appended")  # the copy is shallow: the list itself is shared
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": json_body(shown)})


@pytest.mark.parametrize("mode", ["auto", "on"])
@pytest.mark.parametrize("http", ["h11", "httptools"])
async def test_state_reaches_request_scopes(mode: str, http: str) -> None:
    app = LifespanApp()
    async with serve(app, lifespan=mode, http=http) as running:
        async with httpx.AsyncClient() as client:
            first = (await client.get(running.url)).json()
            second = (await client.get(running.url)).json()
        assert app.events == ["lifespan.startup"]
    assert app.events == ["lifespan.startup", "lifespan.shutdown"]
    assert first == {"db": "connected", "shared": [], "mine": None}
    assert second == {"db": "connected", "shared": ["appended"], "mine": None}
    assert app.lifespan_scope == {
        "type": "lifespan",
        "asgi": {"version": "3.0", "spec_version": "2.0"},
        "state": {"db": "connected", "shared": ["appended", "appended"]},
    }


async def test_off_never_sends_lifespan_events() -> None:
    app = LifespanApp()
    async with serve(app, lifespan="off") as running, httpx.AsyncClient() as client:
        response = await client.get(running.url)
    assert app.lifespan_scope is None
    assert response.json()["db"] is None


async def test_auto_tolerates_apps_without_lifespan(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with serve(hello, lifespan="auto") as running, httpx.AsyncClient() as client:
        assert (await client.get(running.url)).text == "hello"
    assert "ASGI 'lifespan' protocol appears unsupported." in caplog.messages
    assert "Application startup complete." in caplog.messages
    assert "Waiting for application shutdown." not in caplog.messages  # nothing to shut down
    assert not any(record.levelno >= logging.ERROR for record in caplog.records)


async def test_on_refuses_apps_without_lifespan(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ServerStartupFailed) as info:
        async with serve(hello, lifespan="on"):
            pytest.fail("must not start")
    assert info.value.exit_code == 3
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert [record.getMessage() for record in errors] == [
        "Exception in 'lifespan' protocol\n",
        "Application startup failed. Exiting.",
    ]
    assert errors[0].exc_info is not None  # the app's traceback is shown for lifespan="on"


@pytest.mark.parametrize("mode", ["auto", "on"])
async def test_startup_failed_message(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ServerStartupFailed) as info:
        async with serve(LifespanApp(fail_startup=True), lifespan=mode):
            pytest.fail("must not start")
    assert info.value.exit_code == 3
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == ["no database", "Application startup failed. Exiting."]


async def test_shutdown_failed_message(caplog: pytest.LogCaptureFixture) -> None:
    app = LifespanApp(fail_shutdown=True)
    async with serve(app, lifespan="on"):
        pass
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == ["could not flush", "Application shutdown failed. Exiting."]


def test_startup_failure_exits_3_from_run(tmp_path: Any) -> None:
    (tmp_path / "failing_app.py").write_text(
        "async def app(scope, receive, send):\n"
        "    await receive()\n"
        "    await send({'type': 'lifespan.startup.failed', 'message': 'cannot reach the database'})\n"
    )
    result = run_python("import uvicorn; uvicorn.run('failing_app:app', port=0, lifespan='on')", cwd=tmp_path)
    assert result.returncode == 3
    assert "ERROR:    cannot reach the database" in result.stderr
    assert "ERROR:    Application startup failed. Exiting." in result.stderr
    assert "Uvicorn running on" not in result.stderr  # it never listened


# ---------------------------------------------------------------- the lifespan classes themselves


async def test_asgi2_app_sees_version_2() -> None:
    seen: list[Scope] = []

    def asgi2_app(scope: Scope) -> Any:
        seen.append(scope)

        async def instance(receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})

        return instance

    lifespan = LifespanOn(Config(asgi2_app, lifespan="on", interface="asgi2"))
    await lifespan.startup()
    await lifespan.shutdown()
    assert seen[0]["asgi"] == {"version": "2.0", "spec_version": "2.0"}
    assert not lifespan.should_exit


async def test_invalid_transition_is_an_error_for_the_app(caplog: pytest.LogCaptureFixture) -> None:
    errors: list[BaseException] = []

    async def app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        try:
            await send({"type": "lifespan.startup.complete"})
        except RuntimeError as exc:
            errors.append(exc)
            raise

    lifespan = LifespanOn(Config(app, lifespan="on"))
    await lifespan.startup()
    await lifespan.shutdown()
    assert [str(error) for error in errors] == ["Got invalid state transition on lifespan protocol."]
    assert lifespan.error_occurred and lifespan.error_occured


async def test_lifespan_off_does_nothing() -> None:
    lifespan = LifespanOff(Config(echo_scope, lifespan="off"))
    await lifespan.startup()
    await lifespan.shutdown()
    assert lifespan.state == {}
    assert lifespan.should_exit is False


async def test_cancelled_after_startup_is_not_reported_as_unsupported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A quick exit (e.g. gunicorn's SIGQUIT) cancels the lifespan task while the app
    # waits for shutdown: that app supports lifespan and must not be logged otherwise.
    app = LifespanApp()
    lifespan = LifespanOn(Config(app, lifespan="auto"))
    await lifespan.startup()
    assert app.events == ["lifespan.startup"]
    task = lifespan._main_task
    assert task is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "appears unsupported" not in caplog.text
