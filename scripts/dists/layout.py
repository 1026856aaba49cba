"""What the monorepo publishes: the names, the release version, how our distributions depend on each other."""

from __future__ import annotations

import email.message
import email.parser
import re
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSION_FILE = ROOT / "VERSION"

META = "uvicorn"
PACKAGES = ("uvicorn-core", "uvicorn-protocols", "uvicorn-middleware", "uvicorn-cli", "uvicorn-worker")
OURS = (META, *PACKAGES)

#: Which of our distributions each one requires, pinned with ``==`` (docs/architecture.md:
#: a layer only imports the layers below it).
DEPENDS_ON: dict[str, frozenset[str]] = {
    "uvicorn": frozenset(PACKAGES),
    "uvicorn-core": frozenset({"uvicorn-protocols", "uvicorn-middleware"}),
    "uvicorn-protocols": frozenset(),
    "uvicorn-middleware": frozenset(),
    "uvicorn-cli": frozenset({"uvicorn-core"}),
    "uvicorn-worker": frozenset({"uvicorn-core"}),
}

#: Distributions that must require nothing at all (they run on the standard library alone).
STANDARD_LIBRARY_ONLY = frozenset({"uvicorn-middleware"})

#: The order to upload a release in: each distribution after every one it pins, so that an
#: install made between two uploads never finds a pin it cannot satisfy (docs/releasing.md).
UPLOAD_ORDER = (
    "uvicorn-middleware",
    "uvicorn-protocols",
    "uvicorn-core",
    "uvicorn-cli",
    "uvicorn-worker",
    "uvicorn",
)


def release_version() -> str:
    """The version every distribution must carry: the content of ./VERSION."""
    return VERSION_FILE.read_text().strip()


def normalise(name: str) -> str:
    """A project name as package indexes compare them (PEP 503): ``Uvicorn_Core`` is ``uvicorn-core``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def file_prefix(name: str) -> str:
    """How built file names start for a distribution: ``uvicorn_core-`` for uvicorn-core."""
    return name.replace("-", "_") + "-"


def built_file(dist_dir: Path, name: str, suffix: str) -> Path:
    """The one wheel (``.whl``) or sdist (``.tar.gz``) of ``name`` in ``dist_dir``."""
    found = sorted(p for p in dist_dir.glob(f"*{suffix}") if p.name.startswith(file_prefix(name)))
    if len(found) != 1:
        listed = ", ".join(p.name for p in found) or "none"
        raise LookupError(f"{name}: expected one {suffix} file in {dist_dir}, found {listed}")
    return found[0]


def wheel_of(dist_dir: Path, name: str) -> Path:
    return built_file(dist_dir, name, ".whl")


def sdist_of(dist_dir: Path, name: str) -> Path:
    return built_file(dist_dir, name, ".tar.gz")


def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def sdist_names(sdist: Path) -> list[str]:
    """The sdist's paths without its top folder (``uvicorn_core-0.60.0/``)."""
    with tarfile.open(sdist) as archive:
        return [name.partition("/")[2] for name in archive.getnames() if "/" in name]


def wheel_metadata(wheel: Path) -> email.message.Message:
    """The wheel's ``*.dist-info/METADATA``."""
    with zipfile.ZipFile(wheel) as archive:
        name = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
        if name is None:
            raise LookupError(f"{wheel.name} has no .dist-info/METADATA")
        return email.parser.Parser().parsestr(archive.read(name).decode("utf-8"))


def sdist_metadata(sdist: Path) -> email.message.Message:
    """The sdist's top-level ``PKG-INFO``."""
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")]
        extracted = archive.extractfile(members[0]) if members else None
        if extracted is None:
            raise LookupError(f"{sdist.name} has no top-level PKG-INFO file")
        return email.parser.Parser().parsestr(extracted.read().decode("utf-8"))
