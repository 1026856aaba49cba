"""HTTP load: drive a server with wrk or h2load and read its report; check answers with one real request.

wrk runs with one thread pinned to the load core; ``--latency`` is always on
so every run also yields the 99th percentile. POST bodies come from the Lua
scripts in ``benchmarks/lua/``. h2load (HTTP/2 with prior knowledge over
cleartext) runs the same way, one thread on the load core.
"""

from __future__ import annotations

import http.client
import re
import subprocess
import time
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


@dataclass(frozen=True)
class H2loadResult:
    """What one h2load run reports: completed requests, their rate, and anything that went wrong."""

    requests_per_second: float
    requests: int
    problems: str = ""
    load_cpu_share: float = 0.0


def parse_h2load_output(output: str) -> H2loadResult:
    """Read the rate and the request counters out of h2load's summary."""
    rate = re.search(r"^finished in [\d.]+m?s, ([\d.]+) req/s", output, re.MULTILINE)
    counts = re.search(
        r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored",
        output,
        re.MULTILINE,
    )
    if rate is None or counts is None:
        raise LoadError("unreadable h2load output: " + " | ".join(output.strip().splitlines()[-3:]))
    done, succeeded, failed, errored = (int(counts.group(index)) for index in (3, 4, 5, 6))
    problems = []
    if failed or errored:
        problems.append(f"{failed} failed, {errored} errored requests")
    if "Application protocol: h2c" not in output:
        problems.append("not HTTP/2 (h2c) on the wire")
    # The 2xx count may differ from "succeeded" by the streams cut at the end of the window.
    status = re.search(r"^status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output, re.MULTILINE)
    if status is None or succeeded == 0:
        problems.append("no 2xx responses")
    elif other := sum(int(count) for count in status.groups()):
        problems.append(f"{other} non-2xx responses")
    return H2loadResult(float(rate.group(1)), done, "; ".join(problems))


#: Requests h2load sends on one connection at most: zttp (upstream's HTTP/2) ends a connection
#: after 4000 streams, and h2load does not reconnect, so a longer run would measure fewer clients.
H2_REQUESTS_PER_CONNECTION = 4000


def run_h2load(url: str, *, clients: int, streams: int, duration: int, cpu: int) -> H2loadResult:
    """Run h2load (one thread, ``clients`` connections of ``streams`` concurrent streams, prior knowledge).

    In rounds of ``H2_REQUESTS_PER_CONNECTION`` requests per connection (fresh
    connections each round) until ``duration`` seconds have passed; the result is
    their sum (the last round may end past ``duration``).
    """
    command = ["h2load", f"--clients={clients}", f"--max-concurrent-streams={streams}", "--threads=1"]
    command += [f"--requests={clients * H2_REQUESTS_PER_CONNECTION}", url]
    requests = 0
    seconds = cpu_seconds = 0.0
    problems: list[str] = []
    started = time.monotonic()
    while time.monotonic() - started < duration:
        finished = run_load(command, cpu=cpu, timeout=duration + 60)
        if finished.returncode != 0:
            raise LoadError(f"h2load exited with {finished.returncode}: {finished.stderr.strip()[-300:]}")
        result = parse_h2load_output(finished.stdout)
        requests += result.requests
        round_seconds = result.requests / result.requests_per_second if result.requests_per_second else 0.0
        seconds += round_seconds
        cpu_seconds += finished.cpu_share * round_seconds
        if result.problems and result.problems not in problems:
            problems.append(result.problems)
    return H2loadResult(
        requests / seconds if seconds else 0.0,
        requests,
        "; ".join(problems),
        cpu_seconds / seconds if seconds else 0.0,
    )


def request_h2(port: int, path: str) -> bytes:
    """The body of one HTTP/2 request with prior knowledge (nghttp); raises LoadError if it fails."""
    finished = subprocess.run(
        ["nghttp", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if finished.returncode != 0:
        raise LoadError(f"no HTTP/2 answer: {finished.stderr.decode(errors='replace').strip()[-200:]}")
    return finished.stdout
