"""Crash-loop backoff: a worker slot whose workers keep dying before they serve waits longer each time.

A worker that dies before it ever served (a crash while importing the app,
a segfault in an extension, an out-of-memory kill at startup) would, if
replaced at once, be replaced again and again in a tight loop that burns
CPU and floods the log. The first such death is replaced at once (it may
be a fluke); each further one in a row doubles the wait, up to a cap. A
worker that reaches serving resets its slot.
"""

from __future__ import annotations

__all__ = ["FIRST_DELAY", "MAX_DELAY", "CrashBackoff"]

#: The wait after the second early death in a row, in seconds; it doubles with each further one.
FIRST_DELAY = 0.5
#: The longest wait between two attempts, in seconds.
MAX_DELAY = 30.0


class CrashBackoff:
    """Counts the early deaths in a row of each worker slot and says how long to wait before the next."""

    def __init__(self) -> None:
        self._early_deaths: dict[int, int] = {}

    def record_death(self, slot: int, served: bool) -> tuple[int, float]:
        """Note a death in ``slot``; return (early deaths in a row, seconds to wait before replacing it)."""
        if served:
            self._early_deaths.pop(slot, None)
            return 0, 0.0
        count = self._early_deaths.get(slot, 0) + 1
        self._early_deaths[slot] = count
        if count == 1:
            return count, 0.0
        return count, min(MAX_DELAY, FIRST_DELAY * 2 ** (count - 2))

    def forget(self, slot: int) -> None:
        """The slot is gone (fewer workers) or serves again."""
        self._early_deaths.pop(slot, None)
