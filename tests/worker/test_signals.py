"""gunicorn's signals, sent to a real arbiter (or to its worker), and what the worker does with them."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

import httpx
import pytest

from tests.keep_alive_load import KeepAliveLoad
from tests.worker.arbiter import DEADLINE, GunicornArbiter, run_gunicorn

APP = "tests.worker.apps:app"
HOOKS = ("-c", "python:tests.worker.gunicorn_hooks")
CHUNKED_END = b"0\r\n\r\n"


def start_held_request(arbiter: GunicornArbiter) -> socket.socket:
    """A request the app is in the middle of: it started the response and waits for the body."""
    host, port = arbiter.address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=DEADLINE)
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\n")
    received = b""
    while b"echo:" not in received:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed before the response started: {received!r}"
        received += chunk
    return sock


def read_to_end(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def pid_serving(arbiter: GunicornArbiter) -> int:
    """The pid of the worker answering a new connection."""
    pid: int = httpx.get(arbiter.url + "/").json()["pid"]
    return pid


def test_sigterm_finishes_the_requests_in_flight(worker_class: str) -> None:
    with run_gunicorn(APP, "-k", worker_class, *HOOKS) as arbiter:
        [pid] = arbiter.worker_pids()
        with start_held_request(arbiter) as sock:
            mark = arbiter.mark()
            arbiter.process.send_signal(signal.SIGTERM)
            arbiter.wait_for(rf"\[{pid}\] \[INFO\] Shutting down", after=mark)
            sock.sendall(b"hello")  # the rest of the body, after the worker began to stop
            rest = read_to_end(sock)

        assert b"hello" in rest
        assert rest.endswith(CHUNKED_END)  # the response is complete
        assert arbiter.wait_for_exit() == 0
        arbiter.wait_for(r"Application shutdown complete\.", after=mark)
        # The worker exits by itself (hook and all), not killed by the signal it received.
        arbiter.wait_for(rf"worker_exit hook ran in {pid}", after=mark)
        assert "was sent SIGTERM" not in arbiter.output


def test_sigint_stops_without_waiting_for_requests(worker_class: str) -> None:
    with run_gunicorn(APP, "-k", worker_class, *HOOKS) as arbiter:
        [pid] = arbiter.worker_pids()
        with start_held_request(arbiter) as sock:
            mark = arbiter.mark()
            arbiter.process.send_signal(signal.SIGINT)  # the arbiter passes SIGQUIT on to workers
            rest = read_to_end(sock)  # the worker closes the connection without waiting for the body

        assert not rest.endswith(CHUNKED_END)
        assert arbiter.wait_for_exit() == 0
        arbiter.wait_for(rf"worker_int hook ran in {pid}", after=mark)
        assert "Waiting for application shutdown" not in arbiter.output  # quick: no lifespan shutdown
        assert "WORKER TIMEOUT" not in arbiter.output


@pytest.mark.parametrize("quick_stop", [signal.SIGQUIT, signal.SIGINT], ids=["SIGQUIT", "SIGINT"])
def test_quick_stop_of_a_worker_alone_and_the_arbiter_replaces_it(quick_stop: signal.Signals) -> None:
    with run_gunicorn(APP, "-k", "uvicorn_worker.UvicornWorker", *HOOKS) as arbiter:
        [old_pid] = arbiter.worker_pids()
        mark = arbiter.mark()
        with start_held_request(arbiter) as sock:
            os.kill(old_pid, quick_stop)  # e.g. Ctrl+C in a terminal reaches every process of the group
            assert not read_to_end(sock).endswith(CHUNKED_END)
        arbiter.wait_for(rf"worker_int hook ran in {old_pid}", after=mark)
        arbiter.wait_for(rf"Worker exiting \(pid: {old_pid}\)", after=mark)
        new_pid = arbiter.wait_for_booted_worker(after=mark)
        assert new_pid != old_pid
        assert pid_serving(arbiter) == new_pid
        assert arbiter.process.poll() is None


def test_sighup_replaces_the_workers_gracefully() -> None:
    with run_gunicorn(APP, "-k", "uvicorn_worker.UvicornWorker") as arbiter:
        [old_pid] = arbiter.worker_pids()
        mark = arbiter.mark()
        arbiter.process.send_signal(signal.SIGHUP)
        new_pid = arbiter.wait_for_booted_worker(after=mark)
        arbiter.wait_for(rf"\[{old_pid}\] \[INFO\] Application shutdown complete\.", after=mark)
        arbiter.wait_for(rf"Worker exiting \(pid: {old_pid}\)", after=mark)

        assert new_pid != old_pid
        assert pid_serving(arbiter) == new_pid
        assert arbiter.process.poll() is None


def test_a_graceful_reload_then_a_stop_under_keep_alive_load_lose_no_request() -> None:
    """gunicorn's HUP, then its SIGTERM, while clients send back to back over keep-alive connections."""
    with run_gunicorn(APP, "-k", "uvicorn_worker.UvicornWorker", "--workers", "2") as arbiter:
        old_workers = set(arbiter.wait_for_started_workers(2))
        host, port = arbiter.address.rsplit(":", 1)
        load = KeepAliveLoad(host, int(port), clients=4, pid_of=lambda body: int(json.loads(body)["pid"]))
        load.start()
        try:
            mark = arbiter.mark()
            arbiter.process.send_signal(signal.SIGHUP)
            for old in old_workers:
                arbiter.wait_for(rf"Worker exiting \(pid: {old}\)", after=mark)
            new_workers = set(arbiter.worker_pids()) - old_workers
            assert load.answered_by_any(new_workers).wait(DEADLINE)

            load.finish()  # no new connection from here on
            arbiter.process.send_signal(signal.SIGTERM)
            load.join()
        finally:
            load.finish()
        assert arbiter.wait_for_exit() == 0
    assert load.failures == []
    assert set(load.answered_by) & old_workers and set(load.answered_by) & new_workers
    assert load.connections < load.requests


