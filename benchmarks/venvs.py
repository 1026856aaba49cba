"""The peers' virtual environments: created on first use under ``benchmarks/.work/``, probed on every run.

Each peer gets a venv of its own and is never installed into the workspace:
upstream uvicorn 0.55 (with zttp for HTTP/2), optionally upstream 0.54,
granian and hypercorn. Libraries a peer shares with the workspace (httptools,
uvloop, websockets, wsproto, h11, h2, zttp) are pinned to the workspace's
versions, so the servers differ in the server and not in what it parses or
loops with.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.environment import REPO_ROOT, WORK_DIR, SetupError, log_path

SHARED_LIBRARIES = ("h11", "h2", "httptools", "uvloop", "websockets", "wsproto", "zttp")

# Where each implementation named by the ``ws`` option lives (same path in every uvicorn).
WS_MODULES = {
    "websockets": "uvicorn.protocols.websockets.websockets_impl",
    "websockets-sansio": "uvicorn.protocols.websockets.websockets_sansio_impl",
    "wsproto": "uvicorn.protocols.websockets.wsproto_impl",
}

# Run by each uvicorn interpreter: which uvicorn, libraries, WebSocket
# implementations, and which ``http`` value (if any) lets it load with http2=True.
_UVICORN_PROBE = """
import contextlib, importlib.metadata, importlib.util, io, json, logging, sys
report = {"python": sys.version.split()[0], "libraries": {}, "ws": {}, "http2": None}
for name in %(libraries)r:
    try:
        report["libraries"][name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        report["libraries"][name] = None
try:
    import uvicorn
    report["uvicorn"] = getattr(uvicorn, "__version__", "?")
    report["uvicorn_file"] = uvicorn.__file__
    report["has_run"] = hasattr(uvicorn, "run")
except Exception as exc:
    report["error"] = f"cannot import uvicorn: {exc!r}"
    print(json.dumps(report))
    raise SystemExit(0)
for option, module in %(ws)r.items():
    try:
        report["ws"][option] = importlib.util.find_spec(module) is not None
    except ImportError:
        report["ws"][option] = False

async def app(scope, receive, send):
    pass

# A uvicorn that cannot serve HTTP/2 refuses http2=True when the config loads
# (ours until it lands, upstream without the zttp protocol); record who accepts.
for http in ("auto", "zttp"):
    refused = io.StringIO()
    try:
        with contextlib.redirect_stderr(refused):
            config = uvicorn.Config(app, http=http, http2=True, lifespan="off", log_config=None)
            logging.disable(logging.CRITICAL)
            config.load()
    except BaseException as exc:
        report.setdefault("http2_refusals", []).append(f"http={http}: {exc!r}"[:200])
        continue
    finally:
        logging.disable(logging.NOTSET)
    report["http2"] = http
    break
print(json.dumps(report))
"""

_TOOL_PROBE = """
import importlib.metadata, json, sys
report = {"python": sys.version.split()[0], "libraries": {}}
for name in %(names)r:
    try:
        report["libraries"][name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        report["libraries"][name] = None
print(json.dumps(report))
"""


@dataclass(frozen=True)
class VenvSpec:
    """A managed venv: what to install, what to pin to the workspace, what proves it is ready."""

    name: str
    requirements: tuple[str, ...]
    # Distribution name and the version it must have for the venv to count as ready.
    main: tuple[str, str]
    pinned: tuple[str, ...]

    @property
    def path(self) -> Path:
        return WORK_DIR / self.name

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def script(self, name: str) -> Path:
        return self.path / "bin" / name


UPSTREAM_VERSION = "0.55.0"
UPSTREAM_PREVIOUS_VERSION = "0.54.0"
GRANIAN_SERIES = "2.8"
HYPERCORN_SERIES = "0.18"

VENVS = {
    "upstream": VenvSpec(
        f"uvicorn-{UPSTREAM_VERSION}",
        (f"uvicorn[standard]=={UPSTREAM_VERSION}", "wsproto", "zttp"),
        ("uvicorn", UPSTREAM_VERSION),
        ("h11", "httptools", "uvloop", "websockets", "wsproto", "zttp"),
    ),
    "upstream-0.54": VenvSpec(
        f"uvicorn-{UPSTREAM_PREVIOUS_VERSION}",
        (f"uvicorn[standard]=={UPSTREAM_PREVIOUS_VERSION}", "wsproto"),
        ("uvicorn", UPSTREAM_PREVIOUS_VERSION),
        ("h11", "httptools", "uvloop", "websockets", "wsproto"),
    ),
    "granian": VenvSpec(
        "granian",
        (f"granian=={GRANIAN_SERIES}.*", "uvloop"),
        ("granian", GRANIAN_SERIES),
        ("uvloop",),
    ),
    "hypercorn": VenvSpec(
        "hypercorn",
        (f"hypercorn=={HYPERCORN_SERIES}.*", "uvloop"),
        ("hypercorn", HYPERCORN_SERIES),
        ("h11", "h2", "uvloop"),
    ),
}


def _run_json(python: Path, code: str) -> dict[str, Any]:
    try:
        finished = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"cannot run {python}: {exc}", "ws": {}, "libraries": {}}
    try:
        report: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": finished.stderr.strip()[-300:] or "no report", "ws": {}, "libraries": {}}
    return report


def probe_uvicorn(python: Path) -> dict[str, Any]:
    """Which uvicorn ``python`` sees, its libraries, WebSocket implementations and HTTP/2 ability."""
    return _run_json(python, _UVICORN_PROBE % {"libraries": SHARED_LIBRARIES, "ws": WS_MODULES})


def probe_tool(python: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The versions of ``names`` installed for ``python``."""
    return _run_json(python, _TOOL_PROBE % {"names": names})


def _ready(spec: VenvSpec) -> bool:
    if not spec.python.exists():
        return False
    name, version = spec.main
    found = probe_tool(spec.python, (name,))["libraries"].get(name) or ""
    return found == version or found.startswith(version + ".")


def ensure_venv(spec: VenvSpec, workspace: dict[str, str | None]) -> Path:
    """The interpreter of ``spec``'s venv, created and installed on first use.

    ``workspace`` holds the workspace's library versions; the ones named in
    ``spec.pinned`` are installed at the same version when the index has it.
    """
    if _ready(spec):
        return spec.python
    print(f"installing {' '.join(spec.requirements)} into {spec.path} ...", file=sys.stderr)
    log = log_path(f"pip-{spec.name}.log")
    with log.open("w") as output:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(spec.path)], check=True)
        pinned = [f"{name}=={workspace[name]}" for name in spec.pinned if workspace.get(name)]
        pip = [str(spec.python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        pinned_install = [*pip, *spec.requirements, *pinned]
        if subprocess.run(pinned_install, stdout=output, stderr=output, check=False).returncode:
            print(
                "  the workspace's library versions are not installable; taking the index's", file=sys.stderr
            )
            subprocess.run([*pip, *spec.requirements], stdout=output, stderr=output, check=False)
    if not _ready(spec):
        raise SetupError(f"could not install {spec.requirements[0]} (see {log})")
    return spec.python
