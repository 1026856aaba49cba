"""The idle countdown of a kept-alive HTTP connection (``timeout_keep_alive``).

The timer is armed when a connection goes idle and is left running while a
request is served: cancelling and re-creating a timer per request cost more than
parsing the request. When it fires it closes an idle connection, or, if it was
armed for an earlier idle period, waits out the rest of the current one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class KeepAliveTimer:
    """Mixed into the HTTP connection, which provides ``loop``, ``transport`` and ``timeout_keep_alive``."""

    __slots__ = ("_clock", "_idle_since", "_keep_alive_rearm", "_keep_alive_timer")

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    timeout_keep_alive: float

    def _init_keep_alive(self) -> None:
        self._keep_alive_timer: asyncio.TimerHandle | None = None
        # The clock of the loop's timers (call_later counts in loop.time(), which need not be
        # time.monotonic(): uvloop's, or a test's virtual clock). A stand-in loop without
        # time() (upstream's tests) gets time.monotonic.
        self._clock: Callable[[], float] = getattr(self.loop, "time", time.monotonic)
        # self._clock() when the connection last went idle; None while it is busy.
        # The connection sets it to None itself when bytes arrive (cheaper than a call).
        self._idle_since: float | None = None
        self._keep_alive_rearm = False  # the running timer was armed for an earlier idle period

    @property
    def timeout_keep_alive_task(self) -> asyncio.TimerHandle | None:
        """The keep-alive timer while the connection is idle; None while a request is served."""
        return self._keep_alive_timer if self._idle_since is not None else None

    def timeout_keep_alive_handler(self) -> None:
        """No new request within ``timeout_keep_alive`` of the last response: close."""
        if not self.transport.is_closing():
            self.transport.close()

    def _start_keep_alive_timer(self) -> None:
        """The connection is idle from now on."""
        self._idle_since = self._clock()
        if self._keep_alive_timer is None:
            self._keep_alive_rearm = False
            self._keep_alive_timer = self.loop.call_later(self.timeout_keep_alive, self._on_keep_alive_timer)
        else:
            self._keep_alive_rearm = True

    def _stop_keep_alive_timer(self) -> None:
        if self._keep_alive_timer is not None:
            self._keep_alive_timer.cancel()
            self._keep_alive_timer = None
        self._idle_since = None

    def _on_keep_alive_timer(self) -> None:
        self._keep_alive_timer = None
        idle_since = self._idle_since
        if idle_since is None:
            return  # serving a request; its response arms the timer again
        if self._keep_alive_rearm:
            self._keep_alive_rearm = False
            remaining = idle_since + self.timeout_keep_alive - self._clock()
            if remaining > 0:
                self._keep_alive_timer = self.loop.call_later(remaining, self._on_keep_alive_timer)
                return
        self.timeout_keep_alive_handler()
