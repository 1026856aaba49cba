"""The directory a page's samples share, and running a sample's command in it.

The samples of one page run in page order in one workspace: a file written by
one sample (``main.py``, a log config, a certificate) is there for the samples
after it, as it would be for a reader following the page.
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from tests.repo.doc_samples import Sample
from tests.repo.sample_certificates import has_fallback, self_signed_like_openssl
from tests.repo.sample_commands import Command, listen_on_free_port, substitute_path, substitute_port
from tests.repo.sample_processes import VENV_BIN, Expectation, check_answer, run_to_end, running, sample_env

SUPPORT_DIR = Path(__file__).parent / "sample_support"


@dataclass
class Workspace:
    """The directory a page's samples run in, and what the last command printed."""

    path: Path
    last_output: list[str] = field(default_factory=list)

    def write(self, relative: str, text: str) -> Path:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def provide(self, needs: str) -> None:
        """Copy support files a sample relies on but the page does not show (``needs=a.py,pkg/b.py``)."""
        for relative in filter(None, needs.split(",")):
            source = SUPPORT_DIR / relative
            assert source.is_file(), f"no support file {relative} in {SUPPORT_DIR}"
            if not (self.path / relative).exists():
                self.write(relative, source.read_text())


@contextlib.contextmanager
def imported_from(workspace: Path) -> Iterator[Callable[[str], ModuleType]]:
    """Import modules from the workspace; afterwards ``sys.modules`` and ``sys.path`` are as before.

    Pages reuse names (``main``, ``asgi``), so modules of the same name that a
    previous page imported are set aside for the duration.
    """
    names = {p.stem for p in workspace.iterdir() if p.suffix == ".py" or p.is_dir()}
    set_aside = {name: module for name, module in sys.modules.items() if name.split(".")[0] in names}
    for name in set_aside:
        del sys.modules[name]
    sys.path.insert(0, str(workspace))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(workspace))
        for name in [n for n in sys.modules if n.split(".")[0] in names]:
            del sys.modules[name]
        sys.modules.update(set_aside)


def module_name(relative: str) -> str:
    return relative.removesuffix(".py").replace("/", ".")


_RUNNABLE = {"uvicorn", "gunicorn", "openssl"}
_STOP_SIGNAL = {"gunicorn": signal.SIGTERM}


def resolve(command: Command) -> list[str]:
    """The argv to run: our interpreter for ``python``, the venv's programs first."""
    name = Path(command.argv[0]).name
    if name in ("python", "python3"):
        return [sys.executable, *command.argv[1:]]
    assert command.program in _RUNNABLE, f"no runner for {command.program!r}: {command.text}"
    executable = shutil.which(command.argv[0], path=str(VENV_BIN)) or shutil.which(command.argv[0])
    assert executable, f"{command.argv[0]} is not installed"
    return [executable, *command.argv[1:]]


def serve_command(
    command: Command,
    sample: Sample,
    workspace: Workspace,
    pass_fds: tuple[int, ...] = (),
    stop: signal.Signals | None = None,
) -> None:
    """Start a server command, make the sample's request, stop it the way its user would.

    Ctrl+C (SIGINT) stops ``uvicorn`` and Python scripts, SIGTERM stops
    gunicorn and services; the exit must be clean: 0, or death by SIGTERM,
    which is how a single uvicorn server ends after its graceful shutdown on
    SIGTERM and what systemd counts as a clean stop.
    """
    if port := sample.option("port"):
        substitute_port(command, port)
    if uds := sample.option("uds"):
        substitute_path(command, uds, str(workspace.path / Path(uds).name))
    if not pass_fds:
        listen_on_free_port(command)
    if sample.option("stop"):
        stop = signal.Signals[sample.option("stop")]
    stop = stop or _STOP_SIGNAL.get(command.program, signal.SIGINT)
    with running(resolve(command), workspace.path, sample_env(command.env), pass_fds) as child:
        scheme, host, port_number = child.address()
        check_answer(scheme, host, port_number, Expectation.from_options(sample.options, workspace.path))
        code = child.stop(stop)
    workspace.last_output = child.output.lines
    assert code in (0, -signal.SIGTERM), f"{command.text} exited with {code}:\n{child.output.text}"


def finish_command(command: Command, sample: Sample, workspace: Workspace) -> None:
    """Run a command that ends by itself: it must exit with ``exit=`` (default 0) and print ``expect=``.

    Without openssl on the machine, a certificate command is stood in for by
    ``sample_certificates`` (the files it makes are what later samples need).
    """
    if has_fallback(command) and shutil.which(command.argv[0]) is None:
        self_signed_like_openssl(command, workspace.path)
        workspace.last_output = []
        return
    result = run_to_end(resolve(command), workspace.path, sample_env(command.env))
    printed = result.stdout + result.stderr
    workspace.last_output = printed.splitlines()
    expected = int(sample.option("exit", "0"))
    assert result.returncode == expected, f"{command.text} exited with {result.returncode}:\n{printed}"
    assert sample.option("expect") in printed, f"{command.text}: {sample.option('expect')!r} not printed"
