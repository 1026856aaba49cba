"""The rows of the table: what each shows for every side, its ratios, its target and verdict.

Every row is computed from workload results (``benchmarks.results``); several
rows can share one workload's samples (p99 comes from the default-settings
hello run). Each side's cell holds the median value and, for rates, the
median of work per server CPU-second. Ratios are ours / peer. Targets
(issue 18) are judged on the per-CPU ratio where the row has one: on a shared
machine a server does not always get its whole core, and the work it does
per CPU-second moves far less than the work it does per second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.results import SideResult, WorkloadResult

Results = dict[str, WorkloadResult]
# The peers every row shows a ratio to (when they took part).
RATIO_PEERS = ("upstream", "granian")


@dataclass(frozen=True)
class Target:
    """What ours must reach: a ratio to a peer, or (peer None) a value of its own."""

    threshold: float
    higher_is_better: bool = True
    peer: str | None = "upstream"
    per_cpu: bool = True

    def describe(self, unit: str) -> str:
        sign = "≥" if self.higher_is_better else "≤"
        if self.peer is None:
            return (
                f"ours {sign} {self.threshold:.0%}"
                if unit in ("%", "share")
                else f"ours {sign} {self.threshold}"
            )
        per = " per CPU-s" if self.per_cpu else ""
        return f"{sign} {self.threshold:.2f}x {self.peer}{per}"


@dataclass(frozen=True)
class Cell:
    """One side's figures in a row, or why it has none."""

    value: float | None
    per_cpu: float | None = None
    missing: str = ""


@dataclass(frozen=True)
class RowValues:
    """A computed row: each side's cell, ratios ours/peer, and the verdict."""

    cells: dict[str, Cell]
    # (peer, per_cpu) -> ours / peer
    ratios: dict[tuple[str, bool], float] = field(default_factory=dict)
    ok: bool | None = None
    # What the verdict was judged on, for the pass/fail line.
    judged: float | None = None


@dataclass(frozen=True)
class Row:
    """A line of the table: the workloads it needs and how it turns them into values."""

    key: str
    title: str
    unit: str
    workloads: tuple[str, ...]
    compute: Callable[[Results], dict[str, Cell]]
    target: Target | None = None
    # The issue whose target this is (printed with the verdict).
    issue: int = 18

    @property
    def higher_is_better(self) -> bool:
        return self.target.higher_is_better if self.target else self.unit.endswith("/s")

    def evaluate(self, results: Results) -> RowValues:
        cells = self.compute(results)
        ours = cells.get("ours", Cell(None))
        ratios: dict[tuple[str, bool], float] = {}
        if self.unit not in ("%", "share"):
            for peer in RATIO_PEERS:
                other = cells.get(peer, Cell(None))
                if ours.value is not None and other.value:
                    ratios[(peer, False)] = ours.value / other.value
                if ours.per_cpu is not None and other.per_cpu:
                    ratios[(peer, True)] = ours.per_cpu / other.per_cpu
        judged = self._judged(ours, ratios)
        ok = None
        if judged is not None and self.target is not None:
            # Judged as printed, so a row showing 1.00x against "≤ 1.00x" passes.
            shown = round(judged, 3 if self.target.peer is None else 2)
            limit = self.target.threshold
            ok = shown >= limit if self.target.higher_is_better else shown <= limit
        return RowValues(cells, ratios, ok, judged)

    def _judged(self, ours: Cell, ratios: dict[tuple[str, bool], float]) -> float | None:
        target = self.target
        if target is None:
            return None
        if target.peer is None:
            return ours.per_cpu if target.per_cpu else ours.value
        return ratios.get((target.peer, target.per_cpu))


# ---------------------------------------------------------------- how cells are computed


def _side_cell(side: SideResult, metric: str, per_cpu: bool) -> Cell:
    value = side.median(metric)
    if value is None:
        return Cell(None, None, side.missing_reason())
    return Cell(value, side.median("per_cpu") if per_cpu else None)


def _plain(
    workload: str, metric: str = "value", per_cpu: bool = True
) -> Callable[[Results], dict[str, Cell]]:
    """Each side's median ``metric`` (and work per CPU-second) in ``workload``."""

    def compute(results: Results) -> dict[str, Cell]:
        result = results.get(workload, WorkloadResult(workload))
        return {key: _side_cell(side, metric, per_cpu) for key, side in result.sides.items()}

    return compute


def _relative(
    numerator: str, denominator: str, combine: Callable[[float, float], float], base_side: str | None = None
) -> Callable[[Results], dict[str, Cell]]:
    """Cells combining two medians: ``combine(a, b)`` of a side's (or ``base_side``'s) two workloads."""

    def compute(results: Results) -> dict[str, Cell]:
        top = results.get(numerator, WorkloadResult(numerator))
        bottom = results.get(denominator, WorkloadResult(denominator))
        cells = {}
        for key in top.sides:
            a, b = top.side(key), bottom.side(base_side or key)
            if a.median() is None or not b.median():
                cells[key] = Cell(
                    None, None, a.missing_reason() if a.median() is None else b.missing_reason()
                )
                continue
            per_a, per_b = a.median("per_cpu"), b.median("per_cpu")
            per_cpu = combine(per_a, per_b) if per_a is not None and per_b else None
            cells[key] = Cell(combine(a.median() or 0.0, b.median() or 1.0), per_cpu)
        return cells

    return compute


