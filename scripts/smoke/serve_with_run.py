"""Smoke test for uvicorn-core installed alone: ``uvicorn.run`` serves without the command line.

    <venv>/bin/python serve_with_run.py RELEASE_VERSION

Only the core and what it pins are installed (no uvicorn-cli, no click, no
gunicorn). The script starts itself as the server, calling ``uvicorn.run`` on
a port the kernel picks (read from its "Uvicorn running on" line), requests a
page with the standard library's client, then stops it with SIGINT and
expects exit code 0.
"""

from __future__ import annotations

import json
import signal
import sys

from smoke_support import (
    ServerProcess,
    SmokeFailure,
    check_installed,
    check_served_from_here,
    http_get,
    smoke_main,
)

CORE_SET = {"uvicorn-core", "uvicorn-protocols", "uvicorn-middleware"}
RUNNING = r"Uvicorn running on (?P<url>http://127\.0\.0\.1:\d+) \(Press CTRL\+C to quit\)"


def serve() -> None:
    from smoke_app import app

    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=0, log_level="info")


def check(version: str) -> None:
    check_installed(CORE_SET, version, absent=("click", "gunicorn"))
    with ServerProcess([sys.executable, __file__, "--serve"]) as server:
        url = server.wait_for(RUNNING, "'Uvicorn running on' line")["url"]
        status, _, body = http_get(url + "/report")
        code = server.stop(signal.SIGINT)
    if status != 200:
        raise SmokeFailure(f"GET /report: {status} {body!r}\n{server.output}")
    report = json.loads(body)
    check_served_from_here(report)
    if report["state"] != "lifespan startup ran":
        raise SmokeFailure(f"the request did not see the lifespan state: {report}")
    if code != 0:
        raise SmokeFailure(f"uvicorn.run exited with {code} after SIGINT, expected 0:\n{server.output}")
    print(f"core smoke test passed: uvicorn.run of uvicorn-core {version} served and stopped on SIGINT")


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        smoke_main(check)
