"""The rows of issue 7: each computed from workload results, with its target and verdict.

Every row is printed even when it cannot be computed; the cell then says why
(an error, or "n/a (ours unavailable)"). Ratios are always ours / upstream,
so for rows where lower is better (memory, latency) the target is ``≤ 1.00x``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.results import SideResult, WorkloadResult

Results = dict[str, WorkloadResult]
# Above this share of its core, the load generator (not the server) may be the limit.
LOAD_BOUND_SHARE = 0.9
# Below this share of its core, the server was held back: by the load
# generator, or by other processes on a shared machine.
SERVER_STARVED_SHARE = 0.85


@dataclass(frozen=True)
class RowValues:
    """One computed row: values or the reason they are missing, and the verdict."""

    ours: float | None
    upstream: float | None
    ratio: float | None
    ok: bool | None
    ours_missing: str = ""
    upstream_missing: str = ""


@dataclass(frozen=True)
class Row:
    """A line of the table: which workloads it needs and how it turns them into values."""

    key: str
    title: str
    unit: str
    target: str
    workloads: tuple[str, ...]
    compute: Callable[[Results], RowValues]


def _ratio_row(
    workload: str, metric: str, target: float, higher_is_better: bool
) -> Callable[[Results], RowValues]:
    def compute(results: Results) -> RowValues:
        result = results.get(workload, WorkloadResult(workload))
        ours, upstream = result.ours.median(metric), result.upstream.median(metric)
        ratio = ours / upstream if ours is not None and upstream else None
        # Judged on the ratio as printed, so a row showing 1.00x against "≤ 1.00x" passes.
        shown = None if ratio is None else round(ratio, 2)
        ok = None if shown is None else (shown >= target if higher_is_better else shown <= target)
        return RowValues(
            ours,
            upstream,
            ratio,
            ok,
            "" if ours is not None else result.ours.missing_reason(),
            "" if upstream is not None else result.upstream.missing_reason(),
        )

    return compute


def _log_cost(side: SideResult, off: SideResult) -> tuple[float | None, str]:
    on_rate, off_rate = side.median(), off.median()
    if on_rate is None:
        return None, side.missing_reason()
    if not off_rate:
        return None, off.missing_reason()
    return 1.0 - on_rate / off_rate, ""


def _log_cost_row(results: Results) -> RowValues:
    on = results.get("hello-log", WorkloadResult("hello-log"))
    off = results.get("hello-nolog", WorkloadResult("hello-nolog"))
    ours, ours_missing = _log_cost(on.ours, off.ours)
    upstream, upstream_missing = _log_cost(on.upstream, off.upstream)
    ok = None if ours is None else ours <= 0.10
    return RowValues(ours, upstream, None, ok, ours_missing, upstream_missing)


def _ratio(key: str, title: str, unit: str, workload: str, metric: str, target: float) -> Row:
    """A row comparing ``metric`` of ``workload``: rates must reach ``target``, the rest stay below it."""
    higher_is_better = unit.endswith("/s")
    sign = "≥" if higher_is_better else "≤"
    compute = _ratio_row(workload, metric, target, higher_is_better)
    return Row(key, title, unit, f"{sign} {target:.2f}x", (workload,), compute)


def _rows() -> list[Row]:
    rows = [
        _ratio(
            "hello",
            "hello, default settings (access log on), httptools + uvloop",
            "req/s",
            "hello-log",
            "value",
            2.5,
        ),
        _ratio("hello-nolog", "hello, access log off", "req/s", "hello-nolog", "value", 1.15),
        Row(
            "log-cost",
            "access log on vs off: throughput lost",
            "%",
            "ours ≤ 10%",
            ("hello-log", "hello-nolog"),
            _log_cost_row,
        ),
        _ratio("h11", "hello, h11 + asyncio (access log off)", "req/s", "hello-h11", "value", 1.5),
        _ratio("post-1k", "POST 1 KiB echo", "req/s", "post-1k", "value", 1.2),
        _ratio("upload-10m", "10 MiB upload", "MiB/s", "upload-10m", "value", 1.2),
        _ratio("download-10m", "10 MiB download", "MiB/s", "download-10m", "value", 1.2),
    ]
    for implementation, short in (
        ("websockets-sansio", "sansio"),
        ("websockets", "websockets"),
        ("wsproto", "wsproto"),
    ):
        for size, label in (("64 B", "64"), ("64 KiB", "64k")):
            key = f"ws-{short}-{label}"
            rows.append(
                _ratio(key, f"WebSocket echo {size}, ws={implementation}", "msg/s", key, "value", 1.2)
            )
    return [
        *rows,
        _ratio(
            "idle-memory", "memory per idle keep-alive connection", "KiB", "idle", "kib_per_connection", 1.0
        ),
        _ratio("idle-rss", "RSS with {idle} idle connections", "MiB", "idle", "rss_mib", 1.0),
        _ratio(
            "p99",
            "p99 latency at {connections} connections (hello, default settings)",
            "ms",
            "hello-log",
            "p99_ms",
            1.0,
        ),
    ]


ROWS: dict[str, Row] = {row.key: row for row in _rows()}
GROUPS = {
    "http": ["hello", "hello-nolog", "log-cost", "h11", "post-1k", "upload-10m", "download-10m", "p99"],
    "ws": [key for key in ROWS if key.startswith("ws-")],
    "memory": ["idle-memory", "idle-rss"],
}


def _format_number(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value * 100:+.1f}%"
    if unit in ("req/s", "msg/s"):
        return f"{value:,.0f}"
    if unit == "ms":
        return f"{value:.2f}"
    return f"{value:,.1f}"


def _cell(value: float | None, missing: str, unit: str, width: int = 44) -> str:
    if value is not None:
        return _format_number(value, unit)
    return missing if len(missing) <= width else missing[: width - 1] + "…"


def _shares(result: WorkloadResult, metric: str) -> tuple[str, list[float]]:
    """'ours 80% / upstream 65%' for a CPU-share metric, and the shares found."""
    parts, shares = [], []
    for side_name, side in result.sides.items():
        share = side.median(metric)
        if share is not None:
            parts.append(f"{side_name} {share:.0%}")
            shares.append(share)
    return " / ".join(parts), shares


def _per_cpu_ratio(result: WorkloadResult) -> float | None:
    """Ours / upstream in work per server CPU-second: fairer than per second on a busy machine."""
    medians = []
    for side in (result.ours, result.upstream):
        rates = [
            float(sample["value"]) / float(sample["server_cpu"])
            for sample in side.samples
            if float(sample.get("server_cpu", 0)) > 0
        ]
        medians.append(statistics.median(rates) if rates else None)
    ours, upstream = medians
    return ours / upstream if ours is not None and upstream else None


def _notes(row: Row, results: Results) -> list[str]:
    notes = []
    for key in row.workloads:
        result = results.get(key)
        if result is None:
            continue
        for side_name, side in result.sides.items():
            notes += [f"{key}, {side_name}: {problem}" for problem in side.problems()]
            # Without samples the cell shows the last error, maybe cut short: keep them all here.
            notes += [f"{key}, {side_name}: {error}" for error in dict.fromkeys(side.errors)]
        text, shares = _shares(result, "load_cpu")
        if any(share > LOAD_BOUND_SHARE for share in shares):
            notes.append(f"{key}: load generator used {text} of its core, it may be the limit")
        text, shares = _shares(result, "server_cpu")
        if any(share < SERVER_STARVED_SHARE for share in shares):
            others, _ = _shares(result, "other_cpu")
            load_others, _ = _shares(result, "load_core_others")
            ratio = _per_cpu_ratio(result)
            notes.append(
                f"{key}: server used {text} of its core; other processes took {others} of the server's core"
                f" and {load_others} of the load core"
                + (f"; per server CPU-second ours/upstream = {ratio:.2f}x" if ratio is not None else "")
            )
    return notes


def evaluate(selected: list[str], results: Results, labels: dict[str, Any]) -> list[dict[str, Any]]:
    """Compute the selected rows; each as a dict ready for printing and for JSON."""
    evaluated = []
    for key in selected:
        row = ROWS[key]
        values = row.compute(results)
        evaluated.append(
            {
                "key": key,
                "workload": row.title.format(**labels),
                "unit": row.unit,
                "ours": values.ours,
                "upstream": values.upstream,
                "ratio": values.ratio,
                "target": row.target,
                "ok": values.ok,
                "ours_cell": _cell(values.ours, values.ours_missing, row.unit),
                "upstream_cell": _cell(values.upstream, values.upstream_missing, row.unit),
                "notes": _notes(row, results),
            }
        )
    return evaluated


def render(rows: list[dict[str, Any]]) -> str:
    """The table as Markdown, so it can be pasted into docs/benchmarks.md as is."""
    header = ["workload", "unit", "ours", "upstream", "ratio", "target", "ok?"]
    lines = [header]
    for row in rows:
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else "—"
        ok = {True: "yes", False: "NO", None: "—"}[row["ok"]]
        lines.append(
            [row["workload"], row["unit"], row["ours_cell"], row["upstream_cell"], ratio, row["target"], ok]
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    numeric = {2, 3, 4}

    def fmt(line: list[str]) -> str:
        cells = [
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        return "| " + " | ".join(cells) + " |"

    rule = (
        "|"
        + "|".join(("-" * (w + 1) + ":") if i in numeric else "-" * (w + 2) for i, w in enumerate(widths))
        + "|"
    )
    output = [fmt(lines[0]), rule, *(fmt(line) for line in lines[1:])]
    # dict.fromkeys: the same note (a shared workload's) once, in order.
    footnotes = list(dict.fromkeys(f"- {note}" for row in rows for note in row["notes"]))
    if footnotes:
        output += ["", "Notes:", *footnotes]
    return "\n".join(output)
