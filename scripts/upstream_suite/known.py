"""The committed list of upstream tests known to fail here, and the comparison of a run with it.

``known_failures.txt`` holds one entry per line::

    <test id> | <area> | <status> | <reason>

- ``area``: who owns the behaviour (see ``AREAS``);
- ``status``: ``deliberate`` — we differ from upstream on purpose; the reason
  quotes the words of docs/release-notes.md that say so (``release-notes: "..."``);
  ``open`` — a difference still to be fixed (the reason says what is wrong); or
  ``flaky`` — a test that passes or fails with the machine's load (never
  reported as fixed);
- ``reason``: one line.

A ``*`` in a test id matches any text (``tests/test_x.py::test_y[*zttp*]``), for
a whole family of parametrized tests that fail for one reason; nothing else is
special (the brackets of parameter ids are literal). Blank lines and lines
starting with ``#`` are comments.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["AREAS", "STATUSES", "Comparison", "KnownFailure", "compare", "read_known_failures"]

KNOWN_FAILURES = Path(__file__).resolve().parent / "known_failures.txt"

AREAS = {
    "core": "Config, Server, run(), TLS, lifespan, loops, importer",
    "cli": "the command line, supervisors (reload, workers)",
    "logging": "log configuration, formatters, log lines",
    "http": "HTTP/1.1 protocols (h11, httptools)",
    "websockets": "WebSocket protocols",
    "http2": "HTTP/2 (zttp)",
    "middleware": "proxy headers, WSGI, ASGI2, message logger",
    "worker": "gunicorn workers",
}
STATUSES = ("deliberate", "open", "flaky")
#: Outcomes that count as a failure of the test.
FAILING = frozenset({"failed", "error", "xpassed"})


@dataclass(frozen=True)
class KnownFailure:
    test_id: str
    area: str
    status: str
    reason: str
    line: int

    @property
    def is_pattern(self) -> bool:
        return "*" in self.test_id

    def matches(self, test_id: str) -> bool:
        if not self.is_pattern:
            return test_id == self.test_id
        pattern = ".*".join(re.escape(part) for part in self.test_id.split("*"))
        return re.fullmatch(pattern, test_id) is not None


def read_known_failures(path: Path = KNOWN_FAILURES) -> dict[str, KnownFailure]:
    """The entries of ``path`` by test id; ValueError naming the line for a malformed one."""
    entries: dict[str, KnownFailure] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [part.strip() for part in line.split(" | ", 3)]
        if len(parts) != 4 or not all(parts):
            raise ValueError(f"{path.name}:{number}: expected '<test id> | <area> | <status> | <reason>'")
        test_id, area, status, reason = parts
        if area not in AREAS:
            raise ValueError(f"{path.name}:{number}: unknown area {area!r} (one of {', '.join(AREAS)})")
        if status not in STATUSES:
            known = ", ".join(STATUSES)
            raise ValueError(f"{path.name}:{number}: unknown status {status!r} (one of {known})")
        if test_id in entries:
            raise ValueError(f"{path.name}:{number}: {test_id} is listed twice")
        entries[test_id] = KnownFailure(test_id, area, status, reason, number)
    return entries


@dataclass
class Comparison:
    """A run's outcomes set against the known failures (only the entries of tests that ran count)."""

    counts: Counter[str] = field(default_factory=Counter)
    #: Failing tests that the list does not name, with the failure's first line.
    new_failures: dict[str, str] = field(default_factory=dict)
    #: Entries whose tests all passed in this run: the entry can go.
    fixed: dict[str, KnownFailure] = field(default_factory=dict)
    #: Failing tests that an entry names, as expected, with that entry.
    still_failing: dict[str, KnownFailure] = field(default_factory=dict)
    skip_reasons: Counter[str] = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        return sum(self.counts[outcome] for outcome in FAILING)


def guess_area(test_id: str) -> str:
    """A first guess at who owns a failing test, from its file and parameters (for ``--print-entries``)."""
    path = test_id.split("::", maxsplit=1)[0]
    if "zttp" in test_id or "http2" in path:
        return "http2"
    for fragment, area in (
        ("websocket", "websockets"),
        ("protocols/", "http"),
        ("benchmarks/test_http", "http"),
        ("benchmarks/test_ws", "websockets"),
        ("middleware/test_logging", "logging"),
        ("middleware/", "middleware"),
        ("supervisors/", "cli"),
        ("test_cli", "cli"),
        ("test_main", "cli"),
    ):
        if fragment in path:
            return area
    return "core"


def entry_for(test_id: str, known: dict[str, KnownFailure]) -> KnownFailure | None:
    """The entry naming ``test_id``: its own, else the first pattern matching it."""
    entry = known.get(test_id)
    if entry is not None:
        return entry
    return next((e for e in known.values() if e.is_pattern and e.matches(test_id)), None)


def compare(outcomes: dict[str, dict[str, str]], known: dict[str, KnownFailure]) -> Comparison:
    result = Comparison()
    # Per entry: did any of its tests fail, did any pass, in this run?
    entry_failed: set[str] = set()
    entry_passed: set[str] = set()
    for test_id, found in sorted(outcomes.items()):
        outcome = found["outcome"]
        result.counts[outcome] += 1
        entry = entry_for(test_id, known)
        if outcome in FAILING:
            if entry is None:
                result.new_failures[test_id] = found.get("detail", "")
            else:
                result.still_failing[test_id] = entry
                entry_failed.add(entry.test_id)
        elif entry is not None and outcome == "passed" and entry.status != "flaky":
            entry_passed.add(entry.test_id)
        if outcome == "skipped":
            result.skip_reasons[found.get("detail", "")] += 1
    result.fixed = {name: known[name] for name in sorted(entry_passed - entry_failed)}
    return result
