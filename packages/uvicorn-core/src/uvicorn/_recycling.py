"""When a server should retire itself: ``limit_max_memory`` and ``max_worker_lifetime``.

Checked on the server's tick, never per request. A server past a limit
leaves the way ``limit_max_requests`` makes it leave (a graceful shutdown);
under ``--workers`` the supervisor then starts a replacement.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = ["RecyclingLimits", "resident_memory"]

logger = logging.getLogger("uvicorn.error")

_MIB = 1024 * 1024


def resident_memory() -> int:
    """This process's resident set size in bytes (Linux: now; elsewhere: its peak so far; Windows: 0)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # Windows: no way to measure without extra packages
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS counts bytes, others KiB


class RecyclingLimits:
    """The memory and lifetime limits of one server process, with its lifetime jitter drawn once."""

    def __init__(self, config: Config) -> None:
        limit_mib = getattr(config, "limit_max_memory", None)
        self.memory_limit = limit_mib * _MIB if limit_mib else None
        lifetime = getattr(config, "max_worker_lifetime", None)
        jitter = getattr(config, "max_worker_lifetime_jitter", 0) or 0
        #: Seconds this process may serve (jitter included), or None.
        self.lifetime = lifetime + random.uniform(0, jitter) if lifetime else None
        self._started = time.monotonic()
        #: The option whose limit was passed, once :meth:`exceeded` said so.
        self.reached: str | None = None

    @property
    def active(self) -> bool:
        return self.memory_limit is not None or self.lifetime is not None

    def exceeded(self) -> bool:
        """True (after logging why) once a limit is passed: time for this process to retire."""
        if self.memory_limit is not None:
            resident = resident_memory()
            if resident > self.memory_limit:
                logger.warning(
                    "Memory limit of %d MiB exceeded (%d MiB resident). Terminating process.",
                    self.memory_limit // _MIB,
                    resident // _MIB,
                )
                self.reached = "limit_max_memory"
                return True
        if self.lifetime is not None and time.monotonic() - self._started >= self.lifetime:
            logger.info("Maximum lifetime of %.1f seconds reached. Terminating process.", self.lifetime)
            self.reached = "max_worker_lifetime"
            return True
        return False
