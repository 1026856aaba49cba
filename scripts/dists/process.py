"""Run the commands of the distribution checks: echoed, bounded in time, and cleaned up completely."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


class StepFailed(Exception):
    """A command of the checks failed or ran out of time; the message says which and how."""


def run(
    command: Sequence[str | Path],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run ``command`` to its end, its output going to ours; raise StepFailed unless it exits with 0.

    ``timeout`` is a safety bound, not a wait: a command still running then is
    killed together with every process it started (it runs in its own session,
    so a smoke test's server cannot outlive it), and the check fails.
    """
    argv = [str(part) for part in command]
    print("+", " ".join(argv), flush=True)
    process = subprocess.Popen(argv, cwd=cwd, env=None if env is None else dict(env), start_new_session=True)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_session(process)
        raise StepFailed(f"{argv[0]} did not finish within {timeout:.0f} s and was killed") from None
    except BaseException:
        # Ctrl+C or any other stop of the checks: leave no process behind.
        _kill_session(process)
        raise
    if code != 0:
        raise StepFailed(f"{' '.join(argv)} exited with {code}")


def _kill_session(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
