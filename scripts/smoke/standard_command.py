"""Smoke test for ``uvicorn[standard]`` installed from the built wheels.

    <venv>/bin/python standard_command.py RELEASE_VERSION

All six of our distributions are installed at the release version and every
extra of ``[standard]`` imports. The environment's real ``uvicorn`` command
serves ``smoke_app:app`` on a port the kernel picks (read from its "Uvicorn
running on" line) with the fast parts chosen automatically (uvloop, httptools);
one HTTP request and one WebSocket echo (with the installed ``websockets``
client) get their answers; Ctrl+C (SIGINT) then stops it with exit code 0.
"""

from __future__ import annotations

import importlib
import json
import signal

from smoke_support import (
    HERE,
    OURS,
    REQUEST_TIMEOUT,
    ServerProcess,
    SmokeFailure,
    check_installed,
    check_served_from_here,
    http_get,
    program,
    smoke_main,
)

#: The import names of what ``uvicorn[standard]`` adds (colorama only on Windows).
STANDARD_EXTRAS = ("httptools", "uvloop", "websockets", "watchfiles", "yaml", "dotenv")
RUNNING = r"Uvicorn running on (?P<url>http://127\.0\.0\.1:\d+) \(Press CTRL\+C to quit\)"


def check(version: str) -> None:
    check_installed(set(OURS), version)
    missing = []
    for module in STANDARD_EXTRAS:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{module} ({exc})")
    if missing:
        raise SmokeFailure(f"uvicorn[standard] did not bring {', '.join(missing)}")

    command = [
        program("uvicorn"),
        "smoke_app:app",
        "--app-dir",
        str(HERE),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
    ]
    with ServerProcess(command) as server:
        url = server.wait_for(RUNNING, "'Uvicorn running on' line")["url"]
        check_http(url)
        check_websocket(url.replace("http://", "ws://") + "/echo")
        code = server.stop(signal.SIGINT)
    if code != 0:
        raise SmokeFailure(f"uvicorn exited with {code} after SIGINT, expected 0:\n{server.output}")
    if "Finished server process" not in server.output:
        raise SmokeFailure(f"no 'Finished server process' line:\n{server.output}")
    print(f"standard smoke test passed: uvicorn {version} served HTTP and WebSockets and stopped on SIGINT")


def check_http(url: str) -> None:
    status, content_type, body = http_get(url + "/report")
    if status != 200 or content_type != "application/json":
        raise SmokeFailure(f"GET /report: {status} {content_type} {body!r}")
    report = json.loads(body)
    check_served_from_here(report)
    if report["loop"] != "uvloop":
        raise SmokeFailure(f"--loop auto chose {report['loop']}, not uvloop, although uvloop is installed")
    if "uvicorn.protocols.http.httptools_impl" not in report["protocols"]:
        raise SmokeFailure(f"--http auto did not choose httptools: {report['protocols']}")
    if report["state"] != "lifespan startup ran":
        raise SmokeFailure(f"the request did not see the lifespan state: {report}")


def check_websocket(url: str) -> None:
    from websockets.sync.client import connect

    with connect(url, open_timeout=REQUEST_TIMEOUT, close_timeout=REQUEST_TIMEOUT) as websocket:
        websocket.send("hello, echo")
        text = websocket.recv(timeout=REQUEST_TIMEOUT)
        websocket.send(b"\x00\x01binary")
        data = websocket.recv(timeout=REQUEST_TIMEOUT)
    if (text, data) != ("hello, echo", b"\x00\x01binary"):
        raise SmokeFailure(f"the WebSocket echo answered {text!r} and {data!r}")


if __name__ == "__main__":
    smoke_main(check)
