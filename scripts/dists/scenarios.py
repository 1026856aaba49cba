"""The install scenarios: which of our distributions a user installs, and the smoke scripts proving it works.

Each scenario gets a fresh virtual environment, installs with ``--no-index`` from
our wheels and the wheelhouse (``environments.install``), then runs its smoke
scripts with that environment's python, from an empty directory, so nothing can
be imported from the repository by accident. The scripts are in ``scripts/smoke/``
and get the release version as their argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dists.environments import install, make_venv
from dists.layout import ROOT
from dists.process import run

SMOKE = ROOT / "scripts" / "smoke"
#: Provided by the middleware package: its middleware behind a stdlib-only server.
MIDDLEWARE_SERVER_SMOKE = ROOT / "tests" / "middleware" / "standalone_smoke.py"
#: A safety bound per smoke script; each one bounds its own waits well below this.
SMOKE_TIMEOUT = 300.0


@dataclass(frozen=True)
class Scenario:
    """One way to install us, and what must work afterwards."""

    #: A short name for ``--scenario``.
    slug: str
    name: str
    #: Requirements as a user writes them; each gets ``==<release version>``.
    install: tuple[str, ...]
    smoke_scripts: tuple[Path, ...]
    #: Extras of ours that the scenario selects, so the wheelhouse holds their dependencies.
    extras: tuple[tuple[str, str], ...] = ()


SCENARIOS = (
    Scenario(
        "standard",
        "uvicorn[standard]: the uvicorn command serves HTTP and WebSockets with every extra",
        ("uvicorn[standard]",),
        (SMOKE / "standard_command.py",),
        extras=(("uvicorn", "standard"),),
    ),
    Scenario(
        "core",
        "uvicorn-core alone: uvicorn.run serves without the command line",
        ("uvicorn-core",),
        (SMOKE / "serve_with_run.py",),
    ),
    Scenario(
        "protocols",
        "uvicorn-protocols alone with its extras: every module imports; protocols serve with plain settings",
        ("uvicorn-protocols[httptools,websockets,wsproto,h2,zttp]",),
        (SMOKE / "protocols_alone.py",),
        extras=(
            ("uvicorn-protocols", "httptools"),
            ("uvicorn-protocols", "websockets"),
            ("uvicorn-protocols", "wsproto"),
            ("uvicorn-protocols", "h2"),
            ("uvicorn-protocols", "zttp"),
        ),
    ),
    Scenario(
        "middleware",
        "uvicorn-middleware alone: imports, and serves behind a minimal server",
        ("uvicorn-middleware",),
        (SMOKE / "import_proxy_headers.py", MIDDLEWARE_SERVER_SMOKE),
    ),
    Scenario(
        "worker",
        "uvicorn-worker: a real gunicorn serves through UvicornWorker",
        ("uvicorn-worker",),
        (SMOKE / "gunicorn_worker.py",),
    ),
)


def wheelhouse_extras() -> dict[str, set[str]]:
    """Our extras that some scenario installs, by distribution."""
    selected: dict[str, set[str]] = {}
    for scenario in SCENARIOS:
        for name, extra in scenario.extras:
            selected.setdefault(name, set()).add(extra)
    return selected


def run_scenario(scenario: Scenario, version: str, dist_dir: Path, wheelhouse: Path, work: Path) -> None:
    """Install the scenario into a new environment under ``work`` and run its smoke scripts there."""
    print(f"== scenario {scenario.name}", flush=True)
    python = make_venv(work / scenario.slug)
    install(python, [f"{requirement}=={version}" for requirement in scenario.install], dist_dir, wheelhouse)
    empty = work / f"{scenario.slug}-cwd"
    empty.mkdir()
    for script in scenario.smoke_scripts:
        run([python, script, version], cwd=empty, timeout=SMOKE_TIMEOUT)
