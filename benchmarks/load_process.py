"""Run a load generator pinned to the load core and account for the CPU it used.

The CPU share of the load generator tells whether a number describes the
server or the client: a load generator near 100% of its core is the limit.
"""

from __future__ import annotations

import resource
import subprocess
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadRun:
    """A finished load generator: its exit code, output and CPU share of its core."""

    returncode: int
    stdout: str
    stderr: str
    cpu_share: float


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_load(command: list[str], *, cpu: int, timeout: float, cwd: str | None = None) -> LoadRun:
    """Run ``command`` under ``taskset -c cpu`` and wait for it.

    CPU time comes from the children's rusage: the runner reaps no other
    child while a load generator runs (servers are reaped when stopped), so
    the difference is this command's alone.
    """
    cpu_before, started = _children_cpu_seconds(), time.monotonic()
    try:
        finished = subprocess.run(
            ["taskset", "-c", str(cpu), *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"{command[0]} did not finish within {timeout:.0f}s") from None
    wall = max(time.monotonic() - started, 1e-9)
    return LoadRun(
        returncode=finished.returncode,
        stdout=finished.stdout,
        stderr=finished.stderr,
        cpu_share=(_children_cpu_seconds() - cpu_before) / wall,
    )
