"""Rows, ratios and verdicts from measured samples: per CPU-second is what the targets judge."""

from __future__ import annotations

from benchmarks.results import ABSENT, SideResult, WorkloadResult
from benchmarks.rows import ROWS
from benchmarks.table import evaluate, render, verdicts


def _side(*samples: tuple[float, float]) -> SideResult:
    """A side measured with (value, per_cpu) samples."""
    return SideResult(samples=[{"value": value, "per_cpu": per_cpu} for value, per_cpu in samples])


def _result(key: str, **sides: SideResult) -> WorkloadResult:
    return WorkloadResult(key, dict(sides))


LABELS = {"idle": "10,000", "connections": 64}


def test_verdict_is_judged_per_cpu_second_not_per_second() -> None:
    # Ours is slower per second (it got less of its core) but does more per CPU-second.
    results = {
        "hello-nolog": _result(
            "hello-nolog",
            ours=_side((30_000, 70_000)),
            upstream=_side((40_000, 40_000)),
            granian=_side((45_000, 50_000)),
            raw=_side((90_000, 120_000)),
        )
    }
    row, ceiling = evaluate(["hello-nolog", "ceiling"], results, LABELS)
    assert row["ratios"]["granian"] == 30_000 / 45_000
    assert row["ratios"]["granian per_cpu"] == 70_000 / 50_000
    assert row["ok"] is True  # 1.40x >= 1.30x granian per CPU-s
    assert row["sides"]["ours"] == {"value": 30_000, "per_cpu": 70_000, "missing": ""}
    # The ceiling row: each side's share of the raw server's rates.
    assert ceiling["sides"]["ours"]["per_cpu"] == 70_000 / 120_000
    assert ceiling["ok"] is True  # 58.3% >= 55%
    assert "raw" not in ceiling["sides"]


def test_medians_over_rounds_and_a_failing_target() -> None:
    results = {
        "post-1k": _result(
            "post-1k",
            ours=_side((10, 100), (12, 120), (50, 110)),
            upstream=_side((9, 90), (9, 100), (9, 95)),
        )
    }
    [row] = evaluate(["post-1k"], results, LABELS)
    assert row["sides"]["ours"]["value"] == 12
    assert row["sides"]["ours"]["per_cpu"] == 110
    assert round(row["judged"], 3) == round(110 / 95, 3)
    assert row["ok"] is False  # 1.16x < 1.30x
    assert "FAIL  POST 1 KiB echo: 1.16x" in verdicts([row])


def test_access_log_cost_from_two_workloads() -> None:
    results = {
        "hello-log": _result("hello-log", ours=_side((95, 95)), upstream=_side((50, 50))),
        "hello-nolog": _result("hello-nolog", ours=_side((100, 100)), upstream=_side((100, 100))),
    }
    [row] = evaluate(["log-cost"], results, LABELS)
    assert round(row["sides"]["ours"]["per_cpu"], 3) == 0.05
    assert round(row["sides"]["upstream"]["value"], 3) == 0.5
    assert row["ok"] is True
    assert row["ratios"] == {}


def test_a_side_without_the_feature_is_not_measured_and_the_target_waits() -> None:
    results = {
        "h2-hello": _result(
            "h2-hello",
            ours=SideResult(unavailable="n/a (no HTTP/2)"),
            upstream=_side((9_000, 20_000)),
            granian=_side((18_000, 40_000)),
            hypercorn=_side((1_000, 2_000)),
            raw=SideResult(unavailable=ABSENT),
        )
    }
    rows = evaluate(["h2-hello"], results, LABELS)
    assert rows[0]["ok"] is None
    table = render(rows)
    assert "n/a (no HTTP/2)" in table
    assert "hypercorn" in table
    assert "raw ceiling" not in table  # takes part in no row shown
    assert "N/A   HTTP/2 hello" in verdicts(rows)
    assert verdicts(rows).startswith("Targets: 0 of 0 met, 1 not measured")


def test_lower_is_better_rows_compare_values() -> None:
    idle: dict[str, float | str] = {"kib_per_connection": 5.0, "rss_mib": 80.0, "value": 5.0}
    results = {
        "idle": _result(
            "idle",
            ours=SideResult(samples=[idle]),
            upstream=SideResult(samples=[{**idle, "kib_per_connection": 8.0, "rss_mib": 100.0}]),
        )
    }
    memory, rss = evaluate(["idle-memory", "idle-rss"], results, LABELS)
    assert memory["ratios"] == {"upstream": 5.0 / 8.0}
    assert memory["ok"] is True
    assert rss["workload"] == "RSS with 10,000 idle connections"
    assert rss["sides"]["ours"]["per_cpu"] is None


def test_every_rate_row_has_a_target_except_the_pathsend_rows() -> None:
    for key, row in ROWS.items():
        if key.startswith("file-"):
            assert row.target is None and row.issue == 17
        else:
            assert row.target is not None, key
