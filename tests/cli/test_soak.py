"""The soak command (benchmarks/soak, docs/reliability.md) in its short profile, as CI runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.processes import REPO_ROOT, child_env

# A bound on a hung run, not a measure: the short profile takes seconds.
RUN_LIMIT_SECONDS = 600


def soak(
    tmp_path: Path, *arguments: str, env: dict[str, str] | None = None
) -> tuple[int, str, dict[str, Any]]:
    report = tmp_path / "soak.json"
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", "--profile", "short", "--json", str(report), *arguments],
        cwd=REPO_ROOT,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT_SECONDS,
        check=False,
    )
    return finished.returncode, finished.stdout + finished.stderr, json.loads(report.read_text())


def test_the_short_soak_holds_every_bound(tmp_path: Path) -> None:
    code, output, report = soak(tmp_path)
    assert code == 0, output
    assert report["failures"] == []
    http, websocket = report["phases"]
    assert (http["name"], http["idle"], http["count"]) == ("http", 300, 20_000)
    assert (websocket["name"], websocket["idle"], websocket["count"]) == ("websocket", 200, 5_000)
    for phase in (http, websocket):
        # Every idle connection held (the baseline may still count the probe's lingering connection).
        resting = min(phase["fds_baseline"], phase["fds_after"])
        assert phase["fds_peak"] - resting >= phase["idle"]
        assert phase["fds_after"] <= phase["fds_baseline"] + 2
        assert len(phase["rss_samples_kib"]) >= 100
    assert report["exit_code"] in (0, -15)


def test_the_soak_finds_a_leak(tmp_path: Path) -> None:
    """An app that keeps an object per request: the soak must say so and exit 1."""
    smaller = ["--idle", "50", "--requests", "2000", "--ws-idle", "20", "--messages", "200", "--churn", "20"]
    code, output, report = soak(tmp_path, *smaller, env={"SOAK_APP_LEAKS": "1"})
    assert code == 1, output
    failures = report["failures"]
    assert any(failure.startswith("http:") and "memory blocks after" in failure for failure in failures)
