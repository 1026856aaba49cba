"""One workload measured on every side that takes part, in interleaved rounds.

All servers of a workload are started (pinned to the server core), checked
with one real request, warmed up, then measured one after the other, round
after round (ours, upstream, granian, ..., ours, upstream, ...), so a slow
drift of the machine hits every side alike. Memory workloads use a fresh
server per side and round instead. Failures are recorded in their cell and
the run goes on.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from benchmarks.environment import SetupError
from benchmarks.http_load import LoadError
from benchmarks.results import ABSENT, SideResult, WorkloadResult
from benchmarks.server import ServerError, ServerProcess
from benchmarks.sides import Side
from benchmarks.workloads import Settings, Unsupported, Workload

_SHARE_LABELS = {
    "server_cpu": "server",
    "other_cpu": "others on server core",
    "load_cpu": "load generator",
    "load_core_others": "others on load core",
}


def describe_error(exc: BaseException) -> str:
    """One line for a cell or a note: the message, with the exception's type where it helps."""
    text = str(exc).strip().replace("\n", " ")
    known = (ServerError, SetupError, TimeoutError, LoadError)
    return text if isinstance(exc, known) and text else f"{type(exc).__name__}: {text}"


class _GatedOut(Exception):
    """Our server lacks what this workload is prepared for: skip it on every side."""


def _progress(key: str, round_number: int, rounds: int, side: str, sample: dict[str, Any]) -> None:
    shares = [f"{label} {float(sample[name]):.0%}" for name, label in _SHARE_LABELS.items() if name in sample]
    detail = f" (CPU: {', '.join(shares)})" if shares else ""
    per_cpu = f", {float(sample['per_cpu']):,.1f} per CPU-s" if "per_cpu" in sample else ""
    value = float(sample["value"])
    print(f"  [{key}] round {round_number}/{rounds} {side}: {value:,.1f}{per_cpu}{detail}", file=sys.stderr)


@dataclass
class Measurement:
    """Runs one workload on the run's sides; ``result`` holds what was measured, even if interrupted."""

    workload: Workload
    sides: list[Side]
    settings: Settings
    # Why a side cannot take part at all, decided before any server starts (a missing tool, ...).
    blocked: dict[str, str]

    def __post_init__(self) -> None:
        self.result = WorkloadResult(self.workload.key)
        for side in self.sides:
            record = self.result.sides[side.key] = SideResult()
            if side.key not in self.workload.peers:
                record.unavailable = ABSENT
            else:
                record.unavailable = self.blocked.get(side.key) or side.unavailable(self.workload.spec)

    def _taking_part(self) -> list[Side]:
        return [side for side in self.sides if not self.result.sides[side.key].unavailable]

    def _start(self, side: Side, stack: ExitStack) -> ServerProcess | None:
        record = self.result.sides[side.key]
        spec = self.workload.spec
        try:
            server = stack.enter_context(
                ServerProcess(lambda port: side.command(spec, port), spec, self.settings.server_cpu)
            )
            if self.workload.gate is not None and side.key == "ours" and not self.settings.ignore_gates:
                reason = self.workload.gate(server)
                if reason is not None:
                    raise _GatedOut(reason)
            self.workload.check(server)
        except _GatedOut:
            raise
        except Unsupported as exc:
            record.unavailable = f"n/a ({exc})"
            print(f"  [{self.workload.key}] {side.key}: {record.unavailable}", file=sys.stderr)
            return None
        except Exception as exc:
            record.errors.append(describe_error(exc))
            print(f"  [{self.workload.key}] {side.key}: {record.errors[-1]}", file=sys.stderr)
            return None
        return server

    def _sample(self, side: Side, server: ServerProcess, round_number: int, duration: int) -> bool:
        record: SideResult = self.result.sides[side.key]
        errors_before = len(server.error_lines)
        try:
            sample = self.workload.measure(server, self.settings, duration)
            logged = server.error_lines[errors_before:]
            if logged:
                problems = [str(sample["problems"])] if sample["problems"] else []
                problems.append(f"server logged {len(logged)} error line(s), first: {logged[0][:200]}")
                sample["problems"] = "; ".join(problems)
        except Exception as exc:
            record.errors.append(describe_error(exc))
            print(
                f"  [{self.workload.key}] round {round_number} {side.key}: {record.errors[-1]}",
                file=sys.stderr,
            )
            return not isinstance(exc, ServerError)
        if round_number:  # round 0 is the warm-up
            record.samples.append(sample)
            _progress(self.workload.key, round_number, self.settings.rounds, side.key, sample)
        return True

    def _skip_all(self, reason: str) -> None:
        for record in self.result.sides.values():
            if not record.unavailable:
                record.unavailable = reason
        print(f"  [{self.workload.key}] {reason}", file=sys.stderr)

    def run(self) -> None:
        """Fill ``self.result``: interrupted, it keeps the samples taken so far."""
        if self.workload.fresh_server_each_round:
            self._run_fresh()
            return
        with ExitStack() as stack:
            servers: dict[str, tuple[Side, ServerProcess]] = {}
            for side in self._taking_part():
                try:
                    server = self._start(side, stack)
                except _GatedOut as gated:
                    self._skip_all(str(gated))
                    return
                if server is not None:
                    servers[side.key] = (side, server)
            for key, (side, server) in list(servers.items()):
                if not self._sample(side, server, 0, self.settings.warmup):
                    del servers[key]
            for round_number in range(1, self.settings.rounds + 1):
                for key, (side, server) in list(servers.items()):
                    if not self._sample(side, server, round_number, self.settings.duration):
                        del servers[key]  # it died; later rounds would only repeat that

    def _run_fresh(self) -> None:
        for round_number in range(1, self.settings.rounds + 1):
            for side in self._taking_part():
                with ExitStack() as stack:
                    try:
                        server = self._start(side, stack)
                    except _GatedOut as gated:
                        self._skip_all(str(gated))
                        return
                    if server is not None:
                        self._sample(side, server, round_number, self.settings.duration)
