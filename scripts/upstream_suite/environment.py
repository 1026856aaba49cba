"""The virtual environment the upstream tests run in: our packages (editable) and upstream's test tools.

Our six distributions are installed editable from this checkout, so the tests
always see the code as it is now; the third-party tools are pinned in
``requirements.txt``. The environment is rebuilt only when what it was built
from changes (a stamp file records a digest of the pins and of our
``pyproject.toml`` files).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["ensure_environment", "python_of"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REQUIREMENTS = HERE / "requirements.txt"
OUR_PROJECTS = (
    ROOT,
    ROOT / "packages" / "uvicorn-core",
    ROOT / "packages" / "uvicorn-protocols",
    ROOT / "packages" / "uvicorn-middleware",
    ROOT / "packages" / "uvicorn-cli",
    ROOT / "packages" / "uvicorn-worker",
)
INSTALL_TIMEOUT = 900.0


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def _uv() -> list[str]:
    # `uv run` tells its children where uv is; else the one on PATH, else the module.
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _digest() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for path in (REQUIREMENTS, *(project / "pyproject.toml" for project in OUR_PROJECTS)):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_environment(venv: Path) -> Path:
    """A ready environment at ``venv`` (built or rebuilt when needed); returns its python."""
    stamp = venv / "uvicorn-upstream-tests.stamp"
    wanted = _digest()
    if stamp.is_file() and stamp.read_text() == wanted and python_of(venv).exists():
        return python_of(venv)
    print(f"== building the test environment in {venv}", flush=True)
    uv = _uv()
    # --seed: the environment's pip downloads upstream's sdist (fetch.py).
    create = [*uv, "venv", "--quiet", "--clear", "--seed", "--python", sys.executable, str(venv)]
    subprocess.run(create, check=True, timeout=INSTALL_TIMEOUT)
    editable = [argument for project in OUR_PROJECTS for argument in ("--editable", str(project))]
    install = [*uv, "pip", "install", "--quiet", "--python", str(python_of(venv))]
    subprocess.run([*install, "-r", str(REQUIREMENTS), *editable], check=True, timeout=INSTALL_TIMEOUT)
    stamp.write_text(wanted)
    return python_of(venv)
