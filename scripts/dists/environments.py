"""Fresh virtual environments, and the wheelhouse that lets them install our wheels with ``--no-index``.

The wheelhouse holds only third-party wheels, downloaded once for every scenario.
Installs then see nothing but our freshly built wheels and that folder: no index,
no pip configuration, so a dependency that a wheel forgot to declare, or a wheel
missing from the build, fails the install instead of being fetched from elsewhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from packaging.requirements import Requirement

from dists.layout import OURS, normalise, wheel_metadata, wheel_of
from dists.process import run

#: Safety bounds for pip (downloads can be slow; nothing here should come near them).
DOWNLOAD_TIMEOUT = 900.0
INSTALL_TIMEOUT = 600.0
VENV_TIMEOUT = 300.0


def make_venv(path: Path) -> Path:
    """A new virtual environment with pip at ``path``; returns its python."""
    # A child process rather than venv.create(): installing pip runs a subprocess
    # that venv.create() would wait for without a time limit.
    run([sys.executable, "-m", "venv", "--clear", path], timeout=VENV_TIMEOUT)
    return path / ("Scripts" if os.name == "nt" else "bin") / "python"


def third_party_requirements(dist_dir: Path, extras: dict[str, set[str]]) -> list[str]:
    """What our wheels require from others on this platform, with the given extras of ours selected.

    Markers are evaluated here (``extra == "standard"``, ``sys_platform != "win32"``...),
    so what remains is plain requirements for ``pip download``.
    """
    found: set[str] = set()
    for name in OURS:
        selected = {"", *extras.get(name, set())}
        for line in wheel_metadata(wheel_of(dist_dir, name)).get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if normalise(requirement.name) in OURS:
                continue
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in selected):
                requirement.marker = None
                found.add(str(requirement))
    return sorted(found)


def fill_wheelhouse(requirements: list[str], wheelhouse: Path, work: Path) -> None:
    """Download ``requirements`` and their dependencies as wheels into ``wheelhouse``.

    This is the one step that uses the network (or the index pip is configured with).
    """
    python = make_venv(work / "downloader")
    wheelhouse.mkdir(parents=True, exist_ok=True)
    download = ["download", "--quiet", "--disable-pip-version-check", "--only-binary", ":all:"]
    run([python, "-m", "pip", *download, "--dest", wheelhouse, *requirements], timeout=DOWNLOAD_TIMEOUT)


def install(python: Path, requirements: list[str], dist_dir: Path, wheelhouse: Path) -> None:
    """Install ``requirements`` from our built wheels and the wheelhouse only.

    ``--isolated`` ignores pip's configuration files and PIP_* variables, which
    could add other indexes or wheel folders to look in.
    """
    pip = [
        "--isolated",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-index",
        "--only-binary",
        ":all:",
    ]
    sources: list[str | Path] = ["--find-links", dist_dir, "--find-links", wheelhouse]
    run([python, "-m", "pip", *pip, *sources, *requirements], timeout=INSTALL_TIMEOUT)
