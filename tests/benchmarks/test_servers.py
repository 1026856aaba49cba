"""Real servers started the way the runner starts them: the raw ceiling, ours, a gated workload."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from benchmarks.apps import write_files
from benchmarks.environment import workspace_python
from benchmarks.measurement import Measurement
from benchmarks.server import ServerProcess, ServerSpec
from benchmarks.sides import Side
from benchmarks.workloads import WORKLOADS, Settings, check_hello, pathsend_gate

SETTINGS = Settings(
    rounds=1,
    duration=1,
    warmup=1,
    connections=4,
    idle_connections=10,
    server_cpu=0,
    load_cpu=0,
    client_python=Path(sys.executable),
)


def _exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(request)
        received = b""
        while chunk := client.recv(65536):
            received += chunk
        return received


def test_raw_ceiling_answers_keep_alive_and_closes_for_http_1_0() -> None:
    raw = Side("raw", workspace_python())
    spec = ServerSpec("hello", access_log=False)
    with ServerProcess(lambda port: raw.command(spec, port), spec, cpu=0) as server:
        check_hello(server)
        answer = _exchange(server.port, b"GET / HTTP/1.0\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert answer.endswith(b"\r\n\r\nHello, world!\n")
        assert b"content-length: 14\r\n" in answer
        assert server.cpu_seconds() >= 0.0
        assert _exchange(server.port, b"NOT HTTP\r\n\r\n").startswith(b"HTTP/1.1 400")


def test_a_gated_workload_is_skipped_on_every_side_before_they_start() -> None:
    ours = Side("ours", workspace_python(), {"ws": {}, "http2": None})
    # Started, this side would fail: the test proves it is never started.
    never = Side("granian", Path("/nonexistent/bin/python"))
    write_files()
    workload = WORKLOADS["file-50k-read"]
    with ServerProcess(lambda port: ours.command(workload.spec, port), workload.spec, cpu=0) as server:
        announced = pathsend_gate(server) is None
    measurement = Measurement(workload, [ours, never], SETTINGS, blocked={})
    measurement.run()
    if announced:  # ours has pathsend (issue 17 landed): the gate opens
        assert measurement.result.sides["ours"].samples or measurement.result.sides["ours"].errors
    else:
        for side in ("ours", "granian"):
            record = measurement.result.sides[side]
            assert record.unavailable == "skipped (no pathsend in ours)"
            assert not record.errors and not record.samples
