"""The parts of the supervisors that can be exercised without a command: filters, walks, the pipe."""

from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path
from typing import Any

import click
import pytest

import uvicorn
from uvicorn.config import Config
from uvicorn.supervisors import ChangeReload, Multiprocess
from uvicorn.supervisors._worker import READY, STOPPED_ACCEPTING, Process
from uvicorn.supervisors.statreload import StatReload
from uvicorn.supervisors.watchfilesreload import FileFilter, WatchFilesReload


def reload_config(project: Path, **options: object) -> Config:
    return Config("app:app", reload=True, reload_dirs=[str(project)], **options)  # type: ignore[arg-type]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for relative in (
        "app.py",
        "pkg/mod.py",
        "pkg/data.json",
        ".venv/lib/site.py",
        "vendor/lib.py",
        "~tmp/x.py",
    ):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    return tmp_path


def test_change_reload_is_watchfiles_when_installed() -> None:
    assert ChangeReload is WatchFilesReload


def test_file_filter_defaults(tree: Path) -> None:
    accepts = FileFilter(reload_config(tree))
    assert accepts(tree / "app.py")
    assert accepts(tree / "pkg" / "mod.py")
    assert not accepts(tree / "pkg" / "data.json")  # not included
    assert not accepts(tree / ".hidden.py")  # .* excluded
    assert not accepts(tree / ".venv" / "lib" / "site.py")  # inside a dot-folder
    assert not accepts(tree / "~tmp" / "x.py")  # inside a ~ folder
    assert not accepts(tree / "pkg" / "mod.pyc")


def test_file_filter_user_patterns_and_directories(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    accepts = FileFilter(
        reload_config(
            tree, reload_includes=["*.json", ".*", "vendor/lib.py"], reload_excludes=["pkg", "*.py"]
        )
    )
    assert not accepts(tree / "app.py")  # *.py excluded: the default include is gone
    assert not accepts(tree / "pkg" / "data.json")  # inside the excluded directory
    assert accepts(tree / "settings.json")
    assert accepts(tree / ".venv" / "lib" / "site.json")  # ".*" included: dot-folders count again
    assert accepts(tree / "vendor" / "lib.py")  # named explicitly: wins over the *.py exclude


def test_stat_reload_walks_python_files_outside_hidden_and_excluded_folders(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    reloader = StatReload(reload_config(tree, reload_excludes=["vendor"]), target=print, sockets=[])
    found = {path.relative_to(tree).as_posix() for path in reloader.iter_py_files()}
    assert found == {"app.py", "pkg/mod.py", "~tmp/x.py"}


def test_stat_reload_reports_a_changed_file(tree: Path) -> None:
    reloader = StatReload(reload_config(tree, reload_delay=0), target=print, sockets=[])
    assert reloader.should_restart() is None  # first look: remembers the times
    stat = (tree / "pkg" / "mod.py").stat()
    os.utime(tree / "pkg" / "mod.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert reloader.should_restart() == [tree / "pkg" / "mod.py"]


def test_the_health_pipe_both_ends_in_one_process() -> None:
    process = Process(Config("app:app"), sockets=[])
    responder = threading.Thread(target=process.always_pong, daemon=True)
    responder.start()
    assert process.ping(timeout=5)
    assert not process.is_ready(timeout=5)  # its server has not started
    process.server.started = True
    assert process.is_ready(timeout=5)
    # Not serving from a loop: stop-accepting is answered at once.
    assert process.stop_accepting(timeout=5)
    process._announce_ready()
    assert not process.announced_ready
    assert process.ping(timeout=5)  # reading the reply also reads the announcement before it
    assert process.announced_ready
    process.kill()  # never started: only closes the pipe, which ends the responder
    responder.join(5)
    assert not responder.is_alive()
    assert {READY, STOPPED_ACCEPTING} == {"ready", "stopped-accepting"}


def test_a_broken_pipe_fails_the_health_check() -> None:
    process = Process(Config("app:app"), sockets=[])
    process.parent_conn.close()
    assert not process.ping(timeout=0.1)
    assert not process.check_health(timeout=5)


def test_multiprocess_restores_signal_handlers_after_running(monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    before = signal.getsignal(signal.SIGHUP)
    supervisor = Multiprocess(Config("app:app", workers=2), sockets=[])
    assert signal.getsignal(signal.SIGHUP) != before
    monkeypatch.setattr(supervisor, "init_processes", lambda: supervisor.signal_queue.append(signal.SIGTERM))
    supervisor.run()
    assert signal.getsignal(signal.SIGHUP) == before


def test_uvicorn_main_is_the_command_before_and_after_importing_the_module(
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = importlib.import_module("uvicorn.main")
    from uvicorn import main

    assert isinstance(main, click.Command)
    assert module.run is uvicorn.run
    callables: list[Any] = [main, module]  # the module is callable too
    for command in callables:
        with pytest.raises(SystemExit) as exit_info:
            command(["--version"], prog_name="uvicorn")
        assert exit_info.value.code == 0
        assert capsys.readouterr().out.startswith(f"Running uvicorn {uvicorn.__version__} with ")
