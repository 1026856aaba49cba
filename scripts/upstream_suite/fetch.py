"""Upstream's sdist from the package index, and its ``tests/`` unpacked next to nothing else.

Only ``tests/`` and ``pyproject.toml`` (for its pytest settings) are unpacked:
the sdist's own ``uvicorn/`` must not be there, or the tests would import it
instead of our packages.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

__all__ = ["fetch_sdist", "unpack_tests"]

DOWNLOAD_TIMEOUT = 600.0


def fetch_sdist(version: str, cache: Path, python: Path) -> Path:
    """``uvicorn-<version>.tar.gz`` in ``cache``, downloaded with ``python``'s pip the first time."""
    sdist = cache / f"uvicorn-{version}.tar.gz"
    if sdist.is_file():
        return sdist
    cache.mkdir(parents=True, exist_ok=True)
    print(f"== downloading upstream uvicorn {version}'s sdist", flush=True)
    command = [
        str(python),
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--dest",
        str(cache),
        f"uvicorn=={version}",
    ]
    subprocess.run(command, check=True, timeout=DOWNLOAD_TIMEOUT)
    if not sdist.is_file():
        raise FileNotFoundError(f"pip downloaded no {sdist.name} into {cache}")
    return sdist


def unpack_tests(sdist: Path, destination: Path) -> Path:
    """``destination`` holding the sdist's ``tests/`` and ``pyproject.toml`` (replaced when present)."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    with tarfile.open(sdist) as archive:
        members = []
        for member in archive.getmembers():
            _, _, inside = member.name.partition("/")
            if inside == "pyproject.toml" or inside.startswith("tests/"):
                member.name = inside
                members.append(member)
        # The "data" filter refuses absolute paths, links out of the folder and device files.
        archive.extractall(destination, members=members, filter="data")
    if not (destination / "tests" / "conftest.py").is_file():
        raise FileNotFoundError(f"{sdist.name} has no tests/conftest.py")
    return destination
