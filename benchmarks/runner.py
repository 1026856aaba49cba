"""The benchmark command: set up, measure in interleaved rounds, print the table, save JSON.

    uv run python -m benchmarks            # full run, about 18 minutes
    uv run python -m benchmarks --quick    # smoke run, about 4 minutes
    uv run python -m benchmarks --rows http --rounds 5

For each workload every side that takes part (ours, upstream 0.55, granian,
and hypercorn or the raw ceiling where they apply) is started with the same
app and matching options, pinned to the server core, and measured in turn,
round after round; the table shows medians. Failures are recorded in their
cell and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

from benchmarks.apps import write_files
from benchmarks.environment import (
    WORK_DIR,
    SetupError,
    describe_machine,
    describe_source,
    ensure_tool,
    workspace_python,
)
from benchmarks.measurement import Measurement
from benchmarks.results import WorkloadResult
from benchmarks.rows import GROUPS, ROWS
from benchmarks.sides import DEFAULT_SIDES, KINDS, SIDE_ORDER, Side
from benchmarks.table import evaluate, render, verdicts
from benchmarks.venvs import VENVS, ensure_venv, probe_tool, probe_uvicorn
from benchmarks.workloads import WORKLOADS, Settings, Workload

FULL = {"rounds": 3, "duration": 8, "warmup": 2, "idle_connections": 10_000}
QUICK = {"rounds": 1, "duration": 2, "warmup": 1, "idle_connections": 2_000}
# Rough cost of starting, checking and stopping one server, for the duration estimate only.
STARTUP_SECONDS = 1.5


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure our uvicorn against upstream uvicorn 0.55, granian and others "
        "(see docs/benchmarks.md).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 1 round of 2 s, 2000 idle connections"
    )
    parser.add_argument(
        "--rows", default="all", help="comma-separated row keys or groups (http, ws, h2, files, memory)"
    )
    parser.add_argument("--list-rows", action="store_true", help="print the row keys and exit")
    parser.add_argument(
        "--sides",
        default=",".join(DEFAULT_SIDES),
        help=f"comma-separated servers to compare, of {', '.join(SIDE_ORDER)} (default: all but 0.54)",
    )
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
        "--upstream-python", type=Path, help="use this interpreter instead of the managed upstream 0.55 venv"
    )
    parser.add_argument(
        "--ignore-gates",
        action="store_true",
        help="measure the rows waiting for a feature of ours (pathsend) on the other servers anyway",
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
    args.sides = [part.strip() for part in args.sides.split(",") if part.strip()]
    unknown = [side for side in args.sides if side not in SIDE_ORDER]
    if unknown:
        parser.error(f"--sides: unknown {', '.join(unknown)}; choose from {', '.join(SIDE_ORDER)}")
    args.sides = [side for side in SIDE_ORDER if side in args.sides]
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


def _prepare_sides(
    keys: list[str], args: argparse.Namespace, client_python: Path
) -> tuple[list[Side], dict[str, str]]:
    """Each selected side with its interpreter and probe; setup errors by side."""
    workspace_versions = probe_uvicorn(client_python).get("libraries", {})
    sides, errors = [], {}
    for key in keys:
        try:
            if key == "ours":
                python = args.ours_python or client_python
            elif key == "raw":
                python = client_python  # the workspace has httptools and uvloop
            elif key == "upstream" and args.upstream_python:
                python = args.upstream_python
            else:
                python = ensure_venv(VENVS[key], workspace_versions)
        except (SetupError, OSError) as exc:
            errors[key] = str(exc)
            sides.append(Side(key, Path(sys.executable), {"error": str(exc)}))
            continue
        if KINDS[key] == "uvicorn":
            probe = probe_uvicorn(python)
        else:
            probe = probe_tool(python, (KINDS[key], "uvloop", "httptools", "h11", "h2"))
        sides.append(Side(key, python, probe))
    return sides, errors


def _raise_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < needed:
        print(f"warning: open-file limit {hard} is below the {needed} the memory rows need", file=sys.stderr)


def _estimate_minutes(workloads: list[Workload], sides: list[Side], settings: Settings) -> float:
    seconds = 0.0
    keys = {side.key for side in sides}
    for workload in workloads:
        if workload.gate is not None and not settings.ignore_gates:
            continue  # most likely skipped (a feature ours lacks yet)
        count = len(keys.intersection(workload.peers))
        if workload.fresh_server_each_round:
            seconds += settings.rounds * count * (STARTUP_SECONDS + settings.idle_connections / 3000)
        else:
            seconds += count * (STARTUP_SECONDS + settings.warmup + settings.rounds * settings.duration)
    return seconds / 60


def _blocked(workload: Workload, setup_errors: dict[str, str]) -> dict[str, str]:
    """Sides that cannot take part in ``workload``: their venv, or a load tool, is missing."""
    blocked = {side: f"error: {error}" for side, error in setup_errors.items() if side in workload.peers}
    for tool in workload.tools:
        if tool in setup_errors:
            blocked.update(dict.fromkeys(workload.peers, f"error: {setup_errors[tool]}"))
    return blocked


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list_rows:
        for key, row in ROWS.items():
            print(f"{key:20} {row.title}")
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
        ignore_gates=args.ignore_gates,
    )
    # The runner drains the servers' pipes: keep it off the server's core.
    os.sched_setaffinity(0, {args.load_cpu})
    _raise_file_limit(args.idle_connections + 1000)

    setup_errors: dict[str, str] = {}
    for tool in sorted({tool for workload in workloads for tool in workload.tools}):
        try:
            ensure_tool(tool)
        except SetupError as exc:
            setup_errors[tool] = str(exc)
    if any(workload.key.startswith("file-") for workload in workloads):
        write_files()
    sides, side_errors = _prepare_sides(args.sides, args, client_python)
    setup_errors.update(side_errors)

    machine = describe_machine()
    print(
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, {machine['os']}, "
        f"kernel {machine['kernel']}, load average {machine['load_average_at_start']}"
    )
    print(f"tools: {machine['wrk']}; {machine['h2load']}")
    for side in sides:
        print(f"{side.key}: {side.describe()}")
    print(f"workspace: {describe_source()}")
    minutes = _estimate_minutes(workloads, sides, settings)
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
            measurement = Measurement(workload, sides, settings, _blocked(workload, setup_errors))
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
    print()
    print(verdicts(table))
    elapsed = (time.monotonic() - started) / 60
    print(f"\n({elapsed:.1f} min; JSON in {args.json})")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": machine,
        "workspace": describe_source(),
        "minutes": round(elapsed, 1),
        "settings": {
            name: str(value) if isinstance(value, Path) else value for name, value in vars(settings).items()
        },
        "sides": {side.key: {"python": str(side.python), "probe": side.probe} for side in sides},
        "setup_errors": setup_errors,
        "rows": table,
        "workloads": {
            key: {side: record.as_json() for side, record in result.sides.items()}
            for key, result in results.items()
        },
    }
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 130 if interrupted else 0
