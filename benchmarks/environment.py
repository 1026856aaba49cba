"""What a run needs around it: the load tools, the workspace interpreter, a description of the machine.

The peers' venvs live in ``benchmarks.venvs``; the tools here come from the
Debian packages and are installed with apt-get when missing, the way the
project's own setup would on a fresh machine.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = REPO_ROOT / "benchmarks" / ".work"

# The Debian package that provides each load tool.
TOOL_PACKAGES = {"wrk": "wrk", "h2load": "nghttp2-client", "nghttp": "nghttp2-client"}


class SetupError(Exception):
    """A tool or interpreter the run needs could not be provided."""


def log_path(name: str) -> Path:
    (WORK_DIR / "logs").mkdir(parents=True, exist_ok=True)
    return WORK_DIR / "logs" / name


def workspace_python() -> Path:
    """The workspace venv's interpreter: our server and the load clients run on it."""
    candidate = REPO_ROOT / ".venv" / "bin" / "python"
    return candidate if candidate.exists() else Path(sys.executable)


def ensure_tool(name: str) -> str:
    """The path of load tool ``name`` (wrk, h2load, nghttp), installed with apt-get if it is missing."""
    found = shutil.which(name)
    if found:
        return found
    package = TOOL_PACKAGES[name]
    log = log_path(f"apt-{package}.log")
    with log.open("w") as output:
        install = ["apt-get", "install", "-y", "-q", package]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        print(f"installing {package} with apt-get ...", file=sys.stderr)
        if subprocess.run(install, stdout=output, stderr=output, env=env, check=False).returncode != 0:
            # A fresh machine may have no package lists yet.
            subprocess.run(["apt-get", "update", "-q"], stdout=output, stderr=output, env=env, check=False)
            subprocess.run(install, stdout=output, stderr=output, env=env, check=False)
    found = shutil.which(name)
    if not found:
        raise SetupError(f"{name} is missing and apt-get could not install {package} (see {log})")
    return found


def ensure_wrk() -> str:
    """The path of wrk, installed from the Debian packages if it is missing."""
    return ensure_tool("wrk")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        return platform.system()


def _tool_version(name: str) -> str:
    try:
        finished = subprocess.run([name, "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return "not installed"
    lines = (finished.stdout or finished.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def describe_source() -> str:
    """The commit "ours" was measured at, and whether package sources differed from it."""

    def git(*arguments: str) -> str:
        try:
            finished = subprocess.run(
                ["git", *arguments], capture_output=True, text=True, cwd=REPO_ROOT, check=False
            )
        except OSError:
            return ""
        return finished.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    changed = git("status", "--porcelain", "--", "packages")
    return f"{commit} + uncommitted changes in packages/" if changed else commit


def describe_machine() -> dict[str, Any]:
    """The fields docs/benchmarks.md asks for next to every published result."""
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": _os_name(),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        "wrk": _tool_version("wrk"),
        "h2load": _tool_version("h2load"),
    }
