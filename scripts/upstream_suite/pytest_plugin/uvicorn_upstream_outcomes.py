"""A pytest plugin, loaded into the upstream test run, that writes each test's outcome to a JSON file.

    python -m pytest -p outcome_plugin --outcomes-file results.json ...

One entry per test id: ``passed``, ``failed``, ``error`` (its setup or teardown
failed), ``skipped``, ``xfailed`` or ``xpassed``, with the first line of the
failure (or the skip reason). Under pytest-xdist the reports reach the
controller process, which writes the file. This module runs inside the test
environment: it uses nothing but pytest and the standard library.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

_RANK = {"passed": 0, "skipped": 1, "xfailed": 1, "xpassed": 2, "failed": 3, "error": 4}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--outcomes-file", default=None, help="write each test's outcome to this JSON file")


class OutcomeRecorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.outcomes: dict[str, dict[str, str]] = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = _outcome_of(report)
        if outcome is None:
            return
        previous = self.outcomes.get(report.nodeid)
        # A test that passed its call but failed its teardown is an error: keep the worst phase.
        if previous is None or _RANK[outcome] > _RANK[previous["outcome"]]:
            self.outcomes[report.nodeid] = {"outcome": outcome, "detail": _detail(report)}

    @pytest.hookimpl
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.outcomes[report.nodeid] = {"outcome": "error", "detail": _detail(report)}

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.path.write_text(json.dumps(self.outcomes, indent=1, sort_keys=True))


def _outcome_of(report: pytest.TestReport) -> str | None:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.when == "call":
        return str(report.outcome)
    if report.failed:
        return "error"
    if report.skipped:
        return "skipped"
    if report.when == "setup":
        return "passed"  # until the call's report says otherwise
    return None


def _detail(report: Any) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).splitlines()[0] if crash.message else ""
    text = str(report.longrepr or "")
    lines = [line for line in text.splitlines() if line.startswith("E ")]
    return (lines[0] if lines else text.splitlines()[-1] if text else "")[:300]


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--outcomes-file")
    # Only the controller writes: under xdist, workers have ``workerinput``.
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(OutcomeRecorder(Path(path)), "outcome-recorder")
