"""Command-line tools from Debian's packages for tests, installed with apt-get when missing.

A fresh machine (CI runs as root) may lack ``nghttp``/``h2load`` (package
``nghttp2-client``) or even ``curl``; the first test that needs one installs it,
once per test session. ``apt-get update`` runs only if the first install fails
(a fresh machine may have no package lists yet).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

__all__ = ["ToolMissing", "ensure_tool"]


@contextlib.contextmanager
def _apt_lock() -> Iterator[None]:
    # Test workers (pytest-xdist) are processes: one installs while the others wait.
    with open(os.path.join(tempfile.gettempdir(), "uvicorn-tests-apt.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


class ToolMissing(RuntimeError):
    """The tool is not installed and apt-get could not install it."""


def ensure_tool(command: str, package: str) -> str:
    """The path of ``command``, installing Debian's ``package`` first if it is missing."""
    with _apt_lock():
        found = shutil.which(command)
        if found:
            return found
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", package]
        try:
            if subprocess.run(install, capture_output=True, env=environment, check=False).returncode:
                subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=environment, check=False)
                subprocess.run(install, capture_output=True, env=environment, check=False)
        except OSError as exc:  # no apt-get at all
            raise ToolMissing(f"{command} is missing and apt-get is not available: {exc}") from exc
        found = shutil.which(command)
        if not found:
            raise ToolMissing(f"{command} is missing and 'apt-get install {package}' did not install it")
        return found
