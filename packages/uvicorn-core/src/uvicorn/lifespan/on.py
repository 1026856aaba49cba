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
        timeout = getattr(self.config, "timeout_lifespan_startup", None)
        if not await self._answered(self.startup_event, timeout):
            self.logger.error(
                "Application startup did not complete within %s seconds (timeout_lifespan_startup). Exiting.",
                timeout,
            )
            self.should_exit = True
            return

        if self.startup_failed or (self.error_occurred and self.config.lifespan == "on"):
            self.logger.error("Application startup failed. Exiting.")
            self.should_exit = True
        else:
            self.logger.info("Application startup complete.")

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the answer (unless lifespan already ended in error)."""
        if self.error_occurred:
            return
        self.logger.info("Waiting for application shutdown.")
        await self.receive_queue.put({"type": "lifespan.shutdown"})
        timeout = getattr(self.config, "timeout_lifespan_shutdown", None)
        if not await self._answered(self.shutdown_event, timeout):
            self.logger.error(
                "Application shutdown did not complete within %s seconds (timeout_lifespan_shutdown).",
                timeout,
            )
            return

        if self.shutdown_failed or (self.error_occurred and self.config.lifespan == "on"):
            self.logger.error("Application shutdown failed. Exiting.")
            self.should_exit = True
        else:
            self.logger.info("Application shutdown complete.")

    async def _answered(self, event: asyncio.Event, timeout: float | None) -> bool:
        """Wait for ``event``, at most ``timeout`` seconds; False (the app's task cancelled) after that."""
        if timeout is None:
            await event.wait()
            return True
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            self._timed_out = True
            if self._main_task is not None:
                self._main_task.cancel()  # its cleanup runs as the server goes on (or exits)
            return False

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
