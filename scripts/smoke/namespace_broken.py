"""Scene check: after ``pip install -U`` of ours over upstream's uvicorn, the ``uvicorn`` package is broken.

    <venv>/bin/python namespace_broken.py RELEASE_VERSION

docs/installation.md tells readers not to upgrade in place, because pip then
removes upstream's files (``uvicorn/__init__.py``, ``config.py``, ...) after
uvicorn-core wrote its own there. This fails when that stops being true, so
the page is corrected rather than left warning about nothing.
"""

from __future__ import annotations

import subprocess
import sys

from smoke_support import SmokeFailure, smoke_main

PROBE = "import uvicorn, uvicorn.config, uvicorn.main; print(uvicorn.__version__)"


def check(version: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode == 0:
        raise SmokeFailure(
            f"the in-place upgrade left a working uvicorn {result.stdout.strip()}: "
            "docs/installation.md's warning about it is out of date"
        )
    print(f"as documented, the in-place upgrade to {version} broke the uvicorn package:")
    print("  " + (result.stderr.strip().splitlines() or ["(no output)"])[-1])


if __name__ == "__main__":
    smoke_main(check)
