"""``lifespan="on"`` and ``"auto"``: run the app's lifespan scope around the server's life.

The app runs in one long task that receives ``lifespan.startup`` when the
server starts and ``lifespan.shutdown`` when it stops. In ``"auto"`` mode an
app that raises instead (most often because it does not implement lifespan)
is tolerated: the server runs without it. In ``"on"`` mode that is a failure.

``timeout_lifespan_startup`` / ``timeout_lifespan_shutdown`` (beyond upstream,
off by default) bound the wait for the app's answer: a startup that takes
longer is a startup failure, a shutdown that takes longer is given up on; in
both cases the app's lifespan task is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uvicorn._types import (
        LifespanScope,
        LifespanShutdownCompleteEvent,
        LifespanShutdownEvent,
        LifespanShutdownFailedEvent,
        LifespanStartupCompleteEvent,
        LifespanStartupEvent,
        LifespanStartupFailedEvent,
    )
    from uvicorn.config import Config

    LifespanReceiveMessage = LifespanStartupEvent | LifespanShutdownEvent
    LifespanSendMessage = (
        LifespanStartupFailedEvent
        | LifespanShutdownFailedEvent
        | LifespanStartupCompleteEvent
        | LifespanShutdownCompleteEvent
    )

__all__ = ["STATE_TRANSITION_ERROR", "LifespanOn"]

STATE_TRANSITION_ERROR = "Got invalid state transition on lifespan protocol."


class LifespanOn:
    """Drives the app's lifespan scope; ``state`` is shared (shallow-copied) into every request scope.

    After :meth:`startup` / :meth:`shutdown`, ``should_exit`` tells the server
    the app asked to stop (``startup_failed`` / ``shutdown_failed``) or, in
    ``"on"`` mode, raised (``error_occurred``).
    """

    def __init__(self, config: Config) -> None:
        if not config.loaded:
            config.load()
        self.config = config
        self.logger = logging.getLogger("uvicorn.error")
        self.startup_event = asyncio.Event()
        self.shutdown_event = asyncio.Event()
        self.receive_queue: asyncio.Queue[LifespanReceiveMessage] = asyncio.Queue()
        self.error_occurred = False
        self.startup_failed = False
        self.shutdown_failed = False
        self.should_exit = False
        self.state: dict[str, Any] = {}
        self._main_task: asyncio.Task[None] | None = None
        self._timed_out = False  # the app's lifespan task was cancelled for taking too long

    @property
    def error_occured(self) -> bool:
        """Old spelling of :attr:`error_occurred`, kept for code that still reads it."""
        return self.error_occurred

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait until the app answers (or gives up on lifespan)."""
        self.logger.info("Waiting for application startup.")
        # Keep a reference: the event loop only holds tasks weakly.
        self._main_task = asyncio.get_running_loop().create_task(self.main())
        await self.receive_queue.put({"type": "lifespan.startup"})
        if await self._answered_in_time("startup", self.startup_event, exit_if_late=True):
            self._report("startup", failed=self.startup_failed)

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the answer (unless lifespan already ended in error)."""
        if self.error_occurred:
            return
        self.logger.info("Waiting for application shutdown.")
        await self.receive_queue.put({"type": "lifespan.shutdown"})
        if await self._answered_in_time("shutdown", self.shutdown_event, exit_if_late=False):
            self._report("shutdown", failed=self.shutdown_failed)

    async def _answered_in_time(self, phase: str, answered: asyncio.Event, *, exit_if_late: bool) -> bool:
        """Wait for ``answered``, at most ``timeout_lifespan_<phase>`` seconds.

        Past that the app's task is cancelled, the delay logged (and the server
        told to exit, when ``exit_if_late``), and the answer is False.
        """
        option = f"timeout_lifespan_{phase}"
        timeout: float | None = getattr(self.config, option, None)
        if timeout is None:
            await answered.wait()
            return True
        try:
            await asyncio.wait_for(answered.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            self._timed_out = True
            if self._main_task is not None:
                self._main_task.cancel()  # its cleanup runs as the server goes on (or exits)
        exiting = " Exiting." if exit_if_late else ""
        self.logger.error(
            f"Application {phase} did not complete within %s seconds ({option}).{exiting}", timeout
        )
        if exit_if_late:
            self.should_exit = True
        return False

    def _report(self, phase: str, *, failed: bool) -> None:
        """Log how the app answered ``phase``; a failure (or an error with ``lifespan="on"``) exits."""
        if failed or (self.error_occurred and self.config.lifespan == "on"):
            self.logger.error(f"Application {phase} failed. Exiting.")
            self.should_exit = True
        else:
            self.logger.info(f"Application {phase} complete.")

    async def main(self) -> None:
        """Run the app's lifespan scope; however it ends, release whoever waits for an answer."""
        scope: LifespanScope = {
            "type": "lifespan",
            "asgi": {"version": self.config.asgi_version, "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self.config.loaded_app(scope, self.receive, self.send)
        except BaseException as exc:
            self.error_occurred = True
            if self._timed_out and isinstance(exc, asyncio.CancelledError):
                return  # we gave up on the app: the server said so already
            if self.startup_failed or self.shutdown_failed:
                return  # the app already reported the failure; raising after it is allowed
            if isinstance(exc, asyncio.CancelledError) and self.startup_event.is_set():
                raise  # cancelled by a quick exit after a good startup: lifespan is supported
            if self.config.lifespan == "auto":
                self.logger.info("ASGI 'lifespan' protocol appears unsupported.")
            else:
                self.logger.error("Exception in 'lifespan' protocol\n", exc_info=exc)
        finally:
            self.startup_event.set()
            self.shutdown_event.set()

    async def send(self, message: LifespanSendMessage) -> None:
        """The app's ``send``: record its answer to startup or shutdown."""
        message_type = message["type"]
        if message_type in ("lifespan.startup.complete", "lifespan.startup.failed"):
            if self.startup_event.is_set() or self.shutdown_event.is_set():
                raise RuntimeError(STATE_TRANSITION_ERROR)
            self.startup_event.set()
            if message_type == "lifespan.startup.failed":
                self.startup_failed = True
                self._log_failure_message(message)
        elif message_type in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            if not self.startup_event.is_set() or self.shutdown_event.is_set():
                raise RuntimeError(STATE_TRANSITION_ERROR)
            self.shutdown_event.set()
            if message_type == "lifespan.shutdown.failed":
                self.shutdown_failed = True
                self._log_failure_message(message)
        else:
            raise RuntimeError(f"Unexpected ASGI message {message_type!r} sent, in lifespan scope.")

    async def receive(self) -> LifespanReceiveMessage:
        """The app's ``receive``: the next lifespan event."""
        return await self.receive_queue.get()

    def _log_failure_message(self, message: LifespanSendMessage) -> None:
        text = message.get("message")
        if text:
            self.logger.error(text)
