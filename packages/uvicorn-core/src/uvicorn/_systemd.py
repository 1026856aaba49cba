"""Tell systemd how the service is doing: the ``sd_notify`` protocol, spoken directly.

When systemd starts a service with ``Type=notify`` (or ``notify-reload``) it
sets ``NOTIFY_SOCKET`` to a UNIX datagram socket (a path, or ``@name`` in the
abstract namespace). Each datagram is newline-separated ``KEY=VALUE``
assignments: ``READY=1`` once serving, ``RELOADING=1`` (with ``MONOTONIC_USEC``)
when a reload starts, ``STOPPING=1`` when shutting down, ``STATUS=...`` for
``systemctl status``, and ``WATCHDOG=1`` at least every ``WATCHDOG_USEC``
microseconds when the unit has ``WatchdogSec=`` (we send at half of it).

Only the process systemd started speaks: the supervisors (``--workers``,
``--reload``) notify for their children, which never see ``NOTIFY_SOCKET``
(see :func:`forget_notify_socket`). Without ``NOTIFY_SOCKET`` every call
here does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time

__all__ = ["NOTIFY_VARIABLES", "SystemdNotifier", "forget_notify_socket"]

logger = logging.getLogger("uvicorn.error")

#: The environment variables of the protocol, which a child process must not inherit.
NOTIFY_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


def forget_notify_socket() -> None:
    """Remove the notify variables from this process's environment (a supervised child's first step)."""
    for name in NOTIFY_VARIABLES:
        os.environ.pop(name, None)


class SystemdNotifier:
    """Sends notifications to ``NOTIFY_SOCKET``; silent when there is none.

    Created from the environment when a server or supervisor starts (not when
    it is built, so a ``Server`` pickled into a child reads the child's).
    """

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self._address = _socket_address(address) if address else None
        self._socket: socket.socket | None = None
        #: Seconds between two ``WATCHDOG=1`` (half the unit's ``WatchdogSec``), or None.
        self.watchdog_interval = watchdog_usec / 2_000_000 if watchdog_usec and self._address else None
        self._next_watchdog = 0.0
        self._warned = False

    @classmethod
    def from_environment(cls) -> SystemdNotifier:
        """The notifier ``NOTIFY_SOCKET`` / ``WATCHDOG_USEC`` / ``WATCHDOG_PID`` describe."""
        watchdog_usec: int | None = None
        watchdog_pid = os.environ.get("WATCHDOG_PID")
        if watchdog_pid is None or watchdog_pid == str(os.getpid()):
            try:
                watchdog_usec = int(os.environ.get("WATCHDOG_USEC", ""))
            except ValueError:
                watchdog_usec = None
        return cls(os.environ.get("NOTIFY_SOCKET"), watchdog_usec)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def ready(self, status: str) -> None:
        """``READY=1``: the service serves (startup done, or a reload finished)."""
        self.notify("READY=1", "STATUS=" + status)

    def reloading(self, status: str) -> None:
        """``RELOADING=1`` with the ``MONOTONIC_USEC`` that ``Type=notify-reload`` requires."""
        if self._address is None:
            return  # (and CLOCK_MONOTONIC is not on every platform)
        monotonic_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.notify("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec}", "STATUS=" + status)

    def stopping(self, status: str = "Shutting down") -> None:
        """``STOPPING=1``: the graceful shutdown has begun."""
        self.notify("STOPPING=1", "STATUS=" + status)

    def status(self, text: str) -> None:
        """``STATUS=``: a line for ``systemctl status``."""
        self.notify("STATUS=" + text)

    def watchdog(self) -> None:
        """``WATCHDOG=1`` when half the watchdog interval has passed since the last one.

        Call it from the loop whose health it vouches for (the server's tick, the
        supervisor's loop): if that loop hangs, the pings stop and systemd acts.
        """
        if self.watchdog_interval is None:
            return
        now = time.monotonic()
        if now >= self._next_watchdog:
            self._next_watchdog = now + self.watchdog_interval
            self.notify("WATCHDOG=1")

    def notify(self, *assignments: str) -> None:
        """Send one datagram of ``KEY=VALUE`` lines; a failure is logged, never raised."""
        if self._address is None:
            return
        message = "\n".join(assignment.replace("\n", " ") for assignment in assignments).encode()
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # not inherited by children
            self._socket.sendto(message, self._address)
        except OSError as exc:
            # Once as a warning: a watchdog would repeat it every few seconds.
            log = logger.debug if self._warned else logger.warning
            self._warned = True
            log("Could not notify systemd (NOTIFY_SOCKET): %s", exc)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _socket_address(address: str) -> str | bytes | None:
    if address.startswith("@"):
        return b"\0" + address[1:].encode()  # the abstract namespace (Linux)
    if address.startswith("/"):
        return address
    # vsock: and other transports systemd may offer are not for a local service.
    logger.warning("NOTIFY_SOCKET=%s is not a UNIX socket path; not notifying systemd.", address)
    return None
