"""``--admin-port`` with real ``uvicorn`` processes: one scrape answers for every worker, and the probes.

Workers publish their numbers a few times a second, so a test scrapes until the
numbers it waits for are there (tests/core/metrics_scrape.py), bounded by the
safety timeout.
"""

from __future__ import annotations

import os
import signal
import socket
import time

import httpx
import pytest

from tests.cli.conftest import Launch
from tests.cli.processes import Uvicorn
from tests.core.metrics_scrape import scrape_until
from tests.processes import SAFETY_TIMEOUT

STARTED = "Application startup complete"
ADMIN = r"Serving /metrics, /livez and /readyz on (http://\S+)"


def start(launch: Launch, *options: str, workers: int = 2) -> tuple[Uvicorn, str]:
    server = launch(
        "pid_app:app",
        "--port",
        "0",
        "--workers",
        str(workers),
        "--admin-port",
        "0",
        "--no-access-log",
        *options,
    )
    admin = server.log.wait_for(ADMIN).group(1)
    server.log.wait_for(STARTED, count=workers)
    return server, admin


def status_until(url: str, wanted: int) -> int:
    """GET ``url`` until it answers ``wanted``: the supervisor learns that a worker serves on its tick."""
    give_up = time.monotonic() + SAFETY_TIMEOUT
    while (status := httpx.get(url).status_code) != wanted and time.monotonic() < give_up:
        time.sleep(0.05)
    return status


def get(url: str) -> httpx.Response:
    return httpx.get(url, headers={"Connection": "close"})  # a new connection: any worker may take it


def test_one_scrape_sums_every_worker_and_keeps_a_dead_worker_s_counts(launch: Launch) -> None:
    server, admin = start(launch)
    answered = {int(get(server.url).text) for _ in range(20)}
    assert answered <= set(server.worker_pids())

    metrics = scrape_until(admin, lambda m: m.total("uvicorn_http_requests_total") >= 20)
    assert metrics.value("uvicorn_http_requests_total", method="GET", status_class="2xx") == 20
    assert metrics.value("uvicorn_http_request_duration_seconds_count") == 20
    assert metrics.value("uvicorn_workers") == 2
    assert metrics.value("uvicorn_http_requests_in_flight") == 0

    victim = server.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    server.log.wait_for(rf"Child process \[{victim}\] died")
    server.log.wait_for(STARTED, count=3)
    get(server.url)
    metrics = scrape_until(admin, lambda m: m.total("uvicorn_http_requests_total") >= 21)
    assert metrics.value("uvicorn_http_requests_total", method="GET", status_class="2xx") == 21  # none lost
    assert metrics.value("uvicorn_worker_restarts_total", cause="crash") == 1
    assert metrics.total("uvicorn_worker_restarts_total") == 1


def test_workers_retiring_themselves_are_restarts_by_their_cause(launch: Launch) -> None:
    server, admin = start(launch, "--limit-max-requests", "2")
    for _ in range(8):
        assert get(server.url).status_code == 200
    metrics = scrape_until(
        admin,
        lambda m: (
            m.total("uvicorn_http_requests_total") == 8
            and m.value("uvicorn_worker_restarts_total", cause="limit_max_requests") >= 2
        ),
    )
    assert metrics.value("uvicorn_http_requests_total", method="GET", status_class="2xx") == 8
    assert metrics.value("uvicorn_worker_restarts_total", cause="limit_max_requests") >= 2
    assert metrics.value("uvicorn_worker_restarts_total", cause="crash") == 0


@pytest.mark.parametrize(
    ("workers", "draining", "exit_code"),
    [(1, "Shutting down", -signal.SIGTERM), (2, "Received SIGTERM, exiting.", 0)],
    ids=["one process", "two workers"],
)
def test_readyz_turns_503_while_a_sigterm_drains_a_request_in_flight(
    launch: Launch, workers: int, draining: str, exit_code: int
) -> None:
    server, admin = start(launch, workers=workers)
    assert status_until(admin + "/readyz", 200) == 200
    assert httpx.get(admin + "/livez").status_code == 200
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        client.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
        received = b""
        while b"started;" not in received:  # the app answers, then waits for the rest of the body
            received += client.recv(4096)
        server.send_signal(signal.SIGTERM)
        server.log.wait_for(draining)
        assert httpx.get(admin + "/readyz").status_code == 503
        assert httpx.get(admin + "/livez").status_code == 200  # the process still runs
        client.sendall(b"67890")
        while b"echo:1234567890" not in received:
            chunk = client.recv(4096)
            assert chunk, received
            received += chunk
    assert server.wait_exit() == exit_code


def test_the_admin_port_never_serves_the_app(launch: Launch) -> None:
    server, admin = start(launch)
    assert httpx.get(admin + "/").status_code == 404
    assert httpx.get(admin + "/env/HOME").status_code == 404
    assert httpx.get(server.url + "/metrics").text.isdigit()  # the app's answer: a process id
    metrics = scrape_until(admin, lambda m: m.total("uvicorn_http_requests_total") >= 1)
    assert (
        metrics.value("uvicorn_http_requests_total", method="GET", status_class="2xx") == 1
    )  # an app request
