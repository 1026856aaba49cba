"""``loop="auto"``: uvloop when it is installed, else asyncio's loop."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable

__all__ = ["auto_loop_factory"]


def auto_loop_factory(use_subprocess: bool = False) -> Callable[[], asyncio.AbstractEventLoop]:
    """The uvloop factory if uvloop can be imported, otherwise the asyncio one."""
    if importlib.util.find_spec("uvloop") is not None:
        try:
            from uvicorn.loops.uvloop import uvloop_loop_factory
        except ImportError:
            pass  # present but unusable (e.g. built for another Python): fall back
        else:
            return uvloop_loop_factory(use_subprocess=use_subprocess)
    from uvicorn.loops.asyncio import asyncio_loop_factory

    return asyncio_loop_factory(use_subprocess=use_subprocess)
