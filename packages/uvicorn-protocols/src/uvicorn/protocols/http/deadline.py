"""A timer a connection arms, re-arms and disarms: the request head timeout, and others like it.

Each connection keeps a few such bounds (``timeout_request_head`` on HTTP/1.1
and HTTP/2); :class:`Deadline` is the one way they are kept, so arming twice
never leaves a stray timer behind, and a fired or stopped deadline holds no
timer handle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["Deadline"]


class Deadline:
    """Calls ``expired`` ``seconds`` after :meth:`start` unless :meth:`stop` comes first."""

    __slots__ = ("_expired", "_loop", "_timer", "seconds")

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float, expired: Callable[[], None]) -> None:
        self._loop = loop
        self._expired = expired
        self._timer: asyncio.TimerHandle | None = None
        self.seconds = seconds

    @property
    def running(self) -> bool:
        return self._timer is not None

    def start(self) -> None:
        """Arm the deadline, unless it is running already (it keeps its first start)."""
        if self._timer is None:
            self._timer = self._loop.call_later(self.seconds, self._fire)

    def restart(self) -> None:
        """Arm the deadline afresh: ``seconds`` from now."""
        self.stop()
        self._timer = self._loop.call_later(self.seconds, self._fire)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        self._expired()
