"""HTTP load: drive a server with wrk and read its report; check answers with one real request.

wrk runs with one thread pinned to the load core; ``--latency`` is always on
so every run also yields the 99th percentile. POST bodies come from the Lua
scripts in ``benchmarks/lua/``.
"""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.load_process import run_load

LUA_DIR = Path(__file__).resolve().parent / "lua"
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class LoadError(Exception):
    """The load generator failed or its output could not be read."""


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run reports: throughput, tail latency and anything that went wrong."""

    requests_per_second: float
    p99_ms: float
    requests: int
    problems: str = ""
    load_cpu_share: float = 0.0


def _parse_duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise LoadError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk_output(output: str) -> WrkResult:
    """Read requests/s, p99 and error counters out of wrk's ``--latency`` report."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if rate is None or p99 is None or total is None:
        raise LoadError("unreadable wrk output: " + " | ".join(output.strip().splitlines()[-3:]))
    problems = []
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        problems.append(f"socket errors: {socket_errors.group(1).strip()}")
    bad_status = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad_status:
        problems.append(f"{bad_status.group(1)} non-2xx responses")
    return WrkResult(
        requests_per_second=float(rate.group(1)),
        p99_ms=_parse_duration_ms(p99.group(1)),
        requests=int(total.group(1)),
        problems="; ".join(problems),
    )


def run_wrk(url: str, *, connections: int, duration: int, cpu: int, script: str | None = None) -> WrkResult:
    """Run wrk (one thread, keep-alive, ``connections`` connections) for ``duration`` seconds."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency"]
    if script is not None:
        command += ["-s", str(LUA_DIR / script)]
    command.append(url)
    finished = run_load(command, cpu=cpu, timeout=duration + 60)
    if finished.returncode != 0:
        raise LoadError(f"wrk exited with {finished.returncode}: {finished.stderr.strip()[-300:]}")
    return replace(parse_wrk_output(finished.stdout), load_cpu_share=finished.cpu_share)


def request(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    """One real HTTP/1.1 request; returns status and body (checks an app answers as expected)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body or None)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
