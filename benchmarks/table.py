"""The printed results: one Markdown table, its notes, and the targets as pass/fail lines.

Every selected row is printed even when it cannot be computed; the cell then
says why (an error, "n/a (no HTTP/2)", "skipped: ...", or "—" for a side that
does not take part in that row). Each side has two columns: the median per
second (wall clock), and the median per server CPU-second (the headline: it
holds still on a shared machine). Ratios are ours / upstream 0.55 and ours /
granian, for both.
"""

from __future__ import annotations

from typing import Any

from benchmarks.results import ABSENT, WorkloadResult
from benchmarks.rows import RATIO_PEERS, ROWS, Cell, Results, Row, RowValues
from benchmarks.sides import SIDE_ORDER, TITLES

# Above this share of its core, the load generator (not the server) may be the limit.
LOAD_BOUND_SHARE = 0.9
# Below this share of its core, the server was held back: by the load
# generator, or by other processes on a shared machine.
SERVER_STARVED_SHARE = 0.85
_CELL_WIDTH = 30


def _format_number(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value * 100:+.1f}%"
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit in ("req/s", "msg/s"):
        return f"{value:,.0f}"
    if unit == "ms":
        return f"{value:.2f}"
    return f"{value:,.1f}"


def _text(value: float | None, missing: str, unit: str) -> str:
    if value is not None:
        return _format_number(value, unit)
    return missing if len(missing) <= _CELL_WIDTH else missing[: _CELL_WIDTH - 1] + "…"


def _shares(result: WorkloadResult, metric: str) -> tuple[str, list[float]]:
    """'ours 80% / upstream 65%' for a CPU-share metric, and the shares found."""
    parts, shares = [], []
    for side_name, side in result.sides.items():
        share = side.median(metric)
        if share is not None:
            parts.append(f"{side_name} {share:.0%}")
            shares.append(share)
    return " / ".join(parts), shares


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
            notes.append(
                f"{key}: server used {text} of its core; other processes took {others} of the server's"
                f" core and {load_others} of the load core (compare the per CPU-s columns)"
            )
    return notes


def _row_json(row: Row, values: RowValues, labels: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": row.key,
        "workload": row.title.format(**labels),
        "unit": row.unit,
        "issue": row.issue,
        "sides": {
            key: {"value": cell.value, "per_cpu": cell.per_cpu, "missing": cell.missing}
            for key, cell in values.cells.items()
        },
        "ratios": {
            f"{peer}{' per_cpu' if per_cpu else ''}": ratio
            for (peer, per_cpu), ratio in values.ratios.items()
        },
        "target": row.target.describe(row.unit) if row.target else "",
        "judged": values.judged,
        "ok": values.ok,
    }


def evaluate(selected: list[str], results: Results, labels: dict[str, Any]) -> list[dict[str, Any]]:
    """Compute the selected rows; each as a dict ready for printing and for JSON."""
    evaluated = []
    for key in selected:
        row = ROWS[key]
        values = row.evaluate(results)
        document = _row_json(row, values, labels)
        document["notes"] = _notes(row, results)
        evaluated.append(document)
    return evaluated


def _sides_shown(rows: list[dict[str, Any]]) -> list[str]:
    """The sides that take part in at least one of the rows, in table order."""
    present = {
        key
        for row in rows
        for key, cell in row["sides"].items()
        if cell["value"] is not None or cell["missing"] != ABSENT
    }
    return [key for key in SIDE_ORDER if key in present]


def render(rows: list[dict[str, Any]]) -> str:
    """The table as Markdown, so it can be pasted into docs/benchmarks.md as is."""
    sides = _sides_shown(rows)
    peers = [peer for peer in RATIO_PEERS if peer in sides]
    header = ["workload", "unit"]
    for side in sides:
        header += [TITLES[side], "per CPU-s"]
    for peer in peers:
        header += [f"ours/{peer}", "per CPU-s"]
    header += ["target", "ok?"]
    lines = [header]
    for row in rows:
        unit = row["unit"]
        line = [row["workload"], unit]
        for side in sides:
            cell = Cell(**row["sides"][side]) if side in row["sides"] else Cell(None, None, ABSENT)
            line.append(_text(cell.value, cell.missing, unit))
            line.append(_text(cell.per_cpu, "", unit) if cell.value is not None else "")
        for peer in peers:
            for suffix in ("", " per_cpu"):
                ratio = row["ratios"].get(peer + suffix)
                line.append(f"{ratio:.2f}x" if ratio is not None else "—")
        line.append(row["target"] or "—")
        line.append({True: "yes", False: "NO", None: "—"}[row["ok"]])
        lines.append(line)
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    numeric = set(range(2, len(header) - 2))

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


def verdicts(rows: list[dict[str, Any]]) -> str:
    """The targets as PASS / FAIL / N/A lines, and how many were met."""
    lines, met, judged = [], 0, 0
    for row in rows:
        if not row["target"]:
            continue
        judged_value, ok = row["judged"], row["ok"]
        if ok is None:
            ours = row["sides"].get("ours", {})
            why = ours.get("missing") or "no figure for the peer"
            lines.append(f"  N/A   {row['workload']}: {why} (target {row['target']}, issue {row['issue']})")
            continue
        judged += 1
        met += bool(ok)
        shown = f"{judged_value * 100:.1f}%" if row["unit"] in ("%", "share") else f"{judged_value:.2f}x"
        verdict = "PASS" if ok else "FAIL"
        lines.append(
            f"  {verdict}  {row['workload']}: {shown} (target {row['target']}, issue {row['issue']})"
        )
    head = f"Targets: {met} of {judged} met" + (
        f", {len(lines) - judged} not measured" if len(lines) > judged else ""
    )
    return "\n".join([head, *lines])
