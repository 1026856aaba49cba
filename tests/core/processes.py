"""Run Python code in a child process: for exit codes, signals and what a user sees on stderr."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

# A safety net against a hanging child, never a synchronisation device.
PROCESS_TIMEOUT = 60

_REPO_ROOT = Path(__file__).resolve().parents[2]


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child: ours, unbuffered, with the repository importable."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
    env.pop("WEB_CONCURRENCY", None)
    env.pop("FORWARDED_ALLOW_IPS", None)
    env.update(extra)
    return env


def run_python(code: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (dedented) with this interpreter and return its exit code and output."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        check=False,
    )


def error_lines(stderr: str) -> list[str]:
    """The non-empty lines of ``stderr``."""
    return [line for line in stderr.splitlines() if line.strip()]


class ServerProcess:
    """A child process running a server; read its stderr line by line to follow its life."""

    def __init__(self, code: str, cwd: Path | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=cwd,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.seen: list[str] = []

    def wait_for_line(self, pattern: str) -> re.Match[str]:
        """Read stderr until a line matches ``pattern``; fail if the process ends first."""
        assert self.process.stderr is not None
        regex = re.compile(pattern)
        while True:
            line = self.process.stderr.readline()
            if not line:
                raise AssertionError(f"process ended before {pattern!r}; stderr was:\n" + "".join(self.seen))
            self.seen.append(line)
            match = regex.search(line)
            if match:
                return match

    def wait_until_listening(self) -> int:
        """Wait for "Uvicorn running on ..." and return the port."""
        match = self.wait_for_line(r"Uvicorn running on \S+:(\d+) ")
        return int(match.group(1))

    def finish(self) -> tuple[int, str, str]:
        """Wait for the exit; return the exit code, stdout and the whole stderr."""
        stdout, stderr = self.process.communicate(timeout=PROCESS_TIMEOUT)
        return self.process.returncode, stdout, "".join(self.seen) + stderr

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
