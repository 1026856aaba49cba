"""Which directories and file patterns ``--reload`` watches (``Config.reload_*``).

Patterns may name directories as well as globs: ``--reload-include src`` adds the
directory ``src`` to the watched directories, and ``--reload-exclude build``
removes ``build`` (and everything under it) from them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger("uvicorn.error")

DEFAULT_INCLUDES = ["*.py"]
DEFAULT_EXCLUDES = [".*", ".py[cod]", ".sw.*", "~*"]


def is_dir(path: Path) -> bool:
    """``path.is_dir()`` that treats unreadable or overlong paths as "not a directory"."""
    try:
        if not path.is_absolute():
            path = path.resolve()
        return path.is_dir()
    except OSError:
        return False


def _normalize_dirs(dirs: list[str] | str | None) -> list[str]:
    """One string or a list of strings (or None) as a list without duplicates."""
    if dirs is None:
        return []
    if isinstance(dirs, str):
        return [dirs]
    return list(dict.fromkeys(dirs))


def resolve_reload_patterns(
    patterns_list: list[str], directories_list: list[str]
) -> tuple[list[str], list[Path]]:
    """Split user patterns into globs and directories; return (patterns, unique directories).

    A pattern naming an existing directory counts as a directory. Glob patterns
    that match directories under the working directory add those directories too.
    """
    directories: list[Path] = [Path(d).resolve() for d in directories_list if is_dir(Path(d))]
    patterns: list[str] = list(patterns_list)
    cwd = Path.cwd()
    for pattern in patterns_list:
        if pattern == ".*":
            continue  # would match the whole tree of dot-folders: leave it a file pattern
        if is_dir(Path(pattern)):
            directories.append(Path(pattern).resolve())
            continue
        for match in cwd.glob(pattern):
            if is_dir(match):
                directories.append(match.resolve())
    unique: list[Path] = []
    for directory in sorted(set(directories)):
        if not any(parent in unique for parent in directory.parents):
            unique.append(directory)
    return patterns, unique


@dataclass
class ReloadPaths:
    """The resolved watch settings that ``Config`` exposes as ``reload_dirs`` etc."""

    dirs: list[Path] = field(default_factory=list)
    dirs_excludes: list[Path] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)

    @classmethod
    def resolve(
        cls,
        should_reload: bool,
        dirs: list[str] | str | None,
        includes: list[str] | str | None,
        excludes: list[str] | str | None,
    ) -> ReloadPaths:
        if not should_reload:
            if dirs or includes or excludes:
                logger.warning(
                    "Current configuration will not reload as not all conditions are met, "
                    "please refer to documentation."
                )
            return cls()

        given_dirs = _normalize_dirs(dirs)
        include_patterns, watch_dirs = resolve_reload_patterns(_normalize_dirs(includes), given_dirs)
        exclude_patterns, exclude_dirs = resolve_reload_patterns(_normalize_dirs(excludes), [])

        watch_dirs = [d for d in watch_dirs if not any(x == d or x in d.parents for x in exclude_dirs)]
        include_patterns = [p for p in include_patterns if p not in exclude_patterns]

        if not watch_dirs:
            if given_dirs:
                logger.warning(
                    "Provided reload directories %s did not contain valid directories, "
                    "watching current working directory.",
                    given_dirs,
                )
            watch_dirs = [Path.cwd()]
        logger.info("Will watch for changes in these directories: %s", sorted(map(str, watch_dirs)))
        return cls(
            dirs=watch_dirs, dirs_excludes=exclude_dirs, includes=include_patterns, excludes=exclude_patterns
        )
