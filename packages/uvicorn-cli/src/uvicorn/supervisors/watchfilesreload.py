"""``--reload`` with watchfiles: the operating system reports changes, we filter them by pattern.

Which files count: those matching an include pattern (default ``*.py``) and
no exclude pattern (defaults ``.*``, ``.py[cod]``, ``.sw.*``, ``~*``), outside
the excluded directories, and not inside a folder (below the watched
directory) whose name matches an exclude pattern: ``.venv/lib/x.py`` does
not count. A default is dropped when the user names it on the other side
(``--reload-include '.*'`` lifts the dot-file exclude); a path given exactly
as an include always counts.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from socket import socket
from typing import TYPE_CHECKING

from watchfiles import watch

from uvicorn._reload_paths import DEFAULT_EXCLUDES, DEFAULT_INCLUDES, is_dir
from uvicorn.supervisors.basereload import BaseReload, ServerTarget

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = ["FileFilter", "WatchFilesReload"]


class FileFilter:
    """Decides whether a changed path should restart the server (see the module docstring)."""

    reloader_name = "WatchFiles"

    def __init__(self, config: Config) -> None:
        includes = [p for p in DEFAULT_INCLUDES if p not in config.reload_excludes]
        self.includes: list[str] = list(dict.fromkeys([*includes, *config.reload_includes]))

        excludes = [p for p in DEFAULT_EXCLUDES if p not in config.reload_includes]
        exclude_dirs = list(config.reload_dirs_excludes)
        for pattern in config.reload_excludes:
            if is_dir(Path(pattern)):
                exclude_dirs.append(Path(pattern).resolve())
            else:
                excludes.append(pattern)
        self.excludes: list[str] = list(dict.fromkeys(excludes))
        self.exclude_dirs: list[Path] = list(dict.fromkeys(exclude_dirs))
        # Folders are matched below these only: a project may itself live in a dot-folder.
        self.watched: list[Path] = list(config.reload_dirs)

    def __call__(self, path: Path) -> bool:
        for pattern in self.includes:
            if not path.match(pattern):
                continue
            if str(path).endswith(pattern):
                return True  # named explicitly: no exclude applies
            if any(directory in path.parents for directory in self.exclude_dirs):
                return False
            return not any(path.match(exclude) for exclude in self.excludes) and not self._in_excluded_folder(
                path
            )
        return False

    def _in_excluded_folder(self, path: Path) -> bool:
        """True when a folder between a watched directory and ``path`` matches an exclude (``.venv``)."""
        for root in self.watched:
            if root in path.parents:
                folders = path.relative_to(root).parts[:-1]
                return any(PurePath(folder).match(exclude) for folder in folders for exclude in self.excludes)
        return False


class WatchFilesReload(BaseReload):
    """Restart the server when watchfiles reports a change that :class:`FileFilter` accepts."""

    reloader_name = "WatchFiles"

    def __init__(self, config: Config, target: ServerTarget, sockets: list[socket]) -> None:
        super().__init__(config, target, sockets)
        self.reload_dirs: list[Path] = list(config.reload_dirs)
        self.watch_filter = FileFilter(config)
        self.watcher = watch(
            *self.reload_dirs,
            watch_filter=None,  # ours is applied to the batch, so we can report what matched
            stop_event=self.should_exit,
            # Return an empty batch now and then, so a quiet tree cannot block us forever.
            yield_on_timeout=True,
            ignore_permission_denied=True,
        )

    def should_restart(self) -> list[Path] | None:
        self.pause()
        changes = next(self.watcher)
        if not changes:
            return None
        changed_paths = {Path(path) for _, path in changes}
        return [path for path in changed_paths if self.watch_filter(path)]
