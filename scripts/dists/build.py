"""Build the six distributions into one folder, and check them the way the package index will."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from dists.layout import OURS, ROOT, file_prefix
from dists.process import StepFailed, run

BUILD_TIMEOUT = 900.0
TWINE_TIMEOUT = 300.0


def build(dist_dir: Path) -> None:
    """An sdist and a wheel for each distribution in a fresh ``dist_dir``.

    ``uv build`` builds each wheel from its sdist, so a file missing from an sdist
    fails here rather than for someone installing from it.
    """
    if dist_dir.exists():
        shutil.rmtree(dist_dir)
    # `uv run` tells its children where uv is; otherwise use the one on PATH.
    uv = os.environ.get("UV") or shutil.which("uv") or "uv"
    run([uv, "build", "--all-packages", "--out-dir", dist_dir], cwd=ROOT, timeout=BUILD_TIMEOUT)


def check_built_set(dist_dir: Path, version: str) -> list[str]:
    """Exactly one wheel and one sdist per distribution, at the release version, and nothing else."""
    expected = {
        f"{file_prefix(name)}{version}{suffix}"
        for name in OURS
        for suffix in (".tar.gz", "-py3-none-any.whl")
    }
    # Hidden files are not uploaded (uv writes a .gitignore into the folder).
    present = {p.name for p in dist_dir.iterdir() if not p.name.startswith(".")}
    problems = [f"{dist_dir.name}/ lacks {name}" for name in sorted(expected - present)]
    problems += [
        f"{dist_dir.name}/ has {name}, which is not ours at {version}" for name in sorted(present - expected)
    ]
    return problems


def twine_check(dist_dir: Path) -> None:
    """``twine check --strict`` on every built file: what the index would refuse or render badly."""
    if importlib.util.find_spec("twine") is None:
        raise StepFailed(
            "twine is not installed here: run this script with `uv run` (twine is in the dev group)"
        )
    files = sorted(dist_dir.glob("*.whl")) + sorted(dist_dir.glob("*.tar.gz"))
    run([sys.executable, "-m", "twine", "--no-color", "check", "--strict", *files], timeout=TWINE_TIMEOUT)
