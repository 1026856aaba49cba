"""An asyncio event loop for fuzzing: its clock moves only when told, and it runs until idle.

A protocol under test sets timers (request head timeout, keep-alive, WebSocket
close and keepalive) with ``loop.call_later``. On this loop they fire when the
driver moves the clock (:meth:`FuzzLoop.advance`), never because the machine
was slow, so every example behaves the same on every run and no example waits
for real time.

Everything the protocol schedules (callbacks, the steps of the app's task) runs
in :meth:`FuzzLoop.run_until_idle`, with the client's actions in between, as on
a real server. Exceptions that escape a callback or a task go to the loop's
exception handler; this loop keeps them in :attr:`FuzzLoop.errors` for the test
to assert on.

asyncio offers no public "is anything ready to run" query; ``_ready`` and
``_scheduled`` are the queues of CPython's ``BaseEventLoop`` (stable since 3.4).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

__all__ = ["FuzzLoop"]

# Far more loop iterations than any example needs; reaching it means a busy loop.
_MAX_STEPS = 100_000


class FuzzLoop(asyncio.SelectorEventLoop):
    """A selector event loop with a virtual clock, driven step by step."""

    def __init__(self) -> None:
        super().__init__()
        self._now = 0.0
        self.errors: list[dict[str, Any]] = []
        self.set_exception_handler(lambda _loop, context: self.errors.append(context))

    def time(self) -> float:
        return self._now

    def call(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run ``callback(*args)`` as a loop callback (as a transport calls its protocol), then idle."""
        self.call_soon(callback, *args)
        self.run_until_idle()

    def run_until_idle(self) -> None:
        """Run callbacks until none is ready and no timer is due (the clock stands still)."""
        for _ in range(_MAX_STEPS):
            if not self._ready and not self._timer_due():  # type: ignore[attr-defined]
                return
            self.call_soon(self.stop)
            self.run_forever()
        raise AssertionError(f"the event loop was still busy after {_MAX_STEPS} steps")

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward, firing the timers due on the way in order."""
        target = self._now + seconds
        self.run_until_idle()
        while (when := self._next_timer()) is not None and when <= target:
            self._now = max(self._now, when)
            self.run_until_idle()
        self._now = target
        self.run_until_idle()

    def pending_tasks(self) -> set[asyncio.Task[Any]]:
        """Tasks of this loop that have not finished."""
        return {task for task in asyncio.all_tasks(self) if not task.done()}

    def _timer_due(self) -> bool:
        when = self._next_timer()
        return when is not None and when <= self._now

    def _next_timer(self) -> float | None:
        scheduled = self._scheduled  # type: ignore[attr-defined]
        live = [handle.when() for handle in scheduled if not handle.cancelled()]
        return min(live) if live else None
