"""The workloads: what each server serves, how its answer is checked, how one sample is taken.

A workload is measured on every side that takes part in it (``peers``); the
table rows (``benchmarks.table``) are computed from workload samples, several
rows from the same samples (the p99 row comes from the default-settings hello
run, for instance).

Every rate sample carries ``work`` (requests, bytes or messages the server
completed, all of them, not only those inside the client's window) and
``server_cpu_seconds`` (the server's process tree over the same span), and so
``per_cpu``: work per server CPU-second, the figure that stays fair on a
shared machine where the server does not always get its whole core.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.apps import DOWNLOAD_SIZE, FILE_SIZES, HELLO_BODY, PATHSEND
from benchmarks.environment import REPO_ROOT
from benchmarks.http_load import LoadError, request, request_h2, run_h2load, run_wrk
from benchmarks.idle_load import measure_idle_memory
from benchmarks.load_process import run_load
from benchmarks.server import HOST, ServerProcess, ServerSpec

MIB = 1024 * 1024
# Idle connections must outlive the measurement on every server.
IDLE_KEEP_ALIVE = 3600
# HTTP/2 load: connections x concurrent streams on each.
H2_CLIENTS, H2_STREAMS = 16, 10

# Who takes part in what. hypercorn joins the HTTP/2 rows only; granian has one
# WebSocket implementation of its own, measured in the websockets-sansio rows.
HTTP1_PEERS = ("ours", "upstream", "upstream-0.54", "granian")
HELLO_PEERS = (*HTTP1_PEERS, "raw")
WS_PEERS = ("ours", "upstream", "upstream-0.54")
H2_PEERS = ("ours", "upstream", "granian", "hypercorn")
FILE_PEERS = ("ours", "upstream", "granian")

Sample = dict[str, float | str]


@dataclass(frozen=True)
class Settings:
    """How long and how hard to measure, and where everything runs."""

    rounds: int
    duration: int
    warmup: int
    connections: int
    idle_connections: int
    server_cpu: int
    load_cpu: int
    client_python: Path
    # Measure the rows prepared for features ours lacks anyway (ours shows n/a there).
    ignore_gates: bool = False


Measure = Callable[[ServerProcess, Settings, int], Sample]


class Unsupported(Exception):
    """The server answers, but lacks what this workload needs (an ASGI extension): an "n/a" cell."""


@dataclass(frozen=True)
class Workload:
    """One thing to measure on every side that takes part."""

    key: str
    spec: ServerSpec
    check: Callable[[ServerProcess], None]
    measure: Measure
    # Memory is read from a server that has served nothing else.
    fresh_server_each_round: bool = False
    peers: tuple[str, ...] = HTTP1_PEERS
    # The load tools it needs installed (the check's client included).
    tools: tuple[str, ...] = ("wrk",)
    # Asked of our server once it runs: a reason to skip the whole workload
    # (rows prepared for a feature ours does not have yet), or None to measure.
    gate: Callable[[ServerProcess], str | None] | None = None


# ---------------------------------------------------------------- answer checks


def _expect(
    server: ServerProcess, method: str, path: str, body: bytes, expected: Callable[[bytes], bool]
) -> None:
    status, answer = request(server.port, method, path, body)
    if status != 200 or not expected(answer):
        raise LoadError(f"wrong answer to {method} {path}: status {status}, {len(answer)}-byte body")


def check_hello(server: ServerProcess) -> None:
    _expect(server, "GET", "/", b"", lambda answer: answer == HELLO_BODY)


def check_echo(server: ServerProcess) -> None:
    body = os.urandom(1024)
    _expect(server, "POST", "/echo", body, lambda answer: answer == body)


def check_upload(server: ServerProcess) -> None:
    _expect(server, "POST", "/upload", b"u" * (10 * MIB), lambda answer: answer == b"%d" % (10 * MIB))


def check_download(server: ServerProcess) -> None:
    _expect(server, "GET", "/download", b"", lambda answer: len(answer) == DOWNLOAD_SIZE)


def check_nothing(server: ServerProcess) -> None:
    """The WebSocket client checks the first echo on every connection itself."""


def check_hello_h2(server: ServerProcess) -> None:
    answer = request_h2(server.port, "/")
    if answer != HELLO_BODY:
        raise LoadError(f"wrong HTTP/2 answer to GET /: {answer[:60]!r}")


def _extensions(server: ServerProcess) -> list[str]:
    status, answer = request(server.port, "GET", "/extensions")
    if status != 200:
        raise LoadError(f"GET /extensions answered {status}")
    names: list[str] = json.loads(answer)
    return names


def pathsend_gate(server: ServerProcess) -> str | None:
    """The pathsend rows wait for our server to announce the extension (issue 17)."""
    return None if PATHSEND in _extensions(server) else "skipped (no pathsend in ours)"


def check_file(request_path: str, pathsend: bool) -> Callable[[ServerProcess], None]:
    def check(server: ServerProcess) -> None:
        if pathsend and PATHSEND not in _extensions(server):
            raise Unsupported("no pathsend")
        size = FILE_SIZES[request_path]
        _expect(server, "GET", request_path, b"", lambda answer: len(answer) == size)

    return check


# ---------------------------------------------------------------- measurements


def wrk_measure(path: str, script: str | None = None, mib_per_request: float | None = None) -> Measure:
    """Measure with wrk: requests/s (or MiB/s when each request moves ``mib_per_request``) and p99."""

    def measure(server: ServerProcess, settings: Settings, duration: int) -> Sample:
        meter, lines_before = server.core_meter(settings.load_cpu), server.stdout_lines
        result = run_wrk(
            f"http://{HOST}:{server.port}{path}",
            connections=settings.connections,
            duration=duration,
            cpu=settings.load_cpu,
            script=script,
        )
        usage = meter.read()
        server.check_alive()
        problems = [result.problems] if result.problems else []
        logged = server.stdout_lines - lines_before
        if server.spec.access_log and logged < result.requests * 0.95:
            problems.append(f"access log: {logged} lines for {result.requests} requests")
        if not server.spec.access_log and logged:
            problems.append(f"access log off, yet {logged} lines on stdout")
        value, work = result.requests_per_second, float(result.requests)
        if mib_per_request is not None:
            value, work = value * mib_per_request, work * mib_per_request
        return {
            "value": value,
            **_per_cpu(work, usage),
            "requests_per_second": result.requests_per_second,
            "p99_ms": result.p99_ms,
            **usage,
            "load_cpu": result.load_cpu_share,
            "load_core_others": max(usage["load_core_busy"] - result.load_cpu_share, 0.0),
            "problems": "; ".join(problems),
        }

    return measure


def _per_cpu(work: float, usage: dict[str, float]) -> dict[str, float]:
    """``work`` and ``per_cpu`` (work per server CPU-second) for a sample, when the server used CPU."""
    cpu = usage["server_cpu_seconds"]
    return {"work": work, "per_cpu": work / cpu} if cpu > 0 else {"work": work}


def h2load_measure(path: str) -> Measure:
    """Measure HTTP/2 requests/s with h2load: ``H2_CLIENTS`` connections x ``H2_STREAMS`` streams."""

    def measure(server: ServerProcess, settings: Settings, duration: int) -> Sample:
        meter = server.core_meter(settings.load_cpu)
        result = run_h2load(
            f"http://{HOST}:{server.port}{path}",
            clients=H2_CLIENTS,
            streams=H2_STREAMS,
            duration=duration,
            cpu=settings.load_cpu,
        )
        usage = meter.read()
        server.check_alive()
        return {
            "value": result.requests_per_second,
            **_per_cpu(float(result.requests), usage),
            **usage,
            "load_cpu": result.load_cpu_share,
            "load_core_others": max(usage["load_core_busy"] - result.load_cpu_share, 0.0),
            "problems": result.problems,
        }

    return measure


def _run_client(module: str, options: list[str], server: ServerProcess, settings: Settings) -> dict[str, Any]:
    """Run one of our load clients (``python -m benchmarks.MODULE``) and read its JSON report."""
    command = [str(settings.client_python), "-m", f"benchmarks.{module}", f"--port={server.port}", *options]
    command.append(f"--connections={settings.connections}")
    meter = server.core_meter(settings.load_cpu)
    finished = run_load(command, cpu=settings.load_cpu, timeout=settings.duration + 120, cwd=str(REPO_ROOT))
    usage = meter.read()
    server.check_alive()
    try:
        report: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise LoadError(f"{module} failed: {finished.stderr.strip()[-300:]}") from None
    if "error" in report:
        raise LoadError(f"{module}: {report['error']}")
    report.update(usage, load_cpu=finished.cpu_share)
    report["load_core_others"] = max(usage["load_core_busy"] - finished.cpu_share, 0.0)
    return report


def ws_measure(size: int) -> Measure:
    """Measure WebSocket echo round trips per second with our own client (``ws_load``)."""

    def measure(server: ServerProcess, settings: Settings, duration: int) -> Sample:
        report = _run_client("ws_load", [f"--size={size}", f"--duration={duration}"], server, settings)
        return {
            "value": report["messages"] / report["seconds"],
            **_per_cpu(float(report["all_messages"]), report),
            "server_cpu_seconds": report["server_cpu_seconds"],
            "server_cpu": report["server_cpu"],
            "other_cpu": report["other_cpu"],
            "load_cpu": report["load_cpu"],
            "load_core_others": report["load_core_others"],
            "problems": "; ".join(report["errors"]),
        }

    return measure


def download_measure(path: str) -> Measure:
    """Measure body MiB/s of repeated large downloads with our own client (``download_load``)."""

    def measure(server: ServerProcess, settings: Settings, duration: int) -> Sample:
        options = [f"--path={path}", f"--duration={duration}"]
        return _download_sample(_run_client("download_load", options, server, settings))

    return measure


def _download_sample(report: dict[str, Any]) -> Sample:
    return {
        "value": report["body_bytes"] / MIB / report["seconds"],
        **_per_cpu(report["all_body_bytes"] / MIB, report),
        "server_cpu_seconds": report["server_cpu_seconds"],
        "responses": report["responses"],
        "server_cpu": report["server_cpu"],
        "other_cpu": report["other_cpu"],
        "load_cpu": report["load_cpu"],
        "load_core_others": report["load_core_others"],
        "problems": "; ".join(report["errors"]),
    }


def idle_measure(server: ServerProcess, settings: Settings, duration: int) -> Sample:
    """Memory for ``settings.idle_connections`` idle keep-alive connections (``duration`` unused)."""
    memory = measure_idle_memory(server, settings.idle_connections)
    return {
        "value": memory.kib_per_connection,
        "kib_per_connection": memory.kib_per_connection,
        "rss_mib": memory.rss_after_kib / 1024,
        "rss_before_mib": memory.rss_before_kib / 1024,
        "problems": "",
    }


def _ws_workloads() -> list[Workload]:
    workloads = []
    for implementation, short in (
        ("websockets-sansio", "sansio"),
        ("websockets", "websockets"),
        ("wsproto", "wsproto"),
    ):
        peers = (*WS_PEERS, "granian") if short == "sansio" else WS_PEERS
        for size, label in ((64, "64"), (64 * 1024, "64k")):
            workloads.append(
                Workload(
                    key=f"ws-{short}-{label}",
                    spec=ServerSpec("ws_echo", ws=implementation, access_log=False),
                    check=check_nothing,
                    measure=ws_measure(size),
                    peers=peers,
                    tools=(),
                )
            )
    return workloads


def _file_workloads() -> list[Workload]:
    workloads = []
    for request_path, label in (("/50k", "50k"), ("/10m", "10m")):
        for pathsend in (True, False):
            measure = wrk_measure(request_path) if label == "50k" else download_measure(request_path)
            workloads.append(
                Workload(
                    key=f"file-{label}-{'pathsend' if pathsend else 'read'}",
                    spec=ServerSpec("file_pathsend" if pathsend else "file_read", access_log=False),
                    check=check_file(request_path, pathsend),
                    measure=measure,
                    peers=FILE_PEERS,
                    tools=("wrk",) if label == "50k" else (),
                    gate=pathsend_gate,
                )
            )
    return workloads


WORKLOADS: dict[str, Workload] = {
    workload.key: workload
    for workload in [
        Workload("hello-log", ServerSpec("hello"), check_hello, wrk_measure("/")),
        # Default settings plus --admin-port: what the metrics cost (ours has them only).
        Workload(
            "hello-admin", ServerSpec("hello", admin=True), check_hello, wrk_measure("/"), peers=("ours",)
        ),
        Workload(
            "hello-nolog",
            ServerSpec("hello", access_log=False),
            check_hello,
            wrk_measure("/"),
            peers=HELLO_PEERS,
        ),
        Workload(
            "hello-h11",
            ServerSpec("hello", http="h11", loop="asyncio", access_log=False),
            check_hello,
            wrk_measure("/"),
        ),
        Workload(
            "post-1k", ServerSpec("echo", access_log=False), check_echo, wrk_measure("/echo", "post_1k.lua")
        ),
        Workload(
            "upload-10m",
            ServerSpec("upload", access_log=False),
            check_upload,
            wrk_measure("/upload", "upload_10m.lua", mib_per_request=10.0),
        ),
        Workload(
            "download-10m",
            ServerSpec("download", access_log=False),
            check_download,
            download_measure("/download"),
            tools=(),
        ),
        *_ws_workloads(),
        Workload(
            "h2-hello",
            ServerSpec("hello", access_log=False, http2=True),
            check_hello_h2,
            h2load_measure("/"),
            peers=H2_PEERS,
            tools=("h2load", "nghttp"),
        ),
        *_file_workloads(),
        Workload(
            "idle",
            ServerSpec("hello", timeout_keep_alive=IDLE_KEEP_ALIVE),
            check_hello,
            idle_measure,
            fresh_server_each_round=True,
            tools=(),
        ),
    ]
}
