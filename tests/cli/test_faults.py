"""Faults around a real ``uvicorn`` process: a killed worker, SIGTERM mid-request, a failing app, a full disk.

Each test runs the real command (tests/cli/processes.py) and checks the
documented answer from the outside, with real clients.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.cli.conftest import SAMPLE_APPS, Launch
from tests.cli.processes import UVICORN_SCRIPT, Uvicorn
from tests.processes import SAFETY_TIMEOUT, child_env

STARTED = "Application startup complete"


@pytest.fixture
def faults(project: Path) -> Path:
    """The project folder, with ``faults_app.py`` (see tests/cli/sample_apps) in it."""
    shutil.copy(SAMPLE_APPS / "faults_app.py", project / "faults_app.py")
    return project


def ws_url(server: Uvicorn, path: str) -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` on a new connection and read until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=SAFETY_TIMEOUT) as sock:
        sock.sendall(request)
        received = b""
        while data := sock.recv(65536):
            received += data
    return received


# ---------------------------------------------------------------- a worker killed under load


def test_a_worker_killed_under_load_is_replaced_and_the_server_keeps_answering(launch: Launch) -> None:
    server = launch("pid_app:app", "--port", "0", "--workers", "2", "--no-access-log")
    server.log.wait_for(STARTED, count=2)
    victim, survivor = server.worker_pids()
    results: list[tuple[str, int | str]] = []  # ("ok", pid) or ("error", why), as they come
    lock = threading.Lock()
    victim_answered, replaced, enough = threading.Event(), threading.Event(), threading.Event()
    wanted = [0]  # the result count that sets ``enough``
    stop = threading.Event()

    def load() -> None:
        # A new connection per request, as many clients would do.
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=SAFETY_TIMEOUT) as client:
            while not stop.is_set():
                try:
                    response = client.get(server.url)
                    result: tuple[str, int | str] = ("ok", int(response.text))
                except httpx.HTTPError as exc:
                    result = ("error", repr(exc))
                with lock:
                    results.append(result)
                    if result == ("ok", victim):
                        victim_answered.set()
                    elif result[0] == "ok" and result[1] != survivor:
                        replaced.set()
                    if wanted[0] and len(results) >= wanted[0]:
                        enough.set()

    clients = [threading.Thread(target=load) for _ in range(4)]
    for client in clients:
        client.start()
    try:
        assert victim_answered.wait(SAFETY_TIMEOUT)
        os.kill(victim, signal.SIGKILL)
        server.log.wait_for(rf"Child process \[{victim}\] died")
        assert replaced.wait(SAFETY_TIMEOUT), "the new worker never answered"
        with lock:
            after_replacement = len(results)
            wanted[0] = after_replacement + 100
        assert enough.wait(SAFETY_TIMEOUT)
    finally:
        stop.set()
        for client in clients:
            client.join(SAFETY_TIMEOUT)

    failures = [why for kind, why in results if kind == "error"]
    # Only requests the killed worker had in hand can fail: at most one per client.
    assert len(failures) <= len(clients), failures
    assert all(kind == "ok" for kind, _ in results[after_replacement:])
    workers = server.worker_pids()
    assert len(workers) == 2 and victim not in workers and survivor in workers


# ---------------------------------------------------------------- SIGTERM with work in flight


def test_sigterm_lets_requests_in_flight_finish_and_closes_websockets_with_1012(
    launch: Launch, faults: Path
) -> None:
    server = launch("faults_app:app", "--port", "0")
    server.log.wait_for(STARTED)
    uploads = []
    for _ in range(2):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=SAFETY_TIMEOUT)
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\nhello"
        )
        # The 100 Continue comes when the app asks for the body: the request is in the app's hands.
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n")
        uploads.append(sock)
    with contextlib.ExitStack() as stack:
        for sock in uploads:
            stack.enter_context(sock)
        websocket = stack.enter_context(connect(ws_url(server, "/ws/echo"), open_timeout=SAFETY_TIMEOUT))
        websocket.send("before")
        assert websocket.recv(SAFETY_TIMEOUT) == "before"

        server.send_signal(signal.SIGTERM)
        server.log.wait_for("Shutting down")
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(SAFETY_TIMEOUT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012  # Service Restart

        for sock in uploads:
            sock.sendall(b"world")  # the rest of the body, after the shutdown began
            answer = b""
            while data := sock.recv(65536):
                answer += data
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"connection: close" in head
            assert body == b"10"
    assert server.wait_exit() == -signal.SIGTERM  # the signal raised again after a graceful shutdown
    assert "Finished server process" in server.log.text


# ---------------------------------------------------------------- the app failing


def test_an_app_failing_anywhere_gets_the_documented_answer_and_the_next_request_works(
    launch: Launch, faults: Path
) -> None:
    server = launch("faults_app:app", "--port", "0")
    server.log.wait_for(STARTED)
    port = server.port

    def next_request_works() -> None:
        assert httpx.get(f"{server.url}/ok", timeout=SAFETY_TIMEOUT).text == "ok"
        with connect(ws_url(server, "/ws/echo"), open_timeout=SAFETY_TIMEOUT) as websocket:
            websocket.send("still here")
            assert websocket.recv(SAFETY_TIMEOUT) == "still here"

    # Before the response: 500, connection closed.
    for request in (
        b"GET /raise-before HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /raise-in-receive HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    ):
        answer = raw_exchange(port, request)
        assert answer.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
        assert b"connection: close" in answer and answer.endswith(b"\r\n\r\nInternal Server Error")
        next_request_works()

    # After the response started: what was sent, then the close (no final chunk).
    answer = raw_exchange(port, b"GET /raise-after HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"transfer-encoding: chunked" in answer
    assert answer.endswith(b"\r\n\r\n4\r\npart\r\n")
    next_request_works()

    # A WebSocket app that fails before accepting: 500 to the handshake.
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(server, "/ws/raise-before-accept"), open_timeout=SAFETY_TIMEOUT)
    assert refused.value.response.status_code == 500
    next_request_works()

    # After accepting (raising, or sending a bad message): the connection ends, no close frame (1006).
    for path in ("/ws/raise-after-accept", "/ws/bad-send"):
        with connect(ws_url(server, path), open_timeout=SAFETY_TIMEOUT) as websocket:
            with pytest.raises(ConnectionClosed) as closed:
                websocket.send("x")
                assert websocket.recv(SAFETY_TIMEOUT) == "x"
                websocket.recv(SAFETY_TIMEOUT)
            assert closed.value.rcvd is None
        next_request_works()

    assert len(server.log.matches("Exception in ASGI application")) == 6
    server.send_signal(signal.SIGTERM)
    assert server.wait_exit() == -signal.SIGTERM


def test_an_app_failing_in_lifespan_startup_stops_the_server_with_lifespan_on(
    launch: Launch, faults: Path
) -> None:
    server = launch("faults_app:app", "--port", "0", "--lifespan", "on", env={"FAULTS_LIFESPAN": "startup"})
    assert server.wait_exit() == 3
    assert "Exception in 'lifespan' protocol" in server.log.text
    assert "Application startup failed. Exiting." in server.log.text


def test_an_app_failing_in_lifespan_startup_is_served_without_lifespan_with_auto(
    launch: Launch, faults: Path
) -> None:
    server = launch("faults_app:app", "--port", "0", env={"FAULTS_LIFESPAN": "startup"})
    server.log.wait_for("ASGI 'lifespan' protocol appears unsupported.")
    assert httpx.get(f"{server.url}/ok", timeout=SAFETY_TIMEOUT).text == "ok"
    server.send_signal(signal.SIGTERM)
    assert server.wait_exit() == -signal.SIGTERM


def test_an_app_failing_in_lifespan_shutdown_is_logged_and_the_server_still_exits(
    launch: Launch, faults: Path
) -> None:
    server = launch("faults_app:app", "--port", "0", "--lifespan", "on", env={"FAULTS_LIFESPAN": "shutdown"})
    server.log.wait_for(STARTED)
    assert httpx.get(f"{server.url}/ok", timeout=SAFETY_TIMEOUT).text == "ok"
    server.send_signal(signal.SIGTERM)
    assert server.wait_exit() == -signal.SIGTERM
    assert "Exception in 'lifespan' protocol" in server.log.text
    assert "Application shutdown failed. Exiting." in server.log.text


def test_a_lifespan_startup_past_its_timeout_is_a_startup_failure(launch: Launch, faults: Path) -> None:
    server = launch(
        "faults_app:app",
        "--port",
        "0",
        "--timeout-lifespan-startup",
        "0.5",
        env={"FAULTS_LIFESPAN": "hang-startup"},
    )
    assert server.wait_exit() == 3
    errors = [line for line in server.log.lines if line.startswith("ERROR:")]
    expected = "Application startup did not complete within 0.5 seconds (timeout_lifespan_startup). Exiting."
    assert errors == ["ERROR:    " + expected]
    assert "Traceback" not in server.log.text
    assert "Uvicorn running on" not in server.log.text


def test_a_lifespan_shutdown_past_its_timeout_is_logged_and_the_server_exits(
    launch: Launch, faults: Path
) -> None:
    server = launch(
        "faults_app:app",
        "--port",
        "0",
        "--timeout-lifespan-shutdown",
        "0.5",
        env={"FAULTS_LIFESPAN": "hang-shutdown"},
    )
    server.log.wait_for(STARTED)
    server.send_signal(signal.SIGTERM)
    assert server.wait_exit() == -signal.SIGTERM
    assert "Application shutdown did not complete within 0.5 seconds (timeout_lifespan_shutdown)." in (
        server.log.text
    )
    assert "Finished server process" in server.log.text
    assert "Traceback" not in server.log.text


# ---------------------------------------------------------------- logging that fails


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A listening socket for ``--fd``: clients can connect before the server is up (the backlog)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        yield sock


@pytest.mark.parametrize("sink", ["disk-full", "reader-gone"])
def test_a_log_that_cannot_be_written_does_not_stop_serving(
    faults: Path, listener: socket.socket, sink: str
) -> None:
    """stdout and stderr on /dev/full (every write: ENOSPC), or on a pipe whose reader closed (EPIPE)."""
    if sink == "disk-full":
        output = os.open("/dev/full", os.O_WRONLY)
    else:
        reader, output = os.pipe()
        os.close(reader)
    fd = listener.fileno()
    try:
        process = subprocess.Popen(
            [UVICORN_SCRIPT, "faults_app:app", "--fd", str(fd), "--log-level", "debug"],
            cwd=faults,
            env=child_env(),
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    finally:
        os.close(output)
    try:
        port = listener.getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=SAFETY_TIMEOUT) as client:
            for _ in range(20):  # access log lines
                assert client.get("/ok").text == "ok"
            assert client.get("/raise-before").status_code == 500  # an error with its traceback
        with connect(f"ws://127.0.0.1:{port}/ws/echo", open_timeout=SAFETY_TIMEOUT) as websocket:
            websocket.send("logged nowhere")
            assert websocket.recv(SAFETY_TIMEOUT) == "logged nowhere"
        assert httpx.get(f"http://127.0.0.1:{port}/ok", timeout=SAFETY_TIMEOUT).text == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(SAFETY_TIMEOUT) == -signal.SIGTERM
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(SAFETY_TIMEOUT)