def _log_cost(on: float, off: float) -> float:
    return 1.0 - on / off


def _share(value: float, ceiling: float) -> float:
    return value / ceiling


def _ceiling_share(results: Results) -> dict[str, Cell]:
    cells = _relative("hello-nolog", "hello-nolog", _share, base_side="raw")(results)
    return {key: cell for key, cell in cells.items() if key != "raw"}


def _rows() -> list[Row]:
    per_cpu_upstream = Target(1.3)
    rows = [
        Row(
            "hello",
            "hello, default settings (access log on), httptools + uvloop",
            "req/s",
            ("hello-log",),
            _plain("hello-log"),
            Target(3.0),
        ),
        Row(
            "hello-nolog",
            "hello, access log off",
            "req/s",
            ("hello-nolog",),
            _plain("hello-nolog"),
            Target(1.3, peer="granian"),
        ),
        Row(
            "ceiling",
            "hello, access log off: share of the raw ceiling",
            "share",
            ("hello-nolog",),
            _ceiling_share,
            Target(0.55, peer=None),
        ),
        Row(
            "log-cost",
            "access log on vs off: throughput lost",
            "%",
            ("hello-log", "hello-nolog"),
            _relative("hello-log", "hello-nolog", _log_cost),
            Target(0.10, higher_is_better=False, peer=None),
        ),
        Row(
            "admin-cost",
            "hello with --admin-port (metrics on) vs without: throughput lost",
            "%",
            ("hello-admin", "hello-log"),
            _relative("hello-admin", "hello-log", _log_cost),
            Target(0.10, higher_is_better=False, peer=None),
            issue=15,
        ),
        Row(
            "h11",
            "hello, h11 + asyncio (access log off)",
            "req/s",
            ("hello-h11",),
            _plain("hello-h11"),
            Target(1.5),
            issue=7,
        ),
        Row("post-1k", "POST 1 KiB echo", "req/s", ("post-1k",), _plain("post-1k"), per_cpu_upstream),
        Row("upload-10m", "10 MiB upload", "MiB/s", ("upload-10m",), _plain("upload-10m"), per_cpu_upstream),
        Row(
            "download-10m",
            "10 MiB download",
            "MiB/s",
            ("download-10m",),
            _plain("download-10m"),
            per_cpu_upstream,
        ),
    ]
    for implementation, short in (
        ("websockets-sansio", "sansio"),
        ("websockets", "websockets"),
        ("wsproto", "wsproto"),
    ):
        for size, label in (("64 B", "64"), ("64 KiB", "64k")):
            key = f"ws-{short}-{label}"
            title = f"WebSocket echo {size}, ws={implementation}"
            rows.append(Row(key, title, "msg/s", (key,), _plain(key), per_cpu_upstream))
    rows.append(
        Row(
            "h2-hello",
            "HTTP/2 hello, 16 connections x 10 streams, h2c prior knowledge",
            "req/s",
            ("h2-hello",),
            _plain("h2-hello"),
            Target(1.2),
        )
    )
    for size, label, unit in (("50 KiB", "50k", "req/s"), ("10 MiB", "10m", "MiB/s")):
        for variant, title in (("pathsend", "http.response.pathsend"), ("read", "the app reads it")):
            key = f"file-{label}-{variant}"
            rows.append(Row(key, f"file {size}, {title}", unit, (key,), _plain(key), issue=17))
    rows += [
        Row(
            "idle-memory",
            "memory per idle keep-alive connection",
            "KiB",
            ("idle",),
            _plain("idle", "kib_per_connection", per_cpu=False),
            Target(1.0, higher_is_better=False, per_cpu=False),
        ),
        Row(
            "idle-rss",
            "RSS with {idle} idle connections",
            "MiB",
            ("idle",),
            _plain("idle", "rss_mib", per_cpu=False),
            Target(1.0, higher_is_better=False, per_cpu=False),
        ),
        Row(
            "p99",
            "p99 latency at {connections} connections (hello, default settings)",
            "ms",
            ("hello-log",),
            _plain("hello-log", "p99_ms", per_cpu=False),
            Target(1.0, higher_is_better=False, per_cpu=False),
        ),
    ]
    return rows


ROWS: dict[str, Row] = {row.key: row for row in _rows()}
GROUPS = {
    "http": [
        "hello",
        "hello-nolog",
        "ceiling",
        "log-cost",
        "admin-cost",
        "h11",
        "post-1k",
        "upload-10m",
        "download-10m",
        "p99",
    ],
    "ws": [key for key in ROWS if key.startswith("ws-")],
    "h2": ["h2-hello"],
    "files": [key for key in ROWS if key.startswith("file-")],
    "memory": ["idle-memory", "idle-rss"],
}
