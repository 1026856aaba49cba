"""Install scenarios that run the commands of docs/installation.md exactly as written, on fresh environments.

A block of docs/installation.md marked ``<!-- sample: install scenario=NAME -->``
is run here, line by line with bash, from a stand-in for the checkout (a folder
holding ``VERSION`` and ``dist/``, the freshly built distributions), with the
scenario's new virtual environment first on ``PATH`` (so ``pip`` is its pip).
The build commands of a block are not run again: ``check_dists`` has just
built ``dist/`` with the same ``uv build --all-packages`` (``dists/build.py``).
Unlike the ``--no-index`` scenarios, these use the package index, as a reader
would: for third-party dependencies, and for upstream's uvicorn where a
scenario starts from it.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from dists.environments import make_venv
from dists.layout import ROOT, VERSION_FILE
from dists.process import StepFailed, run

INSTALLATION_PAGE = ROOT / "docs" / "installation.md"
SMOKE = ROOT / "scripts" / "smoke"
#: Commands of a block that build the distributions: done already by check_dists' build step.
BUILD_COMMANDS = frozenset({"python3 -m pip install uv", "python3 -m uv build --all-packages"})
#: Installing from the index can be slow; nothing should come near this.
COMMAND_TIMEOUT = 900.0
SMOKE_TIMEOUT = 300.0

_MARKER = re.compile(r"^<!--\s*sample:\s*install\s+scenario=(?P<name>[\w-]+)\s*-->\s*$")


@dataclass(frozen=True)
class DocumentedScenario:
    """A documented way to install this project, run as written, and what must work afterwards."""

    slug: str
    name: str
    #: The ``scenario=`` names of the documented blocks to run, in order.
    blocks: tuple[str, ...]
    #: Commands that set the scene first (not from the page): a reader's environment before.
    before: tuple[str, ...] = ()
    #: A check that the scene is what the page describes, run after ``before`` (a python file).
    scene_check: Path | None = None


DOCUMENTED_SCENARIOS = (
    DocumentedScenario(
        "from-checkout",
        "docs/installation.md: build the wheels, then pip install --find-links dist",
        blocks=("build", "install"),
    ),
    DocumentedScenario(
        "replace-upstream",
        "docs/installation.md: replace an installed upstream uvicorn 0.55 (uninstall first)",
        blocks=("build", "replace-upstream"),
        before=("pip install 'uvicorn[standard]==0.55.0'",),
    ),
    DocumentedScenario(
        "repair-upgrade",
        "docs/installation.md: repair an environment where pip install -U went over upstream's uvicorn",
        blocks=("build", "repair"),
        before=(
            "pip install 'uvicorn[standard]==0.55.0'",
            'pip install -U --find-links dist "uvicorn[standard]==$(cat VERSION)"',
        ),
        # The page says this upgrade leaves a broken namespace: make sure it still does.
        scene_check=SMOKE / "namespace_broken.py",
    ),
)


def documented_blocks(page: Path = INSTALLATION_PAGE) -> dict[str, list[str]]:
    """The commands of each ``install`` block of ``page``, by scenario name (comments dropped)."""
    blocks: dict[str, list[str]] = {}
    lines = page.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        found = _MARKER.match(line)
        if not found:
            continue
        commands: list[str] = []
        for text in lines[index + 2 :]:
            if text.startswith("```"):
                break
            command = text.split(" #")[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
        blocks[found["name"]] = commands
    return blocks


def run_documented(scenario: DocumentedScenario, version: str, dist_dir: Path, work: Path) -> None:
    """Run ``scenario`` in a new environment under ``work``, then the standard smoke test with it."""
    print(f"== scenario {scenario.name}", flush=True)
    python = make_venv(work / scenario.slug)
    checkout = work / f"{scenario.slug}-checkout"
    checkout.mkdir()
    shutil.copy(VERSION_FILE, checkout / "VERSION")
    (checkout / "dist").symlink_to(dist_dir, target_is_directory=True)
    env = dict(os.environ)
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(python.parent.parent)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_QUIET"] = "1"  # the commands as written; their progress bars would bury the checks
    env.pop("PYTHONPATH", None)
    for command in scenario.before:
        run(["bash", "-ec", command], cwd=checkout, env=env, timeout=COMMAND_TIMEOUT)
    if scenario.scene_check is not None:
        run([python, scenario.scene_check, version], cwd=work, env=env, timeout=SMOKE_TIMEOUT)
    blocks = documented_blocks()
    for name in scenario.blocks:
        if name not in blocks:
            marker = f"sample: install scenario={name}"
            raise StepFailed(f"{INSTALLATION_PAGE.name} has no block marked '{marker}'")
        for command in blocks[name]:
            if name == "build":
                if command not in BUILD_COMMANDS:
                    raise StepFailed(f"the build block runs {command!r}, which check_dists does not do")
                continue
            run(["bash", "-ec", command], cwd=checkout, env=env, timeout=COMMAND_TIMEOUT)
    empty = work / f"{scenario.slug}-cwd"
    empty.mkdir()
    run([python, SMOKE / "standard_command.py", version], cwd=empty, env=env, timeout=SMOKE_TIMEOUT)
