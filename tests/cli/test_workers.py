"""``uvicorn --workers N``: real worker processes, killed, hung, restarted, added, removed, stopped."""

from __future__ import annotations

import os
import re
import signal
import socket
import threading
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Launch
from tests.cli.processes import Uvicorn
from tests.keep_alive_load import KeepAliveLoad
from tests.processes import SAFETY_TIMEOUT, wait_until_exited

STARTED = "Application startup complete"


def get_pid(server: Uvicorn) -> int:
    """Ask the server which process answers (a new connection each time)."""
    response = httpx.get(server.url, headers={"Connection": "close"})
    assert response.status_code == 200
    return int(response.text)


def start_workers(launch: Launch, *options: str, workers: int = 2) -> Uvicorn:
    server = launch("pid_app:app", "--port", "0", "--workers", str(workers), "--no-access-log", *options)
    server.log.wait_for(STARTED, count=workers)
    assert len(server.worker_pids()) == workers
    return server


def test_workers_serve_and_the_supervisor_never_imports_the_app(launch: Launch) -> None:
    server = start_workers(launch)
    supervisor = int(server.log.wait_for(r"Started parent process \[(\d+)\]").group(1))
    assert supervisor == server.pid
    assert get_pid(server) in server.worker_pids()
    for worker in server.worker_pids():  # each worker imported it (a replaced worker's successor too)
        server.log.wait_for(rf"app module imported in process {worker}\b")
    importers = {int(match.group(1)) for match in server.log.matches(r"app module imported in process (\d+)")}
    assert supervisor not in importers  # the supervisor did not


def test_a_killed_worker_is_replaced_and_the_server_keeps_answering(launch: Launch) -> None:
    server = start_workers(launch)
    victim, survivor = server.worker_pids()
    os.kill(victim, signal.SIGKILL)
    server.log.wait_for(rf"Child process \[{victim}\] died")
    server.log.wait_for(STARTED, count=3)
    workers = server.worker_pids()
    assert victim not in workers and survivor in workers and len(workers) == 2
    answered = {get_pid(server) for _ in range(10)}
    assert answered <= set(workers)


@pytest.mark.parametrize(
    "options",
    [["--loop", "asyncio"], ["--loop", "uvloop"], ["--reuse-port"]],
    ids=["asyncio", "uvloop", "reuse-port"],
)
def test_sighup_replaces_every_worker_without_dropping_a_request(launch: Launch, options: list[str]) -> None:
    server = start_workers(launch, *options)
    old_workers = server.worker_pids()
    failures: list[str] = []
    answered_by: list[int] = []
    a_new_worker_answered = threading.Event()
    stop = threading.Event()

    def load() -> None:
        # A new connection per request: connections accepted around each retirement are the risk.
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as client:
            while not stop.is_set():
                try:
                    response = client.get(server.url)
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                    continue
                if response.status_code != 200:
                    failures.append(f"status {response.status_code}")
                    continue
                answered_by.append(int(response.text))
                if answered_by[-1] not in old_workers:
                    a_new_worker_answered.set()

    client = threading.Thread(target=load)
    client.start()
    try:
        server.send_signal(signal.SIGHUP)
        for old in old_workers:
            server.log.wait_for(rf"Finished server process \[{old}\]")
            wait_until_exited(old)
        # The load ran across the whole restart: from the old workers to the new ones.
        assert a_new_worker_answered.wait(SAFETY_TIMEOUT)
    finally:
        stop.set()
        client.join()

    assert failures == []
    assert "Lost the connection to the supervisor" not in server.log.text
    new_workers = server.worker_pids()
    assert len(new_workers) == 2 and not set(new_workers) & set(old_workers)
    assert set(answered_by) & set(old_workers)
    assert set(answered_by) <= set(old_workers) | set(new_workers)


def test_sighup_keeps_the_old_workers_when_a_replacement_cannot_start(launch: Launch, project: Path) -> None:
    server = start_workers(launch)
    old_workers = server.worker_pids()
    (project / "pid_app.py").write_text("raise RuntimeError('a broken deploy')\n")
    server.send_signal(signal.SIGHUP)
    server.log.wait_for(rf"keeping worker \[{old_workers[0]}\] and aborting the restart")
    assert server.worker_pids() == old_workers
    assert get_pid(server) in old_workers


def test_ttin_adds_a_worker_and_ttou_removes_one(launch: Launch) -> None:
    server = start_workers(launch)
    server.send_signal(signal.SIGTTIN)
    server.log.wait_for(STARTED, count=3)
    assert len(server.worker_pids()) == 3

    for removed in (1, 2):
        server.send_signal(signal.SIGTTOU)
        retired = int(server.log.wait_for(r"Finished server process \[(\d+)\]", count=removed).group(1))
        wait_until_exited(retired)
        assert len(server.worker_pids()) == 3 - removed

    server.send_signal(signal.SIGTTOU)
    server.log.wait_for("Already reached one process, cannot decrease the number of processes anymore")
    assert len(server.worker_pids()) == 1
    assert get_pid(server) == server.worker_pids()[0]


def test_a_stopped_worker_fails_its_health_check_and_is_replaced(launch: Launch) -> None:
    server = start_workers(launch, "--timeout-worker-healthcheck", "1")
    victim = server.worker_pids()[0]
    os.kill(victim, signal.SIGSTOP)  # alive, but answers nothing
    server.log.wait_for(rf"Child process \[{victim}\] did not answer a health check within 1 seconds")
    server.log.wait_for(rf"Child process \[{victim}\] died")
    server.log.wait_for(STARTED, count=3)
    assert victim not in server.worker_pids()
    assert get_pid(server) in server.worker_pids()