def test_a_killed_worker_is_replaced() -> None:
    with run_gunicorn(APP, "-k", "uvicorn_worker.UvicornH11Worker") as arbiter:
        [old_pid] = arbiter.worker_pids()
        mark = arbiter.mark()
        os.kill(old_pid, signal.SIGKILL)
        arbiter.wait_for(rf"Worker \(pid:{old_pid}\) was sent SIGKILL", after=mark)
        new_pid = arbiter.wait_for_booted_worker(after=mark)
        assert pid_serving(arbiter) == new_pid != old_pid


def test_max_requests_recycles_the_worker(worker_class: str) -> None:
    with run_gunicorn(APP, "-k", worker_class, "--max-requests", "3") as arbiter:
        [old_pid] = arbiter.worker_pids()
        mark = arbiter.mark()
        with httpx.Client(base_url=arbiter.url) as client:
            served_by = [client.get("/").json()["pid"] for _ in range(3)]
        assert served_by == [old_pid] * 3

        arbiter.wait_for(
            rf"\[{old_pid}\] \[INFO\] Maximum request limit of 3 exceeded\. Terminating process\.", after=mark
        )
        arbiter.wait_for(rf"Worker exiting \(pid: {old_pid}\)", after=mark)
        new_pid = arbiter.wait_for_booted_worker(after=mark)
        assert pid_serving(arbiter) == new_pid != old_pid


def test_sigusr1_reopens_the_log_files(tmp_path: Path) -> None:
    access_log = tmp_path / "access.log"
    rotated = tmp_path / "access.log.1"
    with (
        run_gunicorn(
            APP, "-k", "uvicorn_worker.UvicornWorker", "--access-logfile", str(access_log)
        ) as arbiter,
        httpx.Client(base_url=arbiter.url) as client,
    ):
        client.get("/before")
        assert "GET /before" in access_log.read_text()
        access_log.rename(rotated)  # what logrotate does before signalling

        arbiter.process.send_signal(signal.SIGUSR1)
        arbiter.wait_for(r"Handling signal: usr1")
        # The arbiter signals the worker in turn; once that worker has reopened the
        # file, its access lines land in a new file at the original path.
        for _ in range(10_000):
            client.get("/after")
            if access_log.exists() and "GET /after" in access_log.read_text():
                break
        else:
            raise AssertionError(f"no access line in the reopened log:\n{arbiter.output}")
    assert "GET /before" in rotated.read_text()
    assert "GET /before" not in access_log.read_text()


def test_a_blocked_worker_is_aborted_after_the_timeout(worker_class: str) -> None:
    with run_gunicorn(APP, "-k", worker_class, "--timeout", "3", *HOOKS) as arbiter:
        [old_pid] = arbiter.worker_pids()
        # An idle worker keeps telling the arbiter it is alive, well past the timeout.
        assert not arbiter.logs_within("WORKER TIMEOUT", 4.5)

        mark = arbiter.mark()
        host, port = arbiter.address.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=DEADLINE) as sock:
            sock.sendall(b"GET /block-loop HTTP/1.1\r\nHost: test\r\n\r\n")
            arbiter.wait_for(rf"WORKER TIMEOUT \(pid:{old_pid}\)", after=mark)
            arbiter.wait_for(rf"worker_abort hook ran in {old_pid}", after=mark)
            arbiter.wait_for(rf"Worker \(pid:{old_pid}\) exited with code 1", after=mark)
        new_pid = arbiter.wait_for_booted_worker(after=mark)
        assert pid_serving(arbiter) == new_pid != old_pid


def test_a_worker_stops_when_its_arbiter_dies() -> None:
    with run_gunicorn(APP, "-k", "uvicorn_worker.UvicornWorker", "--timeout", "3") as arbiter:
        [pid] = arbiter.worker_pids()
        arbiter.process.kill()
        arbiter.wait_for(rf"\[{pid}\] \[INFO\] Parent changed, shutting down: <Worker {pid}>")
        arbiter.wait_for(rf"Worker exiting \(pid: {pid}\)")


def test_gunicorn_reload_restarts_the_worker_when_a_file_changes(tmp_path: Path) -> None:
    module = tmp_path / "reloadable_app.py"
    version_one = (
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http':\n"
        "        return\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        "    await send({'type': 'http.response.body', 'body': b'version 1'})\n"
    )
    module.write_text(version_one)
    options = ["-k", "uvicorn_worker.UvicornWorker", "--reload", "--chdir", str(tmp_path)]
    with run_gunicorn("reloadable_app:app", *options) as arbiter:
        [old_pid] = arbiter.worker_pids()
        assert httpx.get(arbiter.url + "/").text == "version 1"

        mark = arbiter.mark()
        module.write_text(version_one.replace("version 1", "version 2"))
        arbiter.wait_for(
            rf"\[{old_pid}\] \[INFO\] Worker reloading: .*reloadable_app\.py modified", after=mark
        )
        arbiter.wait_for(rf"Worker exiting \(pid: {old_pid}\)", after=mark)
        arbiter.wait_for_booted_worker(after=mark)
        assert httpx.get(arbiter.url + "/").text == "version 2"
