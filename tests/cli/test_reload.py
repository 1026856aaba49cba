"""``uvicorn --reload``: real files change, the server restarts (or, for excluded files, does not).

Every test runs with both reloaders: watchfiles (installed) and the stat
reloader (watchfiles hidden from the command's interpreter). A change is
made again and again until the reloader reports it, because a reloader only
sees changes made after it started looking, and nothing tells us when that is.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Launch
from tests.cli.processes import Uvicorn
from tests.processes import wait_until_exited

STARTED = "Application startup complete"
DETECTED = r"(WatchFiles|StatReload) detected changes in (.*)\. Reloading\.\.\."
HIDE_WATCHFILES = "import sys\nsys.modules['watchfiles'] = None  # as if it were not installed"


@pytest.fixture(params=["WatchFiles", "StatReload"])
def reloader(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def start_reload(launch: Launch, reloader: str) -> Iterator[Launch]:
    """Start ``uvicorn --reload ...`` with the reloader under test."""

    def start(*args: str, cwd: Path | None = None) -> Uvicorn:
        options = ("--reload", "--port", "0", "--reload-delay", "0.1", "--no-access-log", *args)
        if reloader == "StatReload":
            server = launch(*options, how="code", code=HIDE_WATCHFILES, cwd=cwd)
        else:
            server = launch(*options, cwd=cwd)
        server.log.wait_for(rf"Started reloader process \[{server.pid}\] using {reloader}")
        server.log.wait_for(STARTED)
        return server

    yield start


@contextlib.contextmanager
def changing(*paths: Path) -> Iterator[None]:
    """Touch ``paths`` (in order) every 0.1 s while the block runs."""
    stop = threading.Event()

    def touch() -> None:
        while True:
            for path in paths:
                path.touch()
            if stop.wait(0.1):
                return

    thread = threading.Thread(target=touch)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def reported_changes(server: Uvicorn) -> list[str]:
    """Every file named in the "detected changes" lines so far."""
    return [name for match in server.log.matches(DETECTED) for name in match.group(2).split(", ")]


def get_pid(server: Uvicorn) -> int:
    return int(httpx.get(server.url, headers={"Connection": "close"}).text)


def test_a_changed_python_file_restarts_the_server_on_the_same_socket(
    start_reload: Launch, project: Path
) -> None:
    server = start_reload("pid_app:app")
    first_pid = get_pid(server)
    app_file = project / "pid_app.py"
    app_file.write_text(
        app_file.read_text() + "\nprint('second version loaded', file=sys.stderr, flush=True)\n"
    )
    with changing(app_file):
        server.log.wait_for(DETECTED)
    assert reported_changes(server)[0] == "'pid_app.py'"
    server.log.wait_for("second version loaded")
    wait_until_exited(first_pid)
    assert get_pid(server) != first_pid  # same port, new process with the new code


def test_the_reloader_never_imports_the_app(start_reload: Launch) -> None:
    server = start_reload("pid_app:app")
    importers = {int(match.group(1)) for match in server.log.matches(r"app module imported in process (\d+)")}
    assert importers == {get_pid(server)}
    assert server.pid not in importers


def test_files_outside_the_patterns_do_not_restart(start_reload: Launch, project: Path) -> None:
    server = start_reload("pid_app:app")
    (project / ".hidden").mkdir()
    ignored = [
        project / "notes.txt",
        project / ".dotfile",
        project / ".hidden" / "tool.py",
        project / "~lock.py",
    ]
    with changing(*ignored, project / "pid_app.py"):
        server.log.wait_for(DETECTED)
    # Changed first, every time, and never reported: the filter dropped them.
    assert set(reported_changes(server)) == {"'pid_app.py'"}


def test_reload_dir_watches_only_that_directory(start_reload: Launch, project: Path) -> None:
    for name in ("src", "other"):
        (project / name).mkdir()
        (project / name / "module.py").touch()
    server = start_reload("pid_app:app", "--reload-dir", "src")
    watched = server.log.wait_for(r"Will watch for changes in these directories: (.*)").group(1)
    assert watched == repr([str(project / "src")])
    with changing(project / "other" / "module.py", project / "pid_app.py", project / "src" / "module.py"):
        server.log.wait_for(DETECTED)
    assert set(reported_changes(server)) == {"'src/module.py'"}


def test_an_excluded_directory_does_not_restart(start_reload: Launch, project: Path, reloader: str) -> None:
    (project / "vendor").mkdir()
    (project / "vendor" / "lib.py").touch()
    server = start_reload("pid_app:app", "--reload-exclude", "vendor")
    if reloader == "StatReload":
        server.log.wait_for(
            "--reload-include and --reload-exclude have no effect unless watchfiles is installed"
        )
    with changing(project / "vendor" / "lib.py", project / "pid_app.py"):
        server.log.wait_for(DETECTED)
    assert set(reported_changes(server)) == {"'pid_app.py'"}


def test_reload_include_adds_patterns_with_watchfiles(launch: Launch, project: Path) -> None:
    server = launch(
        "pid_app:app", "--reload", "--port", "0", "--reload-include", "*.txt", "--reload-delay", "0.1"
    )
    server.log.wait_for(STARTED)
    with changing(project / "notes.txt"):
        server.log.wait_for(DETECTED)
    assert set(reported_changes(server)) == {"'notes.txt'"}


def test_a_broken_change_keeps_the_reloader_waiting_for_the_fix(start_reload: Launch, project: Path) -> None:
    server = start_reload("pid_app:app")
    app_file = project / "pid_app.py"
    good_code = app_file.read_text()
    app_file.write_text("def broken(:\n")
    with changing(app_file):
        server.log.wait_for(DETECTED)
    server.log.wait_for("SyntaxError")
    app_file.write_text(good_code)
    with changing(app_file):
        server.log.wait_for(DETECTED, count=2)
    server.log.wait_for(STARTED, count=2)
    assert get_pid(server) != server.pid


def test_workers_are_ignored_with_reload(start_reload: Launch) -> None:
    server = start_reload("pid_app:app", "--workers", "2")
    server.log.wait_for('"workers" flag is ignored when reloading is enabled.')
    importers = server.log.matches(r"app module imported in process (\d+)")
    assert len(importers) == 1
    assert "Started parent process" not in server.log.text


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_server_then_the_reloader(start_reload: Launch, sig: signal.Signals) -> None:
    server = start_reload("pid_app:app")
    worker = get_pid(server)
    server.send_signal(sig)
    assert server.wait_exit() == 0
    wait_until_exited(worker)
    log = server.log.text
    assert f"Finished server process [{worker}]" in log
    assert log.splitlines()[-1].endswith(f"Stopping reloader process [{server.pid}]")
    assert "Traceback" not in log
