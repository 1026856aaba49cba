"""Pipelining: the requests a client sent ahead of the response in flight, answered in the order they came.

While a request waits here the connection reads no further (so the queue stays
short). ``reading`` is the request whose body is being read: the one in flight
or the last one waiting. A request refused in the middle of a pipeline owes its
error response after the responses to the requests before it (``owed_error``),
and nothing after it is read as HTTP.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import ASGI3Application
    from uvicorn.protocols.http.cycle import RequestResponseCycle

__all__ = ["Pipeline", "Refusal"]


class Refusal(enum.Enum):
    """Where the answer to a refused request goes (:meth:`Pipeline.refuse`)."""

    ANSWERED = "its request was answered already: just close"
    IN_FLIGHT = "its bytes are the body of the request in flight: answer it if nothing was, then close"
    OWED = "after the responses before it"
    NOW = "at once, then close"


class Pipeline:
    """The requests waiting behind the one in flight, the one being read, an error owed."""

    __slots__ = ("owed_error", "reading", "waiting")

    def __init__(self) -> None:
        # A list, not a deque: an empty deque costs 760 bytes per idle connection.
        self.waiting: list[tuple[RequestResponseCycle, ASGI3Application]] = []
        self.reading: RequestResponseCycle | None = None
        self.owed_error: bytes | None = None

    def __bool__(self) -> bool:
        return bool(self.waiting)

    def hold(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        self.waiting.append((cycle, app))

    def next(self) -> tuple[RequestResponseCycle, ASGI3Application]:
        return self.waiting.pop(0)

    def clear(self) -> None:
        self.waiting.clear()

    def last(self, in_flight: RequestResponseCycle | None) -> RequestResponseCycle | None:
        """The last request read: the last one waiting, else the one in flight."""
        return self.waiting[-1][0] if self.waiting else in_flight

    def holds_reading(self) -> bool:
        """Requests wait, or an error is owed: the connection must not read on."""
        return bool(self.waiting) or self.owed_error is not None

    def refuse(self, response: bytes, in_flight: RequestResponseCycle | None) -> Refusal:
        """A request is refused with ``response``: where the answer goes (owed ones are kept here)."""
        reading, self.reading = self.reading, None
        if reading is not None and reading.response_complete:
            return Refusal.ANSWERED  # the rest of the body of a request answered early
        if reading is not None and reading is in_flight:
            return Refusal.IN_FLIGHT
        if reading is not None and self.waiting and self.waiting[-1][0] is reading:
            # The body of a request waiting here: it must never start (nothing would ever
            # complete its body); its refusal comes in its turn instead.
            self.waiting.pop()
        if in_flight is not None and not in_flight.response_complete:
            self.owed_error = response
            return Refusal.OWED
        return Refusal.NOW
