"""Keep every distribution of the monorepo at the version written in ./VERSION.

    python scripts/version.py sync    # rewrite versions and == pins from VERSION
    python scripts/version.py check   # exit 1 (listing the places) if anything disagrees

The places: the meta-package's and each package's ``[project] version``, the
``==`` pins between our packages, and ``uvicorn.__version__`` in uvicorn-core.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = ("uvicorn-core", "uvicorn-protocols", "uvicorn-middleware", "uvicorn-cli", "uvicorn-worker")
PYPROJECTS = [ROOT / "pyproject.toml"] + [
    ROOT / "packages" / name / "pyproject.toml" for name in OUR_PACKAGES
]
CORE_INIT = ROOT / "packages" / "uvicorn-core" / "src" / "uvicorn" / "__init__.py"

_PROJECT_VERSION = re.compile(r'^version = "[^"]*"$', re.MULTILINE)
_PIN = re.compile(r'"(?P<name>' + "|".join(OUR_PACKAGES) + r')==[^"]*"')
_DUNDER_VERSION = re.compile(r'^__version__ = "[^"]*"$', re.MULTILINE)


def wanted_version() -> str:
    return (ROOT / "VERSION").read_text().strip()


def rewrite(text: str, version: str, is_init: bool) -> str:
    if is_init:
        return _DUNDER_VERSION.sub(f'__version__ = "{version}"', text)
    text = _PROJECT_VERSION.sub(f'version = "{version}"', text, count=1)
    return _PIN.sub(lambda m: f'"{m["name"]}=={version}"', text)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in {"sync", "check"}:
        print(__doc__, file=sys.stderr)
        return 2
    version = wanted_version()
    stale: list[Path] = []
    for path in [*PYPROJECTS, CORE_INIT]:
        text = path.read_text()
        new = rewrite(text, version, is_init=path == CORE_INIT)
        if new != text:
            stale.append(path)
            if argv[0] == "sync":
                path.write_text(new)
    if argv[0] == "check" and stale:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is not at version {version}", file=sys.stderr)
        print("run: python scripts/version.py sync", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
