"""The hand-over between a WSGI worker thread and the event-loop task serving its request.

A WSGI application runs in a worker thread, but ASGI's ``receive`` and
``send`` belong to the event loop. The thread never touches loop objects:
it queues commands here and blocks on thread primitives, and the request's
task runs the commands in order with its own ``receive`` and ``send``.

Response bytes queued but not yet sent are bounded by ``high_water``: the
thread waits when the client reads slowly instead of piling the response
up in memory. Request bytes are bounded by construction: the thread asks
for the next body chunk only when it needs one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

from uvicorn.middleware._types import Message

__all__ = ["DEFAULT_HIGH_WATER", "ClientDisconnected", "ReceiveCommand", "SendCommand", "WorkerChannel"]

DEFAULT_HIGH_WATER = 64 * 1024


class ClientDisconnected(OSError):
    """The client went away, or its request was cancelled, while the WSGI application used it."""


class SendCommand(NamedTuple):
    message: Message
    size: int


class ReceiveCommand(NamedTuple):
    reply: concurrent.futures.Future[Message]


Command = SendCommand | ReceiveCommand


class WorkerChannel:
    """Commands from one worker thread to one event-loop task."""

    def __init__(self, loop: asyncio.AbstractEventLoop, high_water: int = DEFAULT_HIGH_WATER) -> None:
        self._loop = loop
        self._high_water = high_water
        self._lock = threading.Condition()
        self._commands: deque[Command] = deque()
        self._unsent = 0
        self._closed = False
        self._wakeup = asyncio.Event()

    # ------------------------------------------------------------ worker thread side

    def send(self, message: Message) -> None:
        """Queue an ASGI message to send, waiting while too many response bytes are unsent."""
        size = len(message.get("body", b""))
        with self._lock:
            while self._unsent >= self._high_water and not self._closed:
                self._wait_for_room()
            self._post(SendCommand(message, size))
            self._unsent += size

    def receive(self) -> Message:
        """Ask the task for the next ASGI message and wait for it."""
        reply: concurrent.futures.Future[Message] = concurrent.futures.Future()
        with self._lock:
            self._post(ReceiveCommand(reply))
        try:
            return reply.result()
        except concurrent.futures.CancelledError:
            raise ClientDisconnected("the request was cancelled") from None

    def _wait_for_room(self) -> None:
        """Block until the task reports sent bytes or closes (lock held; tests watch this step)."""
        self._lock.wait()

    def _post(self, command: Command) -> None:
        # Called with the lock held, so close() cannot slip in between the
        # check and the append and strand a command nobody will answer.
        if self._closed:
            raise ClientDisconnected("the request is over")
        try:
            self._loop.call_soon_threadsafe(self._wakeup.set)
        except RuntimeError:  # the event loop is closed: the server is gone
            raise ClientDisconnected("the server stopped") from None
        self._commands.append(command)

    # ------------------------------------------------------------ event loop side

    def wake(self) -> None:
        """Make ``next_command`` look again (call from the loop, e.g. when the worker finishes)."""
        self._wakeup.set()

    async def next_command(self, worker_finished: Callable[[], bool]) -> Command | None:
        """The next queued command, or None once the queue is empty and the worker has finished."""
        while True:
            with self._lock:
                if self._commands:
                    return self._commands.popleft()
                self._wakeup.clear()
            # The worker queues its commands before it finishes, so an empty
            # queue and a finished worker mean there is nothing more to come.
            if worker_finished():
                return None
            await self._wakeup.wait()

    def sent(self, size: int) -> None:
        """Record that ``size`` queued response bytes went out, releasing a waiting worker."""
        with self._lock:
            self._unsent -= size
            self._lock.notify_all()

    def close(self) -> None:
        """Refuse further commands and fail the pending ones: the worker stops at its next call."""
        with self._lock:
            self._closed = True
            while self._commands:
                command = self._commands.popleft()
                if isinstance(command, ReceiveCommand):
                    command.reply.cancel()
            self._lock.notify_all()
