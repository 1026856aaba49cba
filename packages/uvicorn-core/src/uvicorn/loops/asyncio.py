"""``loop="asyncio"``: the standard library's event loop."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

__all__ = ["asyncio_loop_factory"]


def asyncio_loop_factory(use_subprocess: bool = False) -> Callable[[], asyncio.AbstractEventLoop]:
    """The loop class to instantiate: selector-based, except the proactor on Windows.

    On Windows a worker process started by a supervisor (``use_subprocess``)
    gets its listening socket shared from the parent, which only the selector
    loop can serve.
    """
    if sys.platform == "win32" and not use_subprocess:
        return asyncio.ProactorEventLoop
    return asyncio.SelectorEventLoop
