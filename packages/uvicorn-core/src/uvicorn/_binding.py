"""Open the listening socket a supervisor shares with its workers (``Config.bind_socket``).

Also where the "Uvicorn running on ..." line and the wording of bind errors
live, so the single-process server (which lets asyncio bind) says the same.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from typing import TYPE_CHECKING, Any

from uvicorn._ansi import style
from uvicorn._startup import startup_failure

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = ["adopt_fd", "bind_error_hint", "bind_listening_socket", "log_running_on"]

logger = logging.getLogger("uvicorn.error")

_QUIT_HINT = " (Press CTRL+C to quit)"
_UDS_PERMISSIONS = 0o666  # any local user may connect, as with a TCP port


def bind_listening_socket(config: Config) -> socket.socket:
    """Bind (but do not listen on) the socket ``config`` asks for: ``uds``, else ``fd``, else host/port.

    The socket is inheritable so worker processes can serve from it. A failure
    is one log line and exit code 3.
    """
    if config.uds is not None:
        sock = _bind_unix(config.uds)
        log_running_on("unix socket %s", config.uds)
    elif config.fd is not None:
        sock = adopt_fd(config.fd)
        log_running_on("socket %s", sock.getsockname())
    else:
        sock = _bind_tcp(config.host, config.port)
        host = config.host or "0.0.0.0"
        log_running_on(_url_format(host), "https" if config.is_ssl else "http", host, sock.getsockname()[1])
    sock.set_inheritable(True)
    return sock


def log_running_on(address_format: str, *args: Any) -> None:
    """Log "Uvicorn running on <address> (Press CTRL+C to quit)", the address bold when coloured."""
    logger.info(
        "Uvicorn running on " + address_format + _QUIT_HINT,
        *args,
        extra={"color_message": "Uvicorn running on " + style(address_format, bold=True) + _QUIT_HINT},
    )


def _url_format(host: str) -> str:
    # IPv6 literals need brackets in a URL.
    return "%s://[%s]:%d" if ":" in host else "%s://%s:%d"


def bind_error_hint(exc: OSError) -> str:
    """What the user can do about a failed bind, by errno (empty when we have no advice)."""
    if isinstance(exc, socket.gaierror):
        return " Check --host: it must be an IP address or a name that resolves."
    if exc.errno == errno.EADDRINUSE:
        return " Another process is listening there: stop it or choose another --port."
    if exc.errno == errno.EACCES:
        return " Binding there needs privileges: use a port above 1023, or run with the right permissions."
    if exc.errno == errno.EADDRNOTAVAIL:
        return " That address is not on this machine: check --host."
    return ""


def _bind_tcp(host: str | None, port: int) -> socket.socket:
    family = socket.AF_INET6 if host and ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly, as upstream does: ``sock.proto`` then says TCP (not 0).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host or "", port))
    except OSError as exc:
        sock.close()
        startup_failure("Could not bind to %s port %d: %s.%s", host, port, _reason(exc), bind_error_hint(exc))
    return sock


def _bind_unix(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, _UDS_PERMISSIONS)
    except OSError as exc:
        sock.close()
        hint = (
            " Remove the stale socket file or choose another --uds path."
            if exc.errno == errno.EADDRINUSE
            else ""
        )
        startup_failure("Could not bind to unix socket %s: %s.%s", path, _reason(exc), hint)
    return sock


def adopt_fd(fd: int) -> socket.socket:
    """A socket for the open descriptor ``fd`` (a duplicate); one error line and exit 3 if it is none."""
    # Duplicate, so closing our socket object leaves the caller's descriptor open;
    # let the socket module detect the family (TCP or UNIX) from the descriptor.
    duplicate = -1
    try:
        duplicate = os.dup(fd)
        return socket.socket(fileno=duplicate)
    except OSError as exc:
        if duplicate != -1:
            os.close(duplicate)
        startup_failure("Invalid value for 'fd' (--fd): %d is not an open socket (%s).", fd, _reason(exc))


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
