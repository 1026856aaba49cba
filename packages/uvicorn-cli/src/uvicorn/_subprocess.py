"""Start server processes for the supervisors: always with the ``spawn`` method.

``spawn`` starts a fresh interpreter, so a worker never inherits the
supervisor's threads, locks or half-initialised state (``fork`` would), and
behaves the same on every platform. The listening sockets travel to the child
as duplicated file descriptors; the app itself is imported by the child only.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Callable
from multiprocessing.context import SpawnProcess
from socket import socket
from typing import TYPE_CHECKING

from uvicorn._startup import exit_on_startup_error, startup_failure
from uvicorn._systemd import forget_notify_socket

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = [
    "SpawnProcess",
    "check_app_import_string",
    "get_subprocess",
    "listen_now",
    "spawn",
    "subprocess_started",
]

logger = logging.getLogger("uvicorn.error")

# Lets sockets and pipe ends be pickled into a spawned child (as duplicated descriptors).
multiprocessing.allow_connection_pickling()
spawn = multiprocessing.get_context("spawn")


def get_subprocess(config: Config, target: Callable[..., None], sockets: list[socket]) -> SpawnProcess:
    """A not yet started child process that will call ``target(sockets=sockets)``.

    ``target`` is typically ``Server.run``; it must be picklable (a module-level
    function or a bound method of a picklable object), as must ``config``.
    """
    return spawn.Process(
        target=subprocess_started,
        kwargs={"config": config, "target": target, "sockets": sockets, "stdin_fileno": _stdin_fileno()},
    )


def subprocess_started(
    config: Config, target: Callable[..., None], sockets: list[socket], stdin_fileno: int | None
) -> None:
    """The first thing a spawned child runs: restore stdin and logging, then call ``target``."""
    if stdin_fileno is not None:
        # A spawned child starts with stdin closed; debuggers (pdb in the app) need the terminal.
        sys.stdin = os.fdopen(stdin_fileno)
    # The supervisor speaks to systemd for all its children (systemd accepts only its main process).
    forget_notify_socket()
    try:
        # A mistake in the options is one line and exit code 3 here too, as in uvicorn.run().
        with exit_on_startup_error():
            # Logging configuration is process state: the child starts without it.
            config.configure_logging()
            target(sockets=sockets)
    except KeyboardInterrupt:
        # Ctrl+C reaches the whole process group; the supervisor already knows we are stopping,
        # and a traceback from every worker would only bury its messages.
        pass


def check_app_import_string(config: Config) -> None:
    """Exit with ``STARTUP_FAILURE`` if ``config.app`` is a string without ``module:attribute`` form.

    Supervisors never import the app, so each child would fail on it in turn;
    the format alone can be checked here, once, before any child starts.
    """
    if isinstance(config.app, str):
        module, _, attribute = config.app.partition(":")
        if not module or not attribute:
            startup_failure(
                'Error loading ASGI app. Import string "%s" must be in format "<module>:<attribute>".',
                config.app,
            )


def listen_now(sockets: list[socket], backlog: int) -> None:
    """Put the shared sockets in the listening state before any child serves them.

    Connections that arrive while the first server process is still starting
    then wait in the backlog instead of being refused. (Each server calls
    ``listen`` again when it starts serving, which changes nothing.)
    """
    for sock in sockets:
        sock.listen(backlog)


def _stdin_fileno() -> int | None:
    try:
        return sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        # No stdin at all (None under some service managers) or one without a descriptor.
        return None
