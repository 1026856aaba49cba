"""Open listening sockets: for the supervisors (``Config.bind_socket(s)``) and the server itself.

Also where the "Uvicorn running on ..." lines and the wording of bind errors
live, so every way of starting says the same.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from uvicorn._ansi import style
from uvicorn._bind_addresses import BindAddress, bind_addresses
from uvicorn._startup import startup_failure

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = [
    "BindFailure",
    "Listener",
    "adopt_fd",
    "bind_error_hint",
    "bind_listening_socket",
    "bind_listening_sockets",
    "close_listeners",
    "log_listeners",
    "log_running_on",
    "open_listeners",
    "reuse_port_copy",
]

logger = logging.getLogger("uvicorn.error")

_QUIT_HINT = " (Press CTRL+C to quit)"
_UDS_PERMISSIONS = 0o666  # any local user may connect, as with a TCP port


class BindFailure(Exception):
    """A listening socket could not be opened; ``str()`` is the one line to log."""


@dataclass
class Listener:
    """One bind address and the sockets opened for it (a host name may resolve to several)."""

    address: BindAddress
    sockets: list[socket.socket] = field(default_factory=list)


def bind_listening_socket(config: Config) -> socket.socket:
    """Bind (but do not listen on) the socket ``config`` asks for: ``uds``, else ``fd``, else host/port.

    The socket is inheritable so worker processes can serve from it. A failure
    is one log line and exit code 3.
    """
    if config.uds is not None:
        sock = _or_exit(_bind_unix, config.uds)
        log_running_on("unix socket %s", config.uds)
    elif config.fd is not None:
        sock = adopt_fd(config.fd)
        log_running_on("socket %s", sock.getsockname())
    else:
        sock = _or_exit(
            _bind_tcp_socket,
            socket.AF_INET6 if ":" in (config.host or "") else socket.AF_INET,
            config.host or "",
            config.port,
        )
        host = config.host or "0.0.0.0"
        log_running_on(_url_format(host), "https" if config.is_ssl else "http", host, sock.getsockname()[1])
    sock.set_inheritable(True)
    return sock


def bind_listening_sockets(config: Config) -> list[socket.socket]:
    """Every socket ``config`` listens on (``bind``, or the upstream options), bound and logged.

    For a supervisor: the sockets are inheritable, a failure is one line and exit 3.
    """
    try:
        listeners = open_listeners(config)
    except BindFailure as exc:
        startup_failure("%s", exc)
    log_listeners(listeners, config.is_ssl)
    return [sock for listener in listeners for sock in listener.sockets]


def open_listeners(config: Config) -> list[Listener]:
    """Bind a socket (not yet listening) for every address of ``config``; raise :class:`BindFailure`.

    On failure the sockets already opened are closed again.
    """
    addresses = bind_addresses(config)
    reuse_port = bool(getattr(config, "reuse_port", False))
    listeners: list[Listener] = []
    try:
        for address in addresses:
            listener = Listener(address)
            listeners.append(listener)
            if address.kind == "unix":
                listener.sockets.append(_bind_unix(address.path))
            elif address.kind == "fd":
                listener.sockets.append(_adopt(address.fd))
            else:
                listener.sockets.extend(_bind_tcp(address, reuse_port, _dual_stack(address, addresses)))
    except BindFailure:
        close_listeners(listeners)
        raise
    for listener in listeners:
        for sock in listener.sockets:
            sock.set_inheritable(True)
    return listeners


def close_listeners(listeners: Iterable[Listener]) -> None:
    """Close the sockets and remove the socket files of UNIX listeners."""
    for listener in listeners:
        for sock in listener.sockets:
            sock.close()
        if listener.address.kind == "unix" and os.path.exists(listener.address.path):
            os.remove(listener.address.path)


def reuse_port_copy(sock: socket.socket) -> socket.socket:
    """Another TCP socket bound to the address of ``sock`` (bound with SO_REUSEPORT), inheritable.

    The kernel spreads new connections over the listening sockets of such a group.
    """
    copy = socket.socket(sock.family, socket.SOCK_STREAM)
    try:
        copy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        copy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if sock.family == socket.AF_INET6:
            v6only = sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
            copy.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
        copy.bind(sock.getsockname())
    except OSError:
        copy.close()
        raise
    copy.set_inheritable(True)
    return copy


def log_listeners(listeners: Iterable[Listener], is_ssl: bool) -> None:
    """One "Uvicorn running on ..." line per address, with the port the kernel picked for port 0."""
    for listener in listeners:
        address = listener.address
        if address.kind == "unix":
            log_running_on("unix socket %s", address.path)
        elif address.kind == "fd":
            log_running_on("socket %s", listener.sockets[0].getsockname())
        else:
            host = address.host or "0.0.0.0"
            port = listener.sockets[0].getsockname()[1] if listener.sockets else address.port
            log_running_on(_url_format(host), "https" if is_ssl else "http", host, port)


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


def _or_exit(bind: Any, *args: Any) -> socket.socket:
    try:
        sock: socket.socket = bind(*args)
    except BindFailure as exc:
        startup_failure("%s", exc)
    return sock


def _dual_stack(address: BindAddress, addresses: list[BindAddress]) -> bool:
    """``::`` serves IPv4 too, unless IPv4 is bound on the same port separately (it would clash)."""
    if address.host != "::":
        return False
    return not any(
        other.kind == "tcp" and other.port == address.port and ":" not in other.host for other in addresses
    )


def _bind_tcp(address: BindAddress, reuse_port: bool, dual_stack: bool) -> list[socket.socket]:
    """Sockets for every address ``host`` resolves to (one for an IP address), as asyncio would bind."""
    host = address.host
    if host and _is_ip_literal(host):
        families = [(socket.AF_INET6 if ":" in host else socket.AF_INET, host)]
    else:
        try:
            infos = socket.getaddrinfo(
                host or None, address.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )
        except socket.gaierror as exc:
            raise BindFailure(
                f"Could not bind to {host} port {address.port}: {_reason(exc)}.{bind_error_hint(exc)}"
            ) from exc
        families = list(dict.fromkeys((info[0], str(info[4][0])) for info in infos))
    several_families = len({family for family, _ in families}) > 1
    sockets: list[socket.socket] = []
    try:
        for family, ip in families:
            sock = _bind_tcp_socket(
                family, ip, address.port, reuse_port, v6only=several_families or not dual_stack
            )
            sockets.append(sock)
    except BindFailure:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _bind_tcp_socket(
    family: int, host: str, port: int, reuse_port: bool = False, v6only: bool | None = None
) -> socket.socket:
    # IPPROTO_TCP named explicitly, as upstream does: ``sock.proto`` then says TCP (not 0).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6 and v6only is not None:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise BindFailure(
            f"Could not bind to {host} port {port}: {_reason(exc)}.{bind_error_hint(exc)}"
        ) from exc
    return sock


def _is_ip_literal(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host.partition("%")[0])
    except OSError:
        return False
    return True


def _bind_unix(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, _UDS_PERMISSIONS)
    except OSError as exc:
        sock.close()
        hint = (
            " Remove the stale socket file or choose another path." if exc.errno == errno.EADDRINUSE else ""
        )
        raise BindFailure(f"Could not bind to unix socket {path}: {_reason(exc)}.{hint}") from exc
    return sock


def adopt_fd(fd: int) -> socket.socket:
    """A socket for the open descriptor ``fd`` (a duplicate); one error line and exit 3 if it is none."""
    return _or_exit(_adopt, fd)


def _adopt(fd: int) -> socket.socket:
    # Duplicate, so closing our socket object leaves the caller's descriptor open;
    # let the socket module detect the family (TCP or UNIX) from the descriptor.
    duplicate = -1
    try:
        duplicate = os.dup(fd)
        return socket.socket(fileno=duplicate)
    except OSError as exc:
        if duplicate != -1:
            os.close(duplicate)
        raise BindFailure(
            f"Invalid value for 'fd' (--fd): {fd} is not an open socket ({_reason(exc)})."
        ) from exc


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
