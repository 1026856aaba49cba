"""Smoke test for ``uvicorn-worker`` installed from the built wheels, under a real gunicorn.

    <venv>/bin/python gunicorn_worker.py RELEASE_VERSION

The worker brings the server core and gunicorn, but not the command line (no
uvicorn-cli, no click). The environment's ``gunicorn`` runs
``-k uvicorn_worker.UvicornWorker`` on a port the kernel picks (read from its
"Listening at" line); one request gets its answer, with lifespan startup run;
SIGTERM, gunicorn's graceful stop, ends it with exit code 0 after the worker
ran the application's lifespan shutdown.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile

from smoke_support import (
    HERE,
    ServerProcess,
    SmokeFailure,
    check_installed,
    check_served_from_here,
    http_get,
    program,
    smoke_main,
)

WORKER_SET = {"uvicorn-core", "uvicorn-protocols", "uvicorn-middleware", "uvicorn-worker"}
LISTENING = r"Listening at: (?P<url>http://127\.0\.0\.1:\d+)"


def check(version: str) -> None:
    check_installed(WORKER_SET, version, absent=("click",))
    command = [
        program("gunicorn"),
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
        "--bind",
        "127.0.0.1:0",
        "--workers",
        "1",
        "--pythonpath",
        str(HERE),
        "smoke_app:app",
    ]
    with tempfile.TemporaryDirectory() as home:
        # Recent gunicorn releases open a control socket under ~/.gunicorn: not in the real home.
        env = {**os.environ, "HOME": home}
        with ServerProcess(command, env=env) as server:
            url = server.wait_for(LISTENING, "'Listening at' line")["url"]
            status, content_type, body = http_get(url + "/report")
            code = server.stop(signal.SIGTERM)
    if status != 200 or content_type != "application/json":
        raise SmokeFailure(f"GET /report: {status} {content_type} {body!r}\n{server.output}")
    report = json.loads(body)
    check_served_from_here(report)
    if "uvicorn.protocols.http.h11_impl" not in report["protocols"]:
        raise SmokeFailure(f"without httptools the worker should serve with h11: {report['protocols']}")
    if report["state"] != "lifespan startup ran":
        raise SmokeFailure(f"the request did not see the lifespan state: {report}")
    if code != 0:
        raise SmokeFailure(f"gunicorn exited with {code} after SIGTERM, expected 0:\n{server.output}")
    if "Application shutdown complete." not in server.output:
        raise SmokeFailure(f"the worker did not run lifespan shutdown:\n{server.output}")
    print(f"worker smoke test passed: gunicorn served uvicorn-worker {version} and stopped on SIGTERM")


if __name__ == "__main__":
    smoke_main(check)
