"""Fixtures for the CLI tests: a project folder with the sample app, and a launcher for ``uvicorn``."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.processes import UVICORN_SCRIPT, Uvicorn

SAMPLE_APPS = Path(__file__).parent / "sample_apps"

Launch = Callable[..., Uvicorn]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder holding ``pid_app.py`` (see tests/cli/sample_apps), the working directory of the command."""
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(SAMPLE_APPS / "pid_app.py", folder / "pid_app.py")
    return folder


@pytest.fixture
def launch(project: Path) -> Iterator[Launch]:
    """Start ``uvicorn ARGS`` in ``project``; everything it started is killed when the test ends.

    ``how="module"`` runs ``python -m uvicorn``; ``how="code", code=...`` runs
    ``python -c "<code>; uvicorn.main.main()"`` (to change the interpreter first,
    e.g. to hide an optional dependency).
    """
    started: list[Uvicorn] = []

    def start(
        *args: str,
        how: str = "script",
        code: str = "",
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> Uvicorn:
        if how == "script":
            command = [UVICORN_SCRIPT, *args]
        elif how == "module":
            command = [sys.executable, "-m", "uvicorn", *args]
        else:
            command = [
                sys.executable,
                "-c",
                code + "\nfrom uvicorn.main import main\nmain(prog_name='uvicorn')",
                *args,
            ]
        process = Uvicorn(command, cwd=cwd or project, env=env, pass_fds=pass_fds)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
