"""``--reload`` without watchfiles: look at the modification times of ``*.py`` files.

Every ``reload_delay`` seconds the watched directories are walked and each
``*.py`` file's mtime compared with the previous walk. As upstream, the
``--reload-include`` / ``--reload-exclude`` patterns need watchfiles; the
directories excluded by them, and hidden directories (the default ``.*``
exclude: ``.git``, ``.venv``...), are not walked. Unreadable directories are
skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from socket import socket
from typing import TYPE_CHECKING

from uvicorn.supervisors.basereload import BaseReload, ServerTarget

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = ["StatReload"]

logger = logging.getLogger("uvicorn.error")


class StatReload(BaseReload):
    """Restart the server when a ``*.py`` file under the watched directories changes."""

    reloader_name = "StatReload"

    def __init__(self, config: Config, target: ServerTarget, sockets: list[socket]) -> None:
        super().__init__(config, target, sockets)
        self.mtimes: dict[Path, float] = {}
        if config.reload_excludes or config.reload_includes:
            logger.warning(
                "--reload-include and --reload-exclude have no effect unless watchfiles is installed."
            )

    def should_restart(self) -> list[Path] | None:
        self.pause()
        for file in self.iter_py_files():
            try:
                mtime = file.stat().st_mtime
            except OSError:
                continue  # removed since the walk, or unreadable
            previous = self.mtimes.setdefault(file, mtime)
            if mtime > previous:
                return [file]
        return None

    def restart(self) -> None:
        # The new server has loaded the files as they are now: compare with that state.
        self.mtimes = {}
        super().restart()

    def iter_py_files(self) -> Iterator[Path]:
        """Every ``*.py`` file under the watched directories, minus hidden and excluded directories."""
        excluded = {str(directory) for directory in self.config.reload_dirs_excludes}
        for reload_dir in self.config.reload_dirs:
            # os.walk skips directories it cannot read and does not follow symlinks (no loops).
            for dirpath, dirnames, filenames in os.walk(reload_dir):
                dirnames[:] = [
                    name
                    for name in dirnames
                    if not name.startswith(".") and os.path.join(dirpath, name) not in excluded
                ]
                for name in filenames:
                    if name.endswith(".py"):
                        yield Path(dirpath, name)
