"""Config: env_file, app factories, interface detection, root_path, loops, and rejected option values."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvloop

from tests.core.apps import echo_scope, hello
from tests.processes import error_lines, run_python
from tests.serving import serve
from uvicorn import run
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.config import Config


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url)


# ---------------------------------------------------------------- env_file and environment


def test_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "UVICORN_CORE_TEST_VALUE"):
        monkeypatch.setenv(name, "placeholder")  # so monkeypatch restores the original state...
        monkeypatch.delenv(name)  # ...after the env file has set them
    env_file = tmp_path / ".env"
    env_file.write_text(
        "WEB_CONCURRENCY=3\nFORWARDED_ALLOW_IPS=10.0.0.1\nUVICORN_CORE_TEST_VALUE=from-file\n"
    )
    caplog.set_level(logging.INFO)

    config = Config(hello, env_file=env_file)

    assert config.workers == 3
    assert config.forwarded_allow_ips == "10.0.0.1"
    assert os.environ["UVICORN_CORE_TEST_VALUE"] == "from-file"
    assert f"Loading environment from '{env_file}'" in caplog.messages


def test_defaults_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    config = Config(hello)
    assert config.workers == 1
    assert config.forwarded_allow_ips == "127.0.0.1,::1"

    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    config = Config(hello)
    assert config.workers == 4
    assert config.forwarded_allow_ips == "*"
    assert Config(hello, workers=2).workers == 2  # an explicit value wins


def test_run_has_every_config_option() -> None:
    """uvicorn.run takes exactly Config's options (less the notify hooks) plus app_dir."""
    config_params = {
        name: repr(param)
        for name, param in inspect.signature(Config.__init__).parameters.items()
        if name not in ("self", "timeout_notify", "callback_notify")
    }
    run_params = {
        name: repr(param) for name, param in inspect.signature(run).parameters.items() if name != "app_dir"
    }
    assert run_params == config_params


# ---------------------------------------------------------------- app loading


def make_app(body: bytes) -> Callable[..., Any]:
    async def app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


async def test_factory() -> None:
    async with serve(lambda: make_app(b"built"), factory=True) as running:
        assert (await get(running.url)).text == "built"


async def test_factory_detected_without_the_flag(caplog: pytest.LogCaptureFixture) -> None:
    async with serve(lambda: make_app(b"built")) as running:
        assert (await get(running.url)).text == "built"
    assert any("--factory" in message for message in caplog.messages)


def test_factory_flag_on_a_plain_app() -> None:
    result = run_python("import uvicorn; uvicorn.run('tests.core.apps:hello', factory=True)")
    assert result.returncode == 3
    [line] = error_lines(result.stderr)
    assert line.startswith("ERROR:    Error loading ASGI app factory: ")


class ASGI3Instance:
    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await make_app(scope["asgi"]["version"].encode())(scope, receive, send)


class ASGI2Class:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await make_app(self.scope["asgi"]["version"].encode())(self.scope, receive, send)