def test_a_worker_whose_event_loop_is_blocked_is_replaced(launch: Launch) -> None:
    server = start_workers(launch, "--timeout-worker-healthcheck", "1")
    blocked_request = threading.Thread(target=lambda: _get_ignoring_errors(server.url + "/block"))
    blocked_request.start()
    match = server.log.wait_for(r"Child process \[(\d+)\] did not answer a health check")
    wait_until_exited(int(match.group(1)))
    blocked_request.join()
    server.log.wait_for(STARTED, count=3)
    assert get_pid(server) in server.worker_pids()


def _get_ignoring_errors(url: str) -> None:
    try:
        httpx.get(url, timeout=None)
    except httpx.HTTPError:
        pass  # the worker serving it is killed: that is the point


def test_a_worker_that_cannot_start_stops_the_supervisor_with_exit_code_3(launch: Launch) -> None:
    server = launch("pid_app:missing", "--port", "0", "--workers", "2")
    assert server.wait_exit() == 3
    log = server.log.text
    assert 'Attribute "missing" not found in module "pid_app"' in log
    assert re.search(r"Child process \[\d+\] failed to start, stopping the parent process", log)
    assert "Stopping parent process" in log
    assert "Traceback" not in log


def test_an_app_string_without_colon_fails_before_any_worker_starts(launch: Launch) -> None:
    server = launch("pid_app", "--port", "0", "--workers", "2")
    assert server.wait_exit() == 3
    assert server.log.lines[-1] == (
        'ERROR:    Error loading ASGI app. Import string "pid_app" must be in format "<module>:<attribute>".'
    )
    assert "Started parent process" not in server.log.text


def test_sigterm_lets_the_request_in_flight_finish(launch: Launch) -> None:
    server = start_workers(launch)
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        client.sendall(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\n")
        assert b"started;" in read_until(client, b"started;")
        server.send_signal(signal.SIGTERM)
        server.log.wait_for("Received SIGTERM, exiting")
        server.log.wait_for("Waiting for connections to close")
        client.sendall(b"abc")
        assert b"echo:abc" in read_until(client, b"0\r\n\r\n")
    assert server.wait_exit() == 0
    assert server.log.matches(r"Stopping parent process")
    assert "Lost the connection to the supervisor" not in server.log.text
    for pid in server_pids(server):
        wait_until_exited(pid)


def test_the_graceful_shutdown_timeout_bounds_the_stop(launch: Launch) -> None:
    server = start_workers(launch, "--timeout-graceful-shutdown", "1")
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        client.sendall(b"GET /forever HTTP/1.1\r\nHost: test\r\n\r\n")
        assert b"started;" in read_until(client, b"started;")
        server.send_signal(signal.SIGINT)
        assert server.wait_exit() == 0
    log = server.log.text
    assert "Cancel 1 running task(s), timeout graceful shutdown exceeded" in log
    assert "Stopping parent process" in log


def test_request_limit_restarts_workers_at_staggered_counts(launch: Launch) -> None:
    server = start_workers(launch, "--limit-max-requests", "1", "--limit-max-requests-jitter", "20")
    limits_pattern = r"Maximum request limit of (\d+) exceeded"
    with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as client:
        while len(server.log.matches(limits_pattern)) < 4:
            client.get(server.url)
    limits = [int(match.group(1)) for match in server.log.matches(limits_pattern)]
    assert all(1 <= limit <= 21 for limit in limits)
    assert len(set(limits)) > 1  # all equal would be a 1 in 9000 chance with the jitter working
    server.log.wait_for(r"Child process \[\d+\] died")
    assert len(server.worker_pids()) == 2
    # A worker that served, however briefly, is no crash loop: replaced at once, never delayed.
    assert "died before serving" not in server.log.text


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def server_pids(server: Uvicorn) -> set[int]:
    return {int(match.group(1)) for match in server.log.matches(r"Started server process \[(\d+)\]")}


def test_workers_shut_down_when_the_supervisor_is_killed(launch: Launch) -> None:
    server = start_workers(launch)
    workers = server.worker_pids()
    os.kill(server.pid, signal.SIGKILL)  # no chance to stop its workers
    for worker in workers:
        wait_until_exited(worker)
    assert len(server.log.matches("Lost the connection to the supervisor process; shutting down")) == 2
    assert len(server.log.matches(r"Finished server process")) == 2


def test_a_rolling_restart_then_a_stop_under_keep_alive_load_lose_no_request(launch: Launch) -> None:
    """SIGHUP then SIGTERM while clients send back to back over keep-alive connections: nothing fails.

    Each old worker answers the requests its connections carry, the last one with
    ``connection: close``; the clients reconnect (to the new workers) only then.
    """
    server = start_workers(launch)
    old_workers = set(server.worker_pids())
    load = KeepAliveLoad("127.0.0.1", server.port, clients=4)
    load.start()
    try:
        server.send_signal(signal.SIGHUP)
        for old in old_workers:
            server.log.wait_for(rf"Finished server process \[{old}\]")
            wait_until_exited(old)
        new_workers = set(server.worker_pids())
        assert len(new_workers) == 2 and not new_workers & old_workers
        assert load.answered_by_any(new_workers).wait(SAFETY_TIMEOUT)

        load.finish()  # the clients open no new connection from here on
        server.send_signal(signal.SIGTERM)
        load.join()  # every client's connection was answered and then closed by the server
    finally:
        load.finish()
    assert server.wait_exit() == 0
    assert load.failures == []
    assert set(load.answered_by) <= old_workers | new_workers
    assert set(load.answered_by) & old_workers and set(load.answered_by) & new_workers
    assert load.connections < load.requests  # the connections were kept alive
