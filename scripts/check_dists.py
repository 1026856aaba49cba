"""Build every distribution and check it the way the package index and a user would meet it.

    uv run python scripts/check_dists.py [--dist-dir dist] [--keep] [--scenario NAME ...]

1. Build: the sdist and wheel of the meta-package and the five packages into
   ``dist/`` (each wheel is built from its sdist).
2. Files: exactly one sdist and one wheel each, at ./VERSION; ``twine check --strict``
   on all of them; no path shipped by two wheels, ``uvicorn/__init__.py`` only in
   uvicorn-core, no code in the meta-package, a license in each, a ``py.typed`` where
   ``Typing :: Typed`` is claimed, no build leftovers.
3. Metadata, read back from each wheel's METADATA and sdist's PKG-INFO: name, version,
   ``==`` pins between ours (and only the pins the architecture allows), license,
   readme (markdown, substantial, with an example, no relative links), classifiers,
   Requires-Python, project URLs; the same license, Python support and URLs for all six;
   an upload order that puts every distribution after the ones it pins.
4. Scenarios: fresh virtual environments install from our wheels and a wheelhouse of
   third-party wheels with ``--no-index``, and run smoke tests against real servers
   (see ``dists/scenarios.py``).
5. Documented scenarios: the install commands of docs/installation.md, run as
   written on fresh environments (with the package index, as a reader would:
   from a checkout, and replacing an installed upstream uvicorn; see
   ``dists/documented.py``), then the same smoke test.

Exit code 0 when everything holds; 1 with one line per problem otherwise.
Everything the script starts is bounded in time: it cannot hang.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dists.build import build, check_built_set, twine_check
from dists.contents import check_contents, check_typed_markers
from dists.documented import DOCUMENTED_SCENARIOS, DocumentedScenario, run_documented
from dists.environments import fill_wheelhouse, third_party_requirements
from dists.layout import ROOT, release_version
from dists.metadata import check_metadata
from dists.process import StepFailed
from dists.scenarios import SCENARIOS, Scenario, run_scenario, wheelhouse_extras


class Timings:
    """How long each step took, printed at the end (CI has a time budget)."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []

    @contextmanager
    def step(self, name: str, announce: bool = True) -> Iterator[None]:
        if announce:
            print(f"== {name}", flush=True)
        started = time.monotonic()
        try:
            yield
        finally:
            self.steps.append((name, time.monotonic() - started))

    def report(self) -> None:
        for name, seconds in self.steps:
            print(f"{seconds:7.1f} s  {name}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dist-dir", type=Path, default=ROOT / "dist", help="where to build (emptied first)")
    parser.add_argument("--keep", action="store_true", help="keep the virtual environments and print where")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=[scenario.slug for scenario in (*SCENARIOS, *DOCUMENTED_SCENARIOS)],
        help="run only this install scenario (repeatable); default: all",
    )
    return parser.parse_args(argv)


def report_problems(what: str, problems: list[str]) -> None:
    """Print each problem on its own line and stop, or confirm the step."""
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr, flush=True)
    if problems:
        raise StepFailed(f"{what}: {len(problems)} problem(s), listed above")
    print(f"ok: {what}", flush=True)


def check_files(dist_dir: Path, version: str) -> None:
    checks: list[tuple[str, Callable[[], list[str]]]] = [
        ("one sdist and one wheel per distribution", lambda: check_built_set(dist_dir, version)),
        ("file ownership and contents", lambda: check_contents(dist_dir)),
        ("py.typed where Typing :: Typed is claimed", lambda: check_typed_markers(dist_dir)),
    ]
    for what, check in checks:
        report_problems(what, check())
    twine_check(dist_dir)


def run_scenarios(
    scenarios: list[Scenario],
    documented: list[DocumentedScenario],
    version: str,
    dist_dir: Path,
    keep: bool,
    timings: Timings,
) -> None:
    work = Path(tempfile.mkdtemp(prefix="uvicorn-dists-"))
    try:
        if scenarios:
            wheelhouse = work / "wheelhouse"
            with timings.step("wheelhouse: third-party wheels for --no-index installs"):
                fill_wheelhouse(third_party_requirements(dist_dir, wheelhouse_extras()), wheelhouse, work)
            for scenario in scenarios:
                with timings.step(f"scenario {scenario.slug}", announce=False):
                    run_scenario(scenario, version, dist_dir, wheelhouse, work)
        for documented_scenario in documented:
            with timings.step(f"scenario {documented_scenario.slug}", announce=False):
                run_documented(documented_scenario, version, dist_dir, work)
    finally:
        if keep:
            print(f"kept the environments in {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    dist_dir: Path = args.dist_dir.resolve()
    version = release_version()
    scenarios = [s for s in SCENARIOS if args.scenario is None or s.slug in args.scenario]
    documented = [s for s in DOCUMENTED_SCENARIOS if args.scenario is None or s.slug in args.scenario]
    timings = Timings()
    try:
        with timings.step(f"build {version} into {dist_dir}"):
            build(dist_dir)
        with timings.step("files"):
            check_files(dist_dir, version)
        with timings.step("metadata"):
            report_problems("metadata", check_metadata(dist_dir, version))
        run_scenarios(scenarios, documented, version, dist_dir, args.keep, timings)
    except (StepFailed, LookupError) as exc:
        timings.report()
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    timings.report()
    print(f"all distribution checks passed: {dist_dir} holds a release candidate of {version}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
