"""``loop="uvloop"``: the libuv-based loop from the uvloop package (must be installed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import uvloop

__all__ = ["uvloop_loop_factory"]


def uvloop_loop_factory(use_subprocess: bool = False) -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's loop constructor (``use_subprocess`` makes no difference to it)."""
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory
