"""How each side is started, and what it cannot serve."""

from __future__ import annotations

from pathlib import Path

from benchmarks.server import ServerSpec
from benchmarks.sides import Side

VENV = Path("/venv/bin/python")


def test_uvicorn_sides_use_the_launcher_and_the_http2_protocol_their_probe_found() -> None:
    upstream = Side("upstream", VENV, {"http2": "zttp", "ws": {"wsproto": True}})
    command = upstream.command(ServerSpec("hello", access_log=False, http2=True), 8000)
    assert command[0] == str(VENV) and command[1].endswith("serve.py")
    assert "--http=zttp" in command and "--http2" in command and "--access-log=off" in command
    plain = upstream.command(ServerSpec("hello"), 8000)
    assert "--http=auto" in plain and "--http2" not in plain


def test_what_a_uvicorn_cannot_serve_shows_as_na() -> None:
    ours = Side("ours", VENV, {"http2": None, "ws": {"wsproto": True, "websockets": False}})
    assert ours.unavailable(ServerSpec("hello", http2=True)) == "n/a (no HTTP/2)"
    assert ours.unavailable(ServerSpec("ws_echo", ws="websockets")) == "n/a (no such ws)"
    assert ours.unavailable(ServerSpec("ws_echo", ws="wsproto")) is None
    broken = Side("upstream", VENV, {"error": "cannot import uvicorn"})
    assert broken.unavailable(ServerSpec("hello")) == "error: cannot import uvicorn"


def test_granian_serves_the_same_app_over_asgi_with_the_rows_access_log() -> None:
    granian = Side("granian", VENV)
    on = granian.command(ServerSpec("hello"), 8001)
    assert on[0] == "/venv/bin/granian"
    assert {"--interface=asgi", "--workers=1", "--port=8001", "--access-log", "--loop=auto"} <= set(on)
    assert on[-1] == "benchmarks.apps:hello"
    off = granian.command(ServerSpec("hello", access_log=False, loop="asyncio"), 8001)
    assert "--no-access-log" in off and "--loop=asyncio" in off
    assert not any(option.startswith("--backpressure") for option in off)
    idle = granian.command(ServerSpec("hello", timeout_keep_alive=3600), 8001)
    assert "--http1-header-read-timeout=60000" in idle
    assert any(option.startswith("--backpressure=") for option in idle)


def test_hypercorn_and_the_raw_ceiling() -> None:
    hypercorn = Side("hypercorn", VENV).command(ServerSpec("hello", access_log=False, http2=True), 8002)
    assert hypercorn[0] == "/venv/bin/hypercorn"
    assert "--bind=127.0.0.1:8002" in hypercorn and "--worker-class=uvloop" in hypercorn
    assert "--access-logfile=-" not in hypercorn
    raw = Side("raw", VENV)
    assert raw.command(ServerSpec("hello"), 8003)[1].endswith("raw_server.py")
    assert raw.unavailable(ServerSpec("echo")) == "n/a"
