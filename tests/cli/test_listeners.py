"""``--bind`` (several addresses at once), ``--host ::`` and ``--reuse-port``, with real processes."""

from __future__ import annotations

import re
import socket
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Launch
from tests.cli.processes import Uvicorn

STARTED = "Application startup complete"
RUNNING = r"Uvicorn running on (\S+)"


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def answering_pid(url: str, uds: str | None = None) -> int:
    """The process id the server answers with, over a new connection."""
    transport = httpx.HTTPTransport(uds=uds) if uds else None
    with httpx.Client(transport=transport) as client:
        response = client.get(url, headers={"Connection": "close"})
    assert response.status_code == 200
    return int(response.text)


def pid_over_new_connection(port: int) -> int:
    """The process id the server answers with, over a raw new TCP connection (cheaper than a client)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        response = b""
        while chunk := sock.recv(4096):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), head
    return int(body)


def start(launch: Launch, *options: str, workers: int = 1) -> Uvicorn:
    arguments = ["pid_app:app", "--no-access-log", *options]
    if workers > 1:
        arguments += ["--workers", str(workers)]
    server = launch(*arguments)
    server.log.wait_for(STARTED, count=workers)
    return server


def running_on(server: Uvicorn, count: int) -> list[str]:
    """The addresses of the "Uvicorn running on" lines, once ``count`` of them are there."""
    server.log.wait_for(RUNNING, count=count)
    return [match.group(1) for match in server.log.matches(RUNNING)]


@pytest.mark.parametrize("workers", [1, 2])
def test_one_server_listens_on_a_tcp_and_a_unix_address_at_once(
    launch: Launch, tmp_path: Path, workers: int
) -> None:
    path = str(tmp_path / "bound.sock")
    server = start(launch, "--bind", "127.0.0.1:0", "--bind", f"unix:{path}", workers=workers)
    tcp_url, unix = running_on(server, 2)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", tcp_url)
    assert unix == "unix"  # "unix socket PATH"
    assert f"Uvicorn running on unix socket {path} (Press CTRL+C to quit)" in server.log.text
    over_tcp = answering_pid(tcp_url)
    over_unix = answering_pid("http://localhost/", uds=path)
    serving = {server.pid} if workers == 1 else set(server.worker_pids())
    assert {over_tcp, over_unix} <= serving
    server.send_signal(2)
    assert server.wait_exit() == 0
    assert not Path(path).exists()  # the socket file is removed on exit


def test_bind_takes_an_inherited_file_descriptor(launch: Launch) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        server = launch("pid_app:app", "--bind", f"fd://{listener.fileno()}", pass_fds=(listener.fileno(),))
        server.log.wait_for(STARTED)
        assert f"Uvicorn running on socket ('127.0.0.1', {port})" in server.log.wait_for(RUNNING).string
        assert answering_pid(f"http://127.0.0.1:{port}") == server.pid


def test_a_bind_that_fails_exits_3_and_names_the_address(launch: Launch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = launch(
            "pid_app:app", "--bind", "127.0.0.1:0", "--bind", f"127.0.0.1:{port}", "--workers", "2"
        )
        assert server.wait_exit() == 3
    assert f"Could not bind to 127.0.0.1 port {port}: Address already in use." in server.log.text


@pytest.mark.skipif(not has_ipv6_loopback(), reason="IPv6 is not available")
@pytest.mark.parametrize("workers", [1, 2])
def test_host_ipv6_wildcard_serves_ipv4_and_ipv6_alike(launch: Launch, workers: int) -> None:
    server = start(launch, "--host", "::", "--port", "0", workers=workers)
    port = int(server.log.wait_for(r"Uvicorn running on http://\[::\]:(\d+) ").group(1))
    serving = {server.pid} if workers == 1 else set(server.worker_pids())
    assert answering_pid(f"http://127.0.0.1:{port}") in serving
    assert answering_pid(f"http://[::1]:{port}") in serving


@pytest.mark.skipif(not has_ipv6_loopback(), reason="IPv6 is not available")
def test_ipv4_and_ipv6_wildcards_bound_separately_do_not_clash(launch: Launch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start(launch, "--bind", f"0.0.0.0:{port}", "--bind", f"[::]:{port}")
    assert answering_pid(f"http://127.0.0.1:{port}") == server.pid
    assert answering_pid(f"http://[::1]:{port}") == server.pid


def listening_sockets_on(port: int) -> int:
    """How many TCP sockets listen on ``port`` (IPv4), from /proc/net/tcp."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local_and_state = [(line.split()[1], line.split()[3]) for line in lines]
    return sum(
        1 for local, state in local_and_state if state == "0A" and int(local.split(":")[1], 16) == port
    )


@pytest.mark.parametrize("reuse_port", [False, True])
def test_reuse_port_gives_each_worker_its_own_listening_socket(launch: Launch, reuse_port: bool) -> None:
    options = ["--reuse-port"] if reuse_port else []
    server = start(launch, "--port", "0", *options, workers=2)
    assert listening_sockets_on(server.port) == (2 if reuse_port else 1)


def test_reuse_port_spreads_new_connections_over_every_worker(launch: Launch) -> None:
    server = start(launch, "--port", "0", "--reuse-port", workers=2)
    workers = set(server.worker_pids())
    counts = Counter(pid_over_new_connection(server.port) for _ in range(200))
    assert set(counts) == workers
    # The kernel hashes each new connection (by its source port) to one of the sockets:
    # both get a fair share.
    assert min(counts.values()) >= 40, counts
