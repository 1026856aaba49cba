"""The upstream-test harness (scripts/upstream_tests.py): its list of known failures and its parts.

Running upstream's suite itself needs the package index and a few minutes;
these tests check what can go wrong without it: the committed list, the
comparison of a run with it, and the pytest plugin that records outcomes
(run for real on a small test file, with and without pytest-xdist).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.repo.doc_samples import DOCS_DIR, REPO_ROOT

SCRIPTS = REPO_ROOT / "scripts"


@pytest.fixture(autouse=True)
def scripts_importable() -> Iterator[None]:
    sys.path.insert(0, str(SCRIPTS))
    try:
        yield
    finally:
        sys.path.remove(str(SCRIPTS))


def test_known_failures_parse_and_deliberate_ones_cite_the_release_notes() -> None:
    from upstream_suite.known import read_known_failures

    entries = read_known_failures()
    assert entries
    notes = " ".join((DOCS_DIR / "release-notes.md").read_text().split())
    for entry in entries.values():
        assert entry.test_id.startswith("tests/"), entry
        cited = re.findall(r'release-notes: "([^"]+)"', entry.reason)
        if entry.status == "deliberate":
            assert cited, f"line {entry.line}: a deliberate difference must quote docs/release-notes.md"
        for words in cited:
            assert words in notes, f"line {entry.line}: docs/release-notes.md does not say {words!r}"


def test_a_malformed_entry_names_its_line(tmp_path: Path) -> None:
    from upstream_suite.known import read_known_failures

    listing = tmp_path / "known.txt"
    listing.write_text("# comment\n\ntests/test_x.py::test_y | core | maybe | why\n")
    with pytest.raises(ValueError, match=r"known\.txt:3: unknown status 'maybe'"):
        read_known_failures(listing)


def test_comparison(tmp_path: Path) -> None:
    from upstream_suite.known import compare, read_known_failures

    listing = tmp_path / "known.txt"
    listing.write_text(
        textwrap.dedent(
            """\
            tests/t.py::test_known | core | open | still broken
            tests/t.py::test_fixed | core | open | was broken
            tests/t.py::test_family[*zttp*] | http2 | open | no zttp
            tests/t.py::test_flaky | cli | flaky | load
            tests/t.py::test_half[*] | http | open | some of them
            """
        )
    )
    outcomes = {
        "tests/t.py::test_known": "failed",
        "tests/t.py::test_fixed": "passed",
        "tests/t.py::test_family[h11-zttp]": "error",
        "tests/t.py::test_family[zttp]": "failed",
        "tests/t.py::test_flaky": "passed",
        "tests/t.py::test_half[a]": "passed",
        "tests/t.py::test_half[b]": "failed",
        "tests/t.py::test_new": "failed",
        "tests/t.py::test_fine[with [brackets]]": "passed",
        "tests/t.py::test_skipped": "skipped",
    }
    result = compare(
        {name: {"outcome": outcome, "detail": f"detail of {name}"} for name, outcome in outcomes.items()},
        read_known_failures(listing),
    )
    assert result.new_failures == {"tests/t.py::test_new": "detail of tests/t.py::test_new"}
    assert list(result.fixed) == ["tests/t.py::test_fixed"]
    assert set(result.still_failing) == {
        "tests/t.py::test_known",
        "tests/t.py::test_family[h11-zttp]",
        "tests/t.py::test_family[zttp]",
        "tests/t.py::test_half[b]",
    }
    assert (result.counts["passed"], result.failed, result.counts["skipped"]) == (4, 5, 1)


SAMPLE_TESTS = """
import pytest

def test_passes():
    pass

def test_fails():
    assert 1 == 2, "one is not two"

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown broke")

def test_teardown_error(broken_teardown):
    pass

@pytest.mark.skip(reason="not here")
def test_skipped():
    pass

@pytest.mark.xfail(strict=False)
def test_expected_failure():
    raise ValueError

@pytest.mark.parametrize("value", ["a", "b"])
def test_param(value):
    assert value == "a"
"""


@pytest.mark.parametrize("processes", ["0", "2"])
def test_outcome_plugin_records_every_test(tmp_path: Path, processes: str) -> None:
    (tmp_path / "test_sample.py").write_text(SAMPLE_TESTS)
    outcomes = tmp_path / "outcomes.json"
    plugin_dir = SCRIPTS / "upstream_suite" / "pytest_plugin"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "uvicorn_upstream_outcomes",
            f"--outcomes-file={outcomes}",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "-n",
            processes,
            "test_sample.py",
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(plugin_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    recorded = json.loads(outcomes.read_text())
    assert {name: found["outcome"] for name, found in recorded.items()} == {
        "test_sample.py::test_passes": "passed",
        "test_sample.py::test_fails": "failed",
        "test_sample.py::test_teardown_error": "error",
        "test_sample.py::test_skipped": "skipped",
        "test_sample.py::test_expected_failure": "xfailed",
        "test_sample.py::test_param[a]": "passed",
        "test_sample.py::test_param[b]": "failed",
    }
    assert "one is not two" in recorded["test_sample.py::test_fails"]["detail"]
    assert "teardown broke" in recorded["test_sample.py::test_teardown_error"]["detail"]
    assert "not here" in recorded["test_sample.py::test_skipped"]["detail"]
