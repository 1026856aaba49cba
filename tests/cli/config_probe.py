"""Installed before ``uvicorn.main.main()`` in a child: print the ``Config`` the command built, as JSON.

Everything up to the moment a server would start is real (option parsing,
environment variables, env file, ``uvicorn.run``, ``Config``); then, instead of
serving (``Server.run``) or supervising (the supervisors' ``run``), the child
prints the config's options on stdout and exits.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from typing import Any

from uvicorn import supervisors
from uvicorn.config import Config
from uvicorn.server import Server

NOT_OPTIONS = {"self", "app", "timeout_notify", "callback_notify", "ssl_context_factory"}
OPTION_NAMES = [name for name in inspect.signature(Config.__init__).parameters if name not in NOT_OPTIONS]


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return "<dict>"
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def report(config: Config, how: str) -> None:
    values = {name: _plain(getattr(config, name)) for name in OPTION_NAMES}
    values["app"] = config.app
    values["run_by"] = how
    values["environ"] = {name: os.environ.get(name) for name in ("FROM_ENV_FILE",)}
    values["sys_path_0"] = sys.path[0]
    values["header_types"] = sorted({type(header).__name__ for header in config.headers})
    print(json.dumps(values), flush=True)


def _server_run(self: Server, sockets: Any = None) -> None:
    report(self.config, "Server")
    self.started = True  # so uvicorn.run exits with 0


def _reloader_run(self: supervisors.BaseReload) -> None:
    report(self.config, "ChangeReload")


def _multiprocess_run(self: supervisors.Multiprocess) -> None:
    report(self.config, "Multiprocess")


def install() -> None:
    """Replace serving and supervising by :func:`report` (in the child process only)."""
    Server.run = _server_run  # type: ignore[method-assign]
    supervisors.ChangeReload.run = _reloader_run  # type: ignore[method-assign]
    supervisors.Multiprocess.run = _multiprocess_run  # type: ignore[method-assign]
