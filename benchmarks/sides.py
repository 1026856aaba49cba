"""The servers a run compares ("sides"): ours, upstream uvicorn, granian, hypercorn, the raw ceiling.

Each side turns a ``ServerSpec`` into its own command line, serving the same
ASGI app from ``benchmarks/apps.py`` with the matching settings:

- a uvicorn (ours, upstream 0.55, upstream 0.54): ``serve.py`` under that
  uvicorn's interpreter, one ``uvicorn.run(...)`` call;
- granian: its CLI, ``--interface asgi``, one worker, the same event loop, the
  access log switched as the row says (granian's default is off);
- hypercorn: its CLI with the uvloop or asyncio worker (HTTP/2 rows only);
- raw: ``raw_server.py``, uvloop + httptools writing a canned response with
  no ASGI at all, the ceiling for the hello rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.environment import REPO_ROOT
from benchmarks.server import HOST, ServerSpec

BENCHMARKS_DIR = Path(__file__).resolve().parent
SERVE_SCRIPT = BENCHMARKS_DIR / "serve.py"
RAW_SCRIPT = BENCHMARKS_DIR / "raw_server.py"
APPS_MODULE = "benchmarks.apps"

# Table order; "upstream-0.54" runs only when asked for.
SIDE_ORDER = ("ours", "upstream", "upstream-0.54", "granian", "hypercorn", "raw")
DEFAULT_SIDES = ("ours", "upstream", "granian", "hypercorn", "raw")
TITLES = {
    "ours": "ours",
    "upstream": "upstream 0.55",
    "upstream-0.54": "upstream 0.54",
    "granian": "granian",
    "hypercorn": "hypercorn",
    "raw": "raw ceiling",
}
KINDS = {
    "ours": "uvicorn",
    "upstream": "uvicorn",
    "upstream-0.54": "uvicorn",
    "granian": "granian",
    "hypercorn": "hypercorn",
    "raw": "raw",
}
# Granian's wait for a request head, in ms: its default and its maximum. It has no
# keep-alive timeout of its own; the idle rows ask for the longest wait it allows.
GRANIAN_HEAD_WAIT_MS = 30_000
GRANIAN_MAX_HEAD_WAIT_MS = 60_000
# Granian serves at most --backpressure connections at once (default 1024) and
# closes the others; the idle rows lift that limit above the connections they hold.
GRANIAN_IDLE_BACKPRESSURE = 65_536


@dataclass(frozen=True)
class Side:
    """One server of the comparison: how to start it for a spec, and what it cannot serve."""

    key: str
    python: Path
    # For a uvicorn, the probe's report (benchmarks.venvs.probe_uvicorn); versions for the others.
    probe: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return KINDS[self.key]

    @property
    def title(self) -> str:
        return TITLES[self.key]

    def _script(self, name: str) -> str:
        return str(self.python.parent / name)

    def unavailable(self, spec: ServerSpec) -> str | None:
        """Why this side cannot serve ``spec`` (shown in its cell), or None if it can."""
        if self.kind == "uvicorn":
            if "error" in self.probe:
                return f"error: {self.probe['error']}"
            if spec.app == "ws_echo" and not self.probe.get("ws", {}).get(spec.ws):
                return "n/a (no such ws)"
            if spec.http2 and not self.probe.get("http2"):
                return "n/a (no HTTP/2)"
        if self.kind == "raw" and spec.app != "hello":
            return "n/a"
        return None

    def command(self, spec: ServerSpec, port: int) -> list[str]:
        """The command line that serves ``spec`` on ``port``."""
        if self.kind == "uvicorn":
            http = self.probe.get("http2") if spec.http2 else None
            return [str(self.python), str(SERVE_SCRIPT), *spec.arguments(http), f"--port={port}"]
        if self.kind == "raw":
            return [str(self.python), str(RAW_SCRIPT), f"--port={port}"]
        target = f"{APPS_MODULE}:{spec.app}"
        if self.kind == "granian":
            head_wait = min(spec.timeout_keep_alive * 1000, GRANIAN_MAX_HEAD_WAIT_MS)
            return [
                self._script("granian"),
                "--interface=asgi",
                f"--host={HOST}",
                f"--port={port}",
                "--workers=1",
                f"--loop={spec.loop}",  # auto: uvloop, the only loop library in its venv
                "--http=auto",  # HTTP/1.1, and HTTP/2 with prior knowledge
                "--access-log" if spec.access_log else "--no-access-log",
                f"--working-dir={REPO_ROOT}",
                *self._granian_idle_options(head_wait),
                target,
            ]
        command = [
            self._script("hypercorn"),
            f"--bind={HOST}:{port}",
            f"--worker-class={'asyncio' if spec.loop == 'asyncio' else 'uvloop'}",
            "--workers=1",
            f"--keep-alive={spec.timeout_keep_alive}",
        ]
        if spec.access_log:
            command.append("--access-logfile=-")
        return [*command, target]

    @staticmethod
    def _granian_idle_options(head_wait: int) -> list[str]:
        """Options for the idle rows only (a keep-alive longer than granian's head wait)."""
        if head_wait <= GRANIAN_HEAD_WAIT_MS:
            return []
        return [f"--http1-header-read-timeout={head_wait}", f"--backpressure={GRANIAN_IDLE_BACKPRESSURE}"]

    def describe(self) -> str:
        """One line for the run's header: what this side is and where it comes from."""
        if self.kind == "uvicorn":
            where = self.probe.get("uvicorn_file") or self.probe.get("error")
            return (
                f"uvicorn {self.probe.get('uvicorn', '?')} ({where}), python {self.probe.get('python', '?')}"
            )
        if self.kind == "raw":
            return f"uvloop + httptools, no ASGI ({RAW_SCRIPT.name}), {self.python}"
        versions = self.probe.get("libraries", {})
        return f"{self.kind} {versions.get(self.kind, '?')}, {self.python}"
