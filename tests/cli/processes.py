"""The real ``uvicorn`` command in a child process (tests/processes.py does the work).

Each command runs in its own session (process group), so a test can signal
it and, whatever happens, every process it started (supervisor, workers,
multiprocessing's resource tracker) is killed at teardown.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.processes import ServerProcess, child_env

__all__ = ["UVICORN_SCRIPT", "Uvicorn"]

UVICORN_SCRIPT = str(Path(sys.executable).with_name("uvicorn"))


class Uvicorn(ServerProcess):
    """A running ``uvicorn`` command: its logs (``log``, stderr), its ``stdout``, its process group."""

    def __init__(
        self, command: list[str], cwd: Path, env: dict[str, str] | None = None, pass_fds: tuple[int, ...] = ()
    ) -> None:
        super().__init__(command, cwd, child_env(env), pass_fds)
