"""What a run needs around it: wrk, the upstream venv, and a description of the machine.

Upstream uvicorn is installed from the package index into its own venv under
``benchmarks/.work/`` and never into the workspace. Its optional libraries are
pinned to the versions in the workspace venv, so both servers parse with the
same httptools, loop on the same uvloop, and frame with the same websockets.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = REPO_ROOT / "benchmarks" / ".work"
UPSTREAM_VENV = WORK_DIR / "upstream"
UPSTREAM_VERSION = "0.54.0"
SHARED_LIBRARIES = ("h11", "httptools", "uvloop", "websockets", "wsproto")

# Where each implementation named by the ``ws`` option lives (same path in both servers).
WS_MODULES = {
    "websockets": "uvicorn.protocols.websockets.websockets_impl",
    "websockets-sansio": "uvicorn.protocols.websockets.websockets_sansio_impl",
    "wsproto": "uvicorn.protocols.websockets.wsproto_impl",
}

_PROBE = """
import importlib.metadata, importlib.util, json, sys
report = {"python": sys.version.split()[0], "libraries": {}, "ws": {}}
try:
    import uvicorn
    report["uvicorn"] = getattr(uvicorn, "__version__", "?")
    report["uvicorn_file"] = uvicorn.__file__
    report["has_run"] = hasattr(uvicorn, "run")
except Exception as exc:
    report["error"] = f"cannot import uvicorn: {exc!r}"
for name in %(libraries)r:
    try:
        report["libraries"][name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        report["libraries"][name] = None
for option, module in %(ws)r.items():
    try:
        report["ws"][option] = importlib.util.find_spec(module) is not None
    except ImportError:
        report["ws"][option] = False
print(json.dumps(report))
"""


class SetupError(Exception):
    """A tool or interpreter the run needs could not be provided."""


def log_path(name: str) -> Path:
    (WORK_DIR / "logs").mkdir(parents=True, exist_ok=True)
    return WORK_DIR / "logs" / name


def workspace_python() -> Path:
    """The workspace venv's interpreter: our server and the load clients run on it."""
    candidate = REPO_ROOT / ".venv" / "bin" / "python"
    return candidate if candidate.exists() else Path(sys.executable)


def probe(python: Path) -> dict[str, Any]:
    """Which uvicorn (and which libraries and WebSocket implementations) ``python`` sees."""
    code = _PROBE % {"libraries": SHARED_LIBRARIES, "ws": WS_MODULES}
    try:
        finished = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"cannot run {python}: {exc}", "ws": {}, "libraries": {}}
    if finished.returncode != 0:
        return {"error": finished.stderr.strip()[-300:], "ws": {}, "libraries": {}}
    report: dict[str, Any] = json.loads(finished.stdout)
    return report


def ensure_wrk() -> str:
    """The path of wrk, installed from the Debian packages if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    with log_path("apt-wrk.log").open("w") as log:
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        print("installing wrk with apt-get ...", file=sys.stderr)
        if subprocess.run(install, stdout=log, stderr=log, env=env, check=False).returncode != 0:
            # A fresh machine may have no package lists yet.
            subprocess.run(["apt-get", "update", "-q"], stdout=log, stderr=log, env=env, check=False)
            subprocess.run(install, stdout=log, stderr=log, env=env, check=False)
    found = shutil.which("wrk")
    if not found:
        raise SetupError(f"wrk is missing and apt-get could not install it (see {log.name})")
    return found


def _upstream_ready(python: Path) -> bool:
    if not python.exists():
        return False
    report = probe(python)
    return report.get("uvicorn") == UPSTREAM_VERSION and bool(report["libraries"].get("wsproto"))


def ensure_upstream(reference_python: Path) -> Path:
    """The upstream venv's interpreter, creating the venv on first use."""
    python = UPSTREAM_VENV / "bin" / "python"
    if _upstream_ready(python):
        return python
    print(f"installing uvicorn[standard]=={UPSTREAM_VERSION} into {UPSTREAM_VENV} ...", file=sys.stderr)
    log = log_path("pip-upstream.log")
    with log.open("w") as output:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(UPSTREAM_VENV)], check=True)
        wanted = [f"uvicorn[standard]=={UPSTREAM_VERSION}", "wsproto"]
        pins = probe(reference_python)["libraries"]
        pinned = [f"{name}=={version}" for name, version in pins.items() if version]
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        if subprocess.run([*pip, *wanted, *pinned], stdout=output, stderr=output, check=False).returncode:
            print(
                "  the workspace's library versions are not installable; taking the index's", file=sys.stderr
            )
            subprocess.run([*pip, *wanted], stdout=output, stderr=output, check=False)
    if not _upstream_ready(python):
        raise SetupError(f"could not install upstream uvicorn {UPSTREAM_VERSION} (see {log})")
    return python


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


def _wrk_version() -> str:
    try:
        finished = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return "not installed"
    return (finished.stdout or finished.stderr).strip().splitlines()[0] if finished.stdout else "unknown"


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
        "wrk": _wrk_version(),
    }
