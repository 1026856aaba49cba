"""Small shims over differences between the Python versions we support (3.10+)."""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["asyncio_run", "iscoroutinefunction"]

_T = TypeVar("_T")

# asyncio.iscoroutinefunction is deprecated from 3.14 on; inspect's understands the
# same markers there. Before 3.14 only asyncio's recognises functions marked by
# ``asyncio.coroutine``-era helpers (e.g. mocks), so prefer it while it exists.
if sys.version_info >= (3, 14):
    iscoroutinefunction = inspect.iscoroutinefunction
else:
    iscoroutinefunction = asyncio.iscoroutinefunction


if sys.version_info >= (3, 11):

    def asyncio_run(
        main: Coroutine[Any, Any, _T],
        *,
        debug: bool | None = None,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    ) -> _T:
        """``asyncio.run(main, loop_factory=...)`` for every supported Python."""
        with asyncio.Runner(debug=debug, loop_factory=loop_factory) as runner:
            return runner.run(main)

else:

    def asyncio_run(
        main: Coroutine[Any, Any, _T],
        *,
        debug: bool | None = None,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    ) -> _T:
        """``asyncio.run(main, loop_factory=...)`` for every supported Python.

        Python 3.10 has no ``asyncio.Runner``: run the coroutine on a loop from
        ``loop_factory`` and tidy up the way ``asyncio.run`` does (cancel what is
        left, finish async generators and the default executor, close the loop).
        """
        if not asyncio.iscoroutine(main):
            raise ValueError(f"a coroutine was expected, got {main!r}")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            main.close()
            raise RuntimeError("asyncio_run() cannot be called from a running event loop")

        loop = asyncio.new_event_loop() if loop_factory is None else loop_factory()
        try:
            # As asyncio.Runner does: only the default loop becomes the thread's current loop.
            if loop_factory is None:
                asyncio.set_event_loop(loop)
            if debug is not None:
                loop.set_debug(debug)
            return loop.run_until_complete(main)
        finally:
            try:
                _cancel_remaining_tasks(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                if loop_factory is None:
                    asyncio.set_event_loop(None)
                loop.close()

    def _cancel_remaining_tasks(loop: asyncio.AbstractEventLoop) -> None:
        pending = asyncio.all_tasks(loop)
        if not pending:
            return
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        for task in pending:
            if not task.cancelled() and task.exception() is not None:
                loop.call_exception_handler(
                    {
                        "message": "unhandled exception while shutting down the event loop",
                        "exception": task.exception(),
                        "task": task,
                    }
                )
