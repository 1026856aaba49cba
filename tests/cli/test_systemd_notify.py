"""systemd's notify protocol: a fake ``NOTIFY_SOCKET`` (a UNIX datagram socket this test reads).

Each datagram is read with the sender's process id (``SO_PASSCRED``), as
systemd reads it: only the process systemd started may speak.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Launch
from tests.cli.processes import Uvicorn
from tests.processes import SAFETY_TIMEOUT

STARTED = "Application startup complete"
_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid


class FakeSystemd:
    """The receiving end of ``NOTIFY_SOCKET``: every notification, with who sent it."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(b"\0" + address[1:].encode() if address.startswith("@") else address)
        self.received: list[tuple[int, dict[str, str]]] = []

    def receive(self) -> tuple[int, dict[str, str]]:
        self.sock.settimeout(SAFETY_TIMEOUT)  # a safety net: each wait ends with a datagram
        data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(_CREDENTIALS.size))
        pid = next(
            _CREDENTIALS.unpack(cmsg_data)[0]
            for level, kind, cmsg_data in ancillary
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS
        )
        fields = dict(line.split("=", 1) for line in data.decode().split("\n"))
        self.received.append((pid, fields))
        return pid, fields

    def wait_for(self, key: str) -> tuple[int, dict[str, str]]:
        """The next notification that sets ``key`` (those before it are kept in ``received``)."""
        while True:
            pid, fields = self.receive()
            if key in fields:
                return pid, fields

    def senders(self) -> set[int]:
        return {pid for pid, _ in self.received}

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=["path", "abstract"])
def systemd(request: pytest.FixtureRequest, tmp_path: Path) -> FakeSystemd:
    address = (
        str(tmp_path / "notify.sock")
        if request.param == "path"
        else f"@uvicorn-test-{os.getpid()}-{id(tmp_path)}"
    )
    fake = FakeSystemd(address)
    request.addfinalizer(fake.close)
    return fake


def launch_notified(launch: Launch, systemd: FakeSystemd, *options: str, watchdog: bool = False) -> Uvicorn:
    env = {"NOTIFY_SOCKET": systemd.address}
    if watchdog:
        env["WATCHDOG_USEC"] = "400000"  # WatchdogSec=0.4s: a ping every 0.2 s
    return launch("pid_app:app", "--port", "0", "--no-access-log", *options, env=env)


def test_a_single_server_notifies_ready_watchdog_and_stopping(launch: Launch, systemd: FakeSystemd) -> None:
    server = launch_notified(launch, systemd, watchdog=True)
    pid, ready = systemd.wait_for("READY")
    assert (pid, ready["READY"]) == (server.pid, "1")
    assert ready["STATUS"] == f"Serving (process {server.pid})"
    assert httpx.get(server.url).text == str(server.pid)  # it serves
    # The watchdog keeps coming while the server is healthy.
    for _ in range(3):
        assert systemd.wait_for("WATCHDOG") == (server.pid, {"WATCHDOG": "1"})
    server.send_signal(signal.SIGTERM)
    _, stopping = systemd.wait_for("STOPPING")
    assert stopping == {"STOPPING": "1", "STATUS": "Shutting down"}
    assert server.wait_exit() == -signal.SIGTERM  # a single server re-raises it once stopped
    assert systemd.senders() == {server.pid}


def test_the_watchdog_stops_when_the_event_loop_hangs(launch: Launch, tmp_path: Path) -> None:
    systemd = FakeSystemd(str(tmp_path / "notify.sock"))
    server = launch_notified(launch, systemd, watchdog=True)
    systemd.wait_for("WATCHDOG")
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(server.url + "/block", timeout=0.5)  # the app blocks the event loop for good
    systemd.sock.settimeout(0)
    while True:  # drop what was sent before the loop blocked
        try:
            systemd.sock.recv(4096)
        except BlockingIOError:
            break
    # Many watchdog intervals without a ping: systemd would now kill the service.
    systemd.sock.settimeout(1.0)
    with pytest.raises(TimeoutError):
        systemd.sock.recv(4096)
    systemd.close()


def test_workers_notify_from_the_supervisor_only(launch: Launch, systemd: FakeSystemd) -> None:
    server = launch_notified(launch, systemd, "--workers", "2", watchdog=True)
    pid, ready = systemd.wait_for("READY")
    assert pid == server.pid
    assert ready["STATUS"] == "Serving with 2 worker(s)"
    # Both workers started before READY=1 (their log lines may reach us a little later).
    server.log.wait_for(STARTED, count=2)
    old_workers = server.worker_pids()
    assert systemd.wait_for("WATCHDOG")[0] == server.pid

    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    server.send_signal(signal.SIGHUP)
    _, reloading = systemd.wait_for("RELOADING")
    assert reloading["RELOADING"] == "1"
    assert before <= int(reloading["MONOTONIC_USEC"]) <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    _, ready_again = systemd.wait_for("READY")
    assert ready_again["STATUS"] == "Serving with 2 worker(s)"
    assert len(set(server.worker_pids()) - set(old_workers)) == 2  # READY=1 again once both new ones serve

    server.send_signal(signal.SIGTERM)
    assert systemd.wait_for("STOPPING")[1]["STOPPING"] == "1"
    assert server.wait_exit() == 0
    assert systemd.senders() == {server.pid}


def test_reload_notifies_from_the_reloader(launch: Launch, systemd: FakeSystemd, project: Path) -> None:
    server = launch_notified(launch, systemd, "--reload", "--reload-dir", str(project))
    pid, ready = systemd.wait_for("READY")
    assert pid == server.pid
    server.log.wait_for(STARTED)
    (project / "pid_app.py").write_text((project / "pid_app.py").read_text() + "\n# changed\n")
    assert systemd.wait_for("RELOADING")[0] == server.pid
    assert systemd.wait_for("READY")[0] == server.pid
    server.send_signal(signal.SIGTERM)
    assert systemd.wait_for("STOPPING")[0] == server.pid
    assert server.wait_exit() == 0
    assert systemd.senders() == {server.pid}


def test_workers_do_not_inherit_the_notify_socket(launch: Launch, systemd: FakeSystemd) -> None:
    server = launch_notified(launch, systemd, "--workers", "2")
    systemd.wait_for("READY")
    server.log.wait_for(STARTED, count=2)
    response = httpx.get(f"http://127.0.0.1:{server.port}/env/NOTIFY_SOCKET")
    assert response.status_code == 404  # the worker's environment has no NOTIFY_SOCKET
