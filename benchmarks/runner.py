"""The benchmark command: set up, measure in interleaved rounds, print the table, save JSON.

    uv run python -m benchmarks            # full run, about 10-15 minutes
    uv run python -m benchmarks --quick    # smoke run, about a minute and a half
    uv run python -m benchmarks --rows http --rounds 5

For each workload both servers are started (same launcher, same options,
pinned to the server core) and measured alternately, ours then upstream,
round after round; the table shows medians. Failures are recorded in their
row and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks.environment import (
    WORK_DIR,
    SetupError,
    describe_machine,
    describe_source,
    ensure_upstream,
    ensure_wrk,
    probe,
    workspace_python,
)
from benchmarks.results import SIDES, SideResult, WorkloadResult
from benchmarks.server import ServerError, ServerProcess
from benchmarks.table import GROUPS, ROWS, evaluate, render
from benchmarks.workloads import WORKLOADS, Settings, Workload

FULL = {"rounds": 3, "duration": 8, "warmup": 2, "idle_connections": 10_000}
QUICK = {"rounds": 1, "duration": 2, "warmup": 1, "idle_connections": 2_000}
# Rough cost of starting and stopping one server, for the duration estimate only.
STARTUP_SECONDS = 1.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure our uvicorn against upstream uvicorn 0.54 (see docs/benchmarks.md).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 1 round of 2 s, 2000 idle connections"
    )
    parser.add_argument("--rows", default="all", help="comma-separated row keys or groups (http, ws, memory)")
    parser.add_argument("--list-rows", action="store_true", help="print the row keys and exit")
    parser.add_argument("--rounds", type=int, help="measurements per server and workload (full: 3)")
    parser.add_argument("--duration", type=int, help="seconds per measurement (full: 8)")
    parser.add_argument("--warmup", type=int, help="seconds of load before the first round (full: 2)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (64)")
    parser.add_argument(
        "--idle-connections", type=int, help="idle connections for the memory rows (full: 10000)"
    )
    parser.add_argument(
        "--ours-python", type=Path, help="interpreter whose uvicorn is 'ours' (workspace .venv)"
    )
    parser.add_argument(
        "--upstream-python", type=Path, help="use this interpreter instead of the managed venv"
    )
    parser.add_argument("--server-cpu", type=int, default=0, help="core the servers are pinned to (0)")
    parser.add_argument("--load-cpu", type=int, default=1, help="core for load generators and the runner (1)")
    parser.add_argument(
        "--json", type=Path, default=WORK_DIR / "last-run.json", help="where to write the results"
    )
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    for name in ("rounds", "duration", "warmup", "connections", "idle_connections"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def select_rows(spec: str) -> list[str]:
    """Row keys from ``--rows``: keys and group names, in table order."""
    if spec == "all":
        return list(ROWS)
    wanted: set[str] = set()
    for name in (part.strip() for part in spec.split(",") if part.strip()):
        if name in GROUPS:
            wanted.update(GROUPS[name])
        elif name in ROWS:
            wanted.add(name)
        else:
            raise SystemExit(f"unknown row {name!r}: use --list-rows to see the keys and groups")
    return [key for key in ROWS if key in wanted]


def _describe_error(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ")
    known = (ServerError, SetupError, TimeoutError)
    return text if isinstance(exc, known) and text else f"{type(exc).__name__}: {text}"


_SHARE_LABELS = {
    "server_cpu": "server",
    "other_cpu": "others on server core",
    "load_cpu": "load generator",
    "load_core_others": "others on load core",
}


def _progress(key: str, round_number: int, rounds: int, side: str, sample: dict[str, Any]) -> None:
    shares = [f"{label} {float(sample[name]):.0%}" for name, label in _SHARE_LABELS.items() if name in sample]
    detail = f" (CPU: {', '.join(shares)})" if shares else ""
    value = float(sample["value"])
    print(f"  [{key}] round {round_number}/{rounds} {side}: {value:,.1f}{detail}", file=sys.stderr)


class Measurement:
    """Runs one workload on both servers in interleaved rounds."""

    def __init__(self, workload: Workload, pythons: dict[str, Path | None], settings: Settings) -> None:
        self.workload = workload
        self.pythons = pythons
        self.settings = settings
        self.result = WorkloadResult(workload.key)

    def _start(self, side: str, stack: ExitStack) -> ServerProcess | None:
        python, record = self.pythons[side], self.result.sides[side]
        if python is None:
            return None
        try:
            server = stack.enter_context(ServerProcess(python, self.workload.spec, self.settings.server_cpu))
            self.workload.check(server)
        except Exception as exc:
            record.errors.append(_describe_error(exc))
            print(f"  [{self.workload.key}] {side}: {record.errors[-1]}", file=sys.stderr)
            return None
        return server

    def _sample(self, side: str, server: ServerProcess, round_number: int, duration: int) -> bool:
        record: SideResult = self.result.sides[side]
        errors_before = len(server.error_lines)
        try:
            sample = self.workload.measure(server, self.settings, duration)
            logged = server.error_lines[errors_before:]
            if logged:
                problems = [str(sample["problems"])] if sample["problems"] else []
                problems.append(f"server logged {len(logged)} error line(s), first: {logged[0][:200]}")
                sample["problems"] = "; ".join(problems)
        except Exception as exc:
            record.errors.append(_describe_error(exc))
            print(
                f"  [{self.workload.key}] round {round_number} {side}: {record.errors[-1]}", file=sys.stderr
            )
            return not isinstance(exc, ServerError)
        if round_number:  # round 0 is the warm-up
            record.samples.append(sample)
            _progress(self.workload.key, round_number, self.settings.rounds, side, sample)
        return True

    def run(self) -> None:
        """Fill ``self.result``: interrupted, it keeps the samples taken so far."""
        for side in SIDES:
            if self.result.sides[side].unavailable:
                self.pythons = {**self.pythons, side: None}
        if self.workload.fresh_server_each_round:
            for round_number in range(1, self.settings.rounds + 1):
                for side in SIDES:
                    with ExitStack() as stack:
                        server = self._start(side, stack)
                        if server is not None:
                            self._sample(side, server, round_number, self.settings.duration)
            return
        with ExitStack() as stack:
            servers = {side: server for side in SIDES if (server := self._start(side, stack)) is not None}
            for side, server in list(servers.items()):
                if not self._sample(side, server, 0, self.settings.warmup):
                    del servers[side]
            for round_number in range(1, self.settings.rounds + 1):
                for side, server in list(servers.items()):
                    if not self._sample(side, server, round_number, self.settings.duration):
                        del servers[side]  # it died; later rounds would only repeat that


def _unavailable(
    workload: Workload, side: str, probes: dict[str, dict[str, Any]], setup_errors: dict[str, str]
) -> str | None:
    """Why ``side`` cannot run ``workload`` at all, or None if it can."""
    if side in setup_errors:
        return f"error: {setup_errors[side]}"
    if "wrk" in setup_errors and workload.uses_wrk:
        return f"error: {setup_errors['wrk']}"
    if workload.ws and not probes[side].get("ws", {}).get(workload.ws):
        return f"n/a ({side} unavailable)"
    return None


def _raise_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < needed:
        print(f"warning: open-file limit {hard} is below the {needed} the memory rows need", file=sys.stderr)


def _estimate_minutes(workloads: list[Workload], settings: Settings) -> float:
    seconds = 0.0
    for workload in workloads:
        if workload.fresh_server_each_round:
            seconds += settings.rounds * 2 * (STARTUP_SECONDS + settings.idle_connections / 3000)
        else:
            seconds += 2 * (STARTUP_SECONDS + settings.warmup) + settings.rounds * 2 * settings.duration
    return seconds / 60


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list_rows:
        for key, row in ROWS.items():
            print(f"{key:16} {row.title}")
        print("groups: " + ", ".join(f"{name} ({', '.join(keys)})" for name, keys in GROUPS.items()))
        return 0
    rows = select_rows(args.rows)
    needed = sorted({key for row in rows for key in ROWS[row].workloads}, key=list(WORKLOADS).index)
    workloads = [WORKLOADS[key] for key in needed]
    client_python = workspace_python()
    settings = Settings(
        rounds=args.rounds,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        idle_connections=args.idle_connections,
        server_cpu=args.server_cpu,
        load_cpu=args.load_cpu,
        client_python=client_python,
    )
    # The runner drains the servers' pipes: keep it off the server's core.
    os.sched_setaffinity(0, {args.load_cpu})
    _raise_file_limit(args.idle_connections + 1000)

    setup_errors: dict[str, str] = {}
    if any(workload.uses_wrk for workload in workloads):
        try:
            ensure_wrk()
        except SetupError as exc:
            setup_errors["wrk"] = str(exc)
    pythons: dict[str, Path | None] = {
        "ours": args.ours_python or client_python,
        "upstream": args.upstream_python,
    }
    if pythons["upstream"] is None:
        try:
            pythons["upstream"] = ensure_upstream(client_python)
        except (SetupError, OSError) as exc:
            setup_errors["upstream"] = str(exc)
    probes = {
        side: probe(python) if python else {"error": setup_errors.get(side)}
        for side, python in pythons.items()
    }

    machine = describe_machine()
    print(
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, {machine['os']}, "
        f"kernel {machine['kernel']}, load average {machine['load_average_at_start']}"
    )
    source = describe_source()
    for side in SIDES:
        report = probes[side]
        where = report.get("uvicorn_file") or report.get("error")
        print(f"{side}: uvicorn {report.get('uvicorn', '?')} ({where}), python {report.get('python', '?')}")
    print(f"workspace: {source}")
    minutes = _estimate_minutes(workloads, settings)
    print(
        f"{settings.rounds} round(s) of {settings.duration}s per server and workload, "
        f"warm-up {settings.warmup}s, {settings.connections} connections; about {minutes:.0f} min"
    )

    results: dict[str, WorkloadResult] = {}
    interrupted = False
    started = time.monotonic()
    try:
        for workload in workloads:
            print(f"== {workload.key}", file=sys.stderr)
            measurement = Measurement(workload, pythons, settings)
            for side in SIDES:
                measurement.result.sides[side].unavailable = _unavailable(
                    workload, side, probes, setup_errors
                )
            # Registered before running, so an interruption keeps the rounds already done.
            results[workload.key] = measurement.result
            measurement.run()
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: the table shows what was measured so far", file=sys.stderr)

    labels = {"idle": f"{settings.idle_connections:,}", "connections": settings.connections}
    table = evaluate(rows, results, labels)
    print()
    print(render(table))
    print(f"\n({(time.monotonic() - started) / 60:.1f} min; JSON in {args.json})")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": machine,
        "workspace": source,
        "settings": {
            name: str(value) if isinstance(value, Path) else value for name, value in vars(settings).items()
        },
        "interpreters": probes,
        "setup_errors": setup_errors,
        "rows": table,
        "workloads": {
            key: {side: result.sides[side].as_json() for side in SIDES} for key, result in results.items()
        },
    }
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 130 if interrupted else 0
