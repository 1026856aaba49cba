"""Run upstream uvicorn's own tests against this checkout's packages; compare with the known failures.

    uv run python scripts/upstream_tests.py [options] [pytest arguments]

1. Build a virtual environment in the work folder (default ``.upstream-tests/``,
   gitignored) with our six distributions installed editable from this
   checkout and upstream's test tools (pinned in
   ``scripts/upstream_suite/requirements.txt``); rebuilt only when those change.
2. Fetch upstream's sdist from the package index with that environment's
   ``pip download``, once (it is kept in the work folder).
3. Unpack its ``tests/`` (not its ``uvicorn/``) into the work folder.
4. Run pytest in it (``-n 2`` by default, upstream's ``filterwarnings = error``
   kept, its ``-n 8`` dropped), on every test or on the files and ``-k``
   expressions given after the options.
5. Compare each test's outcome with ``scripts/upstream_suite/known_failures.txt``
   and print the counts, the new failures and the listed tests that now pass.

Exit code 0 when no test fails that the list does not name; 1 when one does
(with ``--strict``, also when a listed test passes: remove its entry); 2 when
the run itself could not be made. pytest's own output goes to a log file in
the work folder (``--show-output`` streams it instead).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from upstream_suite.environment import ROOT, ensure_environment
from upstream_suite.fetch import fetch_sdist, unpack_tests
from upstream_suite.known import (
    KNOWN_FAILURES,
    Comparison,
    KnownFailure,
    compare,
    guess_area,
    read_known_failures,
)

UPSTREAM_VERSION = "0.55.0"
PLUGIN_DIR = Path(__file__).resolve().parent / "upstream_suite" / "pytest_plugin"
#: Upstream's addopts without its ``-n 8`` (we pass our own ``-n``).
ADDOPTS = "-rxXs --strict-config --strict-markers"
#: A bound on the whole pytest run (a full run takes a few minutes).
RUN_TIMEOUT = 3600.0


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--upstream-version", default=UPSTREAM_VERSION, help="default: %(default)s")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(os.environ.get("UVICORN_UPSTREAM_WORK", ROOT / ".upstream-tests")),
        help="cache and environment folder (default: $UVICORN_UPSTREAM_WORK or .upstream-tests/)",
    )
    parser.add_argument("-n", "--processes", default="2", help="pytest-xdist processes (0: none)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per test (pytest-timeout)")
    parser.add_argument("--strict", action="store_true", help="also fail when a listed test passes")
    parser.add_argument("--show-output", action="store_true", help="stream pytest's output")
    parser.add_argument("--list", action="store_true", help="print every failing test, listed or not")
    parser.add_argument(
        "--print-entries",
        action="store_true",
        help="print the new failures as known_failures.txt lines (area guessed, status open) to edit and add",
    )
    parser.add_argument(
        "--retry-new",
        action="store_true",
        help="run the new failures once more, in one process; those that pass then are reported, not failed",
    )
    parser.add_argument(
        "--no-warnings-as-errors",
        action="store_true",
        help="drop upstream's filterwarnings = error (to tell a warning from a real failure)",
    )
    return parser.parse_known_args(argv)


def run_pytest(args: argparse.Namespace, python: Path, tests_root: Path, selection: list[str]) -> Path:
    outcomes = args.work / "outcomes.json"
    log = args.work / "pytest-output.log"
    outcomes.unlink(missing_ok=True)
    command = [
        str(python),
        "-m",
        "pytest",
        "-p",
        "uvicorn_upstream_outcomes",
        f"--outcomes-file={outcomes}",
        "-p",
        "no:cacheprovider",
        "-o",
        f"addopts={ADDOPTS}",
        f"--timeout={args.timeout:g}",
        "-n",
        str(args.processes),
    ]
    if args.no_warnings_as_errors:
        command += ["-W", "default"]
    command += selection or ["tests"]
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PYTHONPATH"] = str(PLUGIN_DIR)
    print("+", " ".join(command[2:]), flush=True)
    with log.open("w") as output:
        completed = subprocess.run(
            command,
            cwd=tests_root,
            env=env,
            stdout=None if args.show_output else output,
            stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    # 0: all passed, 1: some failed, 5: nothing selected; anything else is pytest's own trouble.
    if completed.returncode not in (0, 1, 5) or not outcomes.is_file():
        if not args.show_output:
            print("".join(log.read_text().splitlines(keepends=True)[-40:]), file=sys.stderr)
        raise RuntimeError(f"pytest exited with {completed.returncode} (output: {log})")
    print(f"pytest output: {log}", flush=True)
    return outcomes


def retry_new_failures(
    args: argparse.Namespace,
    python: Path,
    tests_root: Path,
    result: Comparison,
    known: dict[str, KnownFailure],
) -> Comparison:
    """Run the new failures again, alone: one that passes then failed from the load of the first run.

    It is named (a flake worth a look), and only what fails twice counts as new.
    """
    print(f"== retrying {len(result.new_failures)} new failure(s) in one process", flush=True)
    retry_args = argparse.Namespace(**{**vars(args), "processes": "0"})
    outcomes = run_pytest(retry_args, python, tests_root, list(result.new_failures))
    retried = compare(json.loads(outcomes.read_text()), known)
    for test_id in result.new_failures:
        if test_id not in retried.new_failures:
            print(f"  PASSED ON RETRY {test_id}: {result.new_failures[test_id]}")
    result.new_failures = {
        key: value for key, value in result.new_failures.items() if key in retried.new_failures
    }
    return result


def report(result: Comparison, show_all: bool) -> None:
    counts = result.counts
    print(
        f"upstream tests: {counts['passed']} passed, {result.failed} failed "
        f"({len(result.still_failing)} known, {len(result.new_failures)} new), "
        f"{len(result.fixed)} fixed, {counts['skipped']} skipped, {counts['xfailed']} xfailed"
    )
    if result.skip_reasons:
        print("skipped:")
        for reason, count in result.skip_reasons.most_common():
            print(f"  {count:4d}  {reason}")
    if result.still_failing:
        by_area = Counter((entry.area, entry.status) for entry in result.still_failing.values())
        print("known failures by area: " + ", ".join(f"{a}/{s} {n}" for (a, s), n in sorted(by_area.items())))
    if show_all:
        for test_id, entry in sorted(result.still_failing.items(), key=lambda item: item[1].area):
            print(f"  [{entry.area}/{entry.status}] {test_id}: {entry.reason}")
    if result.fixed:
        print(f"listed in {KNOWN_FAILURES.name} but passing now (remove the entry):")
        for test_id in result.fixed:
            print(f"  FIXED {test_id}")
    if result.new_failures:
        print(f"failing and not listed in {KNOWN_FAILURES.name}:")
        for test_id, detail in result.new_failures.items():
            print(f"  NEW {test_id}: {detail}")


def main(argv: list[str]) -> int:
    args, selection = parse_args(argv)
    args.work = args.work.resolve()
    started = time.monotonic()
    try:
        known = read_known_failures()
        python = ensure_environment(args.work / "venv")
        sdist = fetch_sdist(args.upstream_version, args.work / "sdist", python)
        tests_root = unpack_tests(sdist, args.work / f"uvicorn-{args.upstream_version}")
        prepared = time.monotonic()
        outcomes = run_pytest(args, python, tests_root, selection)
        result = compare(json.loads(outcomes.read_text()), known)
        if args.retry_new and result.new_failures:
            result = retry_new_failures(args, python, tests_root, result, known)
    except (OSError, ValueError, RuntimeError, subprocess.SubprocessError) as exc:
        print(f"upstream_tests: {exc}", file=sys.stderr)
        return 2
    finished = time.monotonic()
    report(result, args.list)
    if args.print_entries:
        for test_id, detail in result.new_failures.items():
            print(f"{test_id} | {guess_area(test_id)} | open | {' '.join(detail.split())[:150]}")
    print(f"time: {prepared - started:.0f} s to prepare, {finished - prepared:.0f} s to run the tests")
    if result.new_failures or (args.strict and result.fixed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