def asgi2_function(scope: Scope) -> Callable[..., Any]:
    async def instance(receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await make_app(scope["asgi"]["version"].encode())(scope, receive, send)

    return instance


async def asgi3_function(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    await make_app(scope["asgi"]["version"].encode())(scope, receive, send)


@pytest.mark.parametrize(
    ("app", "interface"),
    [
        (asgi3_function, "asgi3"),
        (ASGI3Instance(), "asgi3"),
        (ASGI2Class, "asgi2"),
        (asgi2_function, "asgi2"),
    ],
)
async def test_interface_detection(app: Any, interface: str) -> None:
    async with serve(app, lifespan="off") as running:
        response = await get(running.url)
    assert running.config.interface == interface
    assert response.text == ("3.0" if interface == "asgi3" else "2.0")


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"wsgi says ", environ["PATH_INFO"].encode()]


async def test_wsgi_interface() -> None:
    pytest.importorskip("uvicorn.middleware.wsgi")
    async with serve(wsgi_app, interface="wsgi") as running:
        response = await get(running.url + "/here")
    assert response.text == "wsgi says /here"
    assert running.config.ws_protocol_class is None  # a WSGI app cannot take WebSockets


@pytest.mark.parametrize("http", ["h11", "httptools"])
async def test_root_path(http: str) -> None:
    async with serve(echo_scope, http=http, root_path="/api") as running:
        scope = (await get(running.url + "/items?x=1")).json()
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/items"
    assert scope["query_string"] == "x=1"


# ---------------------------------------------------------------- event loops


class CustomLoop(asyncio.SelectorEventLoop):
    pass


@pytest.mark.parametrize(
    ("loop", "expected"),
    [
        ("asyncio", asyncio.SelectorEventLoop),
        ("uvloop", uvloop.Loop),
        ("auto", uvloop.Loop),
        ("tests.core.test_config:CustomLoop", CustomLoop),
    ],
)
def test_loop_factories(loop: str, expected: type) -> None:
    factory = Config(hello, loop=loop).get_loop_factory()
    assert factory is not None
    event_loop = factory()
    try:
        assert isinstance(event_loop, expected)
    finally:
        event_loop.close()


def test_loop_none_leaves_the_choice_to_asyncio() -> None:
    assert Config(hello, loop="none").get_loop_factory() is None


def test_setup_event_loop_says_what_replaced_it() -> None:
    with pytest.raises(AttributeError, match="replaced by `get_loop_factory`"):
        Config(hello).setup_event_loop()


# ---------------------------------------------------------------- values that cannot work


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("port=70000", r"Invalid value for 'port' \(--port\): 70000\. Use a port number from 0 to 65535"),
        ("limit_concurrency=0", r"Invalid value for 'limit_concurrency' \(--limit-concurrency\): 0\."),
        (
            "backlog=-5",
            r"Invalid value for 'backlog' \(--backlog\): -5\. It must be a number greater than 0\.",
        ),
        (
            "timeout_keep_alive=-1",
            r"'timeout_keep_alive' \(--timeout-keep-alive\): -1\. It must be a number, 0",
        ),
        ("limit_request_line=0", r"'limit_request_line' \(--limit-request-line\): 0\."),
        (
            "limit_max_requests_jitter=-1",
            r"'limit_max_requests_jitter' \(--limit-max-requests-jitter\): -1\. It must be a number, 0",
        ),
        (
            "interface='asgi4'",
            r"'interface' \(--interface\): 'asgi4'\. Use one of 'auto', 'asgi3', 'asgi2', 'wsgi'",
        ),
        ("http='bogus'", r"'http' \(--http\): 'bogus'\. Use one of 'auto', 'h11', 'httptools'"),
        ("ws='bogus'", r"'ws' \(--ws\): 'bogus'\. Use one of 'auto', 'none'"),
        ("lifespan='maybe'", r"'lifespan' \(--lifespan\): 'maybe'\. Use one of 'auto', 'on', 'off'\.$"),
        ("loop='bogus'", r"'loop' \(--loop\): 'bogus'\. Use one of 'none', 'auto', 'asyncio', 'uvloop'"),
        ("http='nomodule:Protocol'", r"'http' \(--http\): Could not import module \"nomodule\""),
        ("headers=[('x-name', 'snowman \\u2603')]", r"'headers' \(--header\): .*Latin-1"),
        (
            "http2=True, http2_engine='fast'",
            r"'http2_engine' \(--http2-engine\): 'fast'\. Use one of 'auto', 'h2', 'zttp'",
        ),
        (
            "http2_max_concurrent_streams=0",
            r"'http2_max_concurrent_streams' \(--http2-max-concurrent-streams\)",
        ),
        ("env_file='missing.env'", r"'env_file' \(--env-file\): no such file: 'missing\.env'"),
        (
            "forwarded_allow_ips='127.0.0.1,10.0.0.300'",
            r"'forwarded_allow_ips' \(--forwarded-allow-ips\): '10\.0\.0\.300' is not a valid IP address",
        ),
        ("uds='x.sock', fd=0", r"'fd' \(--fd\): 0\. Give either 'uds' \(--uds\) or 'fd' \(--fd\), not both"),
        (
            "port=8000, bind=['127.0.0.1']",
            r"'bind' \(--bind\): '127\.0\.0\.1'\. Use HOST:PORT, \[IPv6\]:PORT, unix:PATH or fd://N\.$",
        ),
        ("port=8000, bind='[nope]:80'", r"'bind' \(--bind\): '\[nope\]:80'\. Use HOST:PORT"),
        ("bind=['127.0.0.1:0']", r"'bind' \(--bind\): it cannot be combined with --port\."),
        ("port=8000, uds='x.sock', bind=['127.0.0.1:0']", r"cannot be combined with --uds\."),
        ("limit_max_memory=0", r"'limit_max_memory' \(--limit-max-memory\): 0\. It must be a number greater"),
        ("max_worker_lifetime=-2", r"'max_worker_lifetime' \(--max-worker-lifetime\): -2\."),
        ("max_worker_lifetime_jitter=-1", r"'max_worker_lifetime_jitter' \(--max-worker-lifetime-jitter\)"),
        ("port=8000, bind=['127.0.0.1:0', 'nope'], workers=2", r"'bind' \(--bind\): 'nope'\."),
        ("limit_request_body=0", r"'limit_request_body' \(--limit-request-body\): 0\. It must be a number"),
        ("timeout_request_body=0", r"'timeout_request_body' \(--timeout-request-body\): 0\."),
        ("limit_keep_alive_requests=-1", r"'limit_keep_alive_requests' \(--limit-keep-alive-requests\)"),
        ("timeout_response_send='60'", r"'timeout_response_send' \(--timeout-response-send\): '60'\."),
        ("shutdown_delay=-1", r"'shutdown_delay' \(--shutdown-delay\): -1\. It must be a number, 0"),
        ("timeout_lifespan_startup=0", r"'timeout_lifespan_startup' \(--timeout-lifespan-startup\): 0\."),
        ("timeout_lifespan_shutdown=-3", r"'timeout_lifespan_shutdown' \(--timeout-lifespan-shutdown\)"),
    ],
)
def test_bad_option_value(options: str, expected: str, tmp_path: Path) -> None:
    # port=0 unless the case sets it: should a check be missing, the server would not collide.
    code = f"import uvicorn; uvicorn.run('tests.core.apps:hello', **{{'port': 0, **dict({options})}})"
    result = run_python(code, cwd=tmp_path)
    assert result.returncode == 3
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ERROR:    ")
    assert re.search(expected, lines[0]), lines[0]


def test_bad_web_concurrency() -> None:
    code = "import uvicorn; uvicorn.run('tests.core.apps:hello', port=0)"
    result = run_python(code, WEB_CONCURRENCY="many")
    assert result.returncode == 3
    assert error_lines(result.stderr) == [
        "ERROR:    Invalid value for environment variable WEB_CONCURRENCY: 'many'. "
        "It sets 'workers' and must be an integer."
    ]
