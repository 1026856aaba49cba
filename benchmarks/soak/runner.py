"""The soak's phases, and the command that runs them (``python -m benchmarks.soak``).

One ``uvicorn`` process serves the whole run, bounded by ``seconds``. After a
warm-up, each phase takes its baseline (fds, RSS, and the objects the server's
garbage collector tracks, through the app's probe) and then:

1. HTTP: opens ``idle`` keep-alive connections (each makes one request), holds
   them while ``requests`` requests are made over a few busy connections
   (pipelined), and closes everything; twice, the server's RSS sampled at every
   1% of the second round's requests.
2. WebSocket: the same with ``ws_idle`` WebSocket connections and ``messages``
   echoes, and after them ``churn`` connections that open, echo two messages and
   close with a closing handshake, a few dozen at a time.
3. The server is stopped with SIGTERM.

The figures are judged by the bounds in ``report.py``; the command exits 1 if
one does not hold.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.soak.http_clients import HOST, RequestLoad, open_idle
from benchmarks.soak.report import Phase, Report
from benchmarks.soak.server import SoakServer, raise_open_file_limit
from benchmarks.soak.ws_clients import open_websockets

__all__ = ["PROFILES", "main", "parse_args", "run"]

PROFILES: dict[str, dict[str, int]] = {
    # Run in CI (tests/cli/test_soak.py): seconds.
    "short": {
        "idle": 300,
        "requests": 20_000,
        "ws_idle": 200,
        "messages": 5_000,
        "churn": 200,
        "seconds": 300,
    },
    # The full run of docs/reliability.md: minutes.
    "full": {
        "idle": 10_000,
        "requests": 1_000_000,
        "ws_idle": 5_000,
        "messages": 200_000,
        "churn": 10_000,
        "seconds": 3600,
    },
}

_LOAD_CONNECTIONS = 16
_PIPELINE_DEPTH = 4
_WS_LOAD_CONNECTIONS = 16
_WS_SIZES = [16, 200, 2000]  # message sizes, in turn
_CHURN_AT_ONCE = 50
_SETTLE_SECONDS = 60.0


class _Sampler:
    """Samples the server's RSS each time the count passes another 1% of the total."""

    def __init__(self, server: SoakServer, total: int, into: list[int]) -> None:
        self._server, self._step, self._into, self._next = server, max(1, total // 100), into, 0

    def __call__(self, done: int) -> None:
        if done >= self._next:
            self._into.append(self._server.rss_kib())
            self._next = done + self._step


async def _collect(port: int) -> tuple[int, int]:
    """Ask the server to collect its garbage (see app.py): the objects it tracks, the blocks it holds."""
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(b"GET /__soak/collect HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
    answer = await reader.read()
    writer.close()
    objects, blocks = answer.partition(b"\r\n\r\n")[2].split()
    return int(objects), int(blocks)


async def _settle(server: SoakServer, fds_target: int) -> None:
    """Wait (bounded) until the server has closed what the clients left: its fds fall to the target."""
    deadline = time.monotonic() + _SETTLE_SECONDS
    while server.open_fds() > fds_target and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def _phase(
    server: SoakServer,
    port: int,
    phase: Phase,
    open_idle_connections: Callable[[], Awaitable[list[Any]]],
    close: Callable[[list[Any]], Awaitable[None]],
    load: Callable[[_Sampler], Awaitable[None]],
) -> None:
    """Baseline, then two identical rounds of idle connections held under ``load``; the second is measured.

    The first round shows what the allocators keep after such a peak; the second
    must not keep more (what a leak would do).
    """
    started = time.monotonic()
    phase.objects_baseline, phase.blocks_baseline = await _collect(port)
    phase.rss_baseline_kib, phase.fds_baseline = server.rss_kib(), server.open_fds()

    idle = await open_idle_connections()
    await load(_Sampler(server, phase.count, []))
    await close(idle)
    await _settle(server, phase.fds_baseline)
    phase.objects_first_round, phase.blocks_first_round = await _collect(port)
    phase.rss_first_round_kib = server.rss_kib()

    idle = await open_idle_connections()
    phase.rss_peak_kib, phase.fds_peak = server.rss_kib(), server.open_fds()
    await load(_Sampler(server, phase.count, phase.rss_samples_kib))
    phase.rss_peak_kib = max(phase.rss_peak_kib, *phase.rss_samples_kib, server.rss_kib())
    await close(idle)

    await _settle(server, phase.fds_baseline)
    phase.rss_after_uncollected_kib, phase.fds_after = server.rss_kib(), server.open_fds()
    phase.objects_after, phase.blocks_after = await _collect(port)
    phase.rss_after_kib = server.rss_kib()
    phase.seconds = time.monotonic() - started


async def _http(server: SoakServer, port: int, counts: dict[str, int], report: Report) -> None:
    phase = Phase("http", counts["idle"], counts["requests"])
    report.phases.append(phase)

    async def close(transports: list[asyncio.Transport]) -> None:
        for transport in transports:
            transport.close()

    async def load(sampler: _Sampler) -> None:
        await RequestLoad(port, counts["requests"], _LOAD_CONNECTIONS, _PIPELINE_DEPTH, sampler).run()

    await _phase(server, port, phase, lambda: open_idle(port, counts["idle"]), close, load)


async def _websocket(server: SoakServer, port: int, counts: dict[str, int], report: Report) -> None:
    phase = Phase("websocket", counts["ws_idle"], counts["messages"])
    report.phases.append(phase)

    async def close(clients: list[Any]) -> None:
        await asyncio.gather(*(client.close() for client in clients))

    async def load(sampler: _Sampler) -> None:
        echoed = 0

        def on_echo() -> None:
            nonlocal echoed
            echoed += 1
            sampler(echoed)

        busy = await open_websockets(port, _WS_LOAD_CONNECTIONS)
        shares = [
            counts["messages"] // len(busy) + (n < counts["messages"] % len(busy)) for n in range(len(busy))
        ]
        await asyncio.gather(
            *(
                client.echo([b"m" * _WS_SIZES[i % len(_WS_SIZES)] for i in range(share)], on_echo)
                for client, share in zip(busy, shares, strict=True)
            )
        )
        await close(busy)
        if echoed != counts["messages"]:
            report.failures.append(f"websocket: {echoed} of {counts['messages']} messages echoed")
        remaining = counts["churn"]
        while remaining:
            batch = await open_websockets(port, min(_CHURN_AT_ONCE, remaining))
            await asyncio.gather(*(client.echo([b"hello", b"world"], lambda: None) for client in batch))
            await close(batch)
            remaining -= len(batch)

    await _phase(server, port, phase, lambda: open_websockets(port, counts["ws_idle"]), close, load)


async def _run(server: SoakServer, counts: dict[str, int], report: Report) -> None:
    port = server.wait_until_listening()
    # Warm-up: lazy imports and first-use caches belong in the baseline.
    await RequestLoad(port, 1000, 4, 1, lambda done: None).run()
    warm = await open_websockets(port, 10)
    await asyncio.gather(*(client.echo([b"warm"], lambda: None) for client in warm))
    await asyncio.gather(*(client.close() for client in warm))
    await _http(server, port, counts, report)
    await _websocket(server, port, counts, report)


def run(profile: str, counts: dict[str, int], options: list[str]) -> Report:
    """Run the soak against a new server started with ``options``; the judged report."""
    report = Report(profile, options, counts, open_file_limit=raise_open_file_limit())
    started = time.monotonic()
    # Idle connections must outlive the run: the keep-alive timeout would close them.
    server = SoakServer(["--timeout-keep-alive", "3600", "--no-access-log", *options])
    try:
        asyncio.run(asyncio.wait_for(_run(server, counts, report), counts["seconds"]))
    except asyncio.TimeoutError:
        report.failures.append(f"not finished within {counts['seconds']}s (the bound of the run)")
    except Exception as exc:
        report.failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        report.exit_code = server.stop()
        report.server_log_problems = server.problems
        report.seconds = time.monotonic() - started
    report.judge()
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of ``python -m benchmarks.soak``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak",
        description="Soak a real uvicorn process with many connections and a long load; watch its memory.",
        epilog="Options after -- go to uvicorn (e.g. -- --http httptools --ws wsproto).",
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="short", help="short (CI) or full")
    for name in PROFILES["short"]:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, help=f"instead of the profile's {name}")
    parser.add_argument("--json", help="also write the report, with every sample, as JSON to this file")
    parser.add_argument("server_options", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_args(argv)
    counts = dict(PROFILES[arguments.profile])
    for name in counts:
        if (value := getattr(arguments, name)) is not None:
            counts[name] = value
    options = [option for option in arguments.server_options if option != "--"]
    report = run(arguments.profile, counts, options)
    print(report.render())
    if arguments.json:
        with open(arguments.json, "w") as output:
            json.dump(report.as_json(), output, indent=2)
    return 1 if report.failures else 0
