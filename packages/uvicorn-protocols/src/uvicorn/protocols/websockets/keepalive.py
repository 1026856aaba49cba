"""Keepalive pings (``ws_ping_interval``) and the deadline for their pongs (``ws_ping_timeout``)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

__all__ = ["Keepalive"]


class Keepalive:
    """Pings the peer every ``interval`` seconds; calls ``timed_out`` if a pong is ``timeout`` late.

    A new ping goes out only once the previous one is answered, so a slow peer is
    never flooded. Only the pong carrying our latest payload counts: RFC 6455
    allows unsolicited pongs, and they prove nothing.
    """

    __slots__ = (
        "_interval",
        "_loop",
        "_payload",
        "_send_ping",
        "_timed_out",
        "_timeout",
        "ping_sent_at",
        "ping_timer",
        "pong_timer",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        interval: float | None,
        timeout: float | None,
        send_ping: Callable[[bytes], None],
        timed_out: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._interval = interval if interval is not None and interval > 0 else None
        self._timeout = timeout
        self._send_ping = send_ping
        self._timed_out = timed_out
        self._payload = b""
        self.ping_timer: asyncio.TimerHandle | None = None
        self.pong_timer: asyncio.TimerHandle | None = None
        self.ping_sent_at = 0.0  # time.monotonic() of the latest ping, 0.0 before the first

    def start(self) -> None:
        if self._interval is not None:
            self.ping_timer = self._loop.call_later(self._interval, self._ping)

    def stop(self) -> None:
        for timer in (self.ping_timer, self.pong_timer):
            if timer is not None:
                timer.cancel()
        self.ping_timer = self.pong_timer = None

    def pong(self, payload: bytes) -> None:
        if self.pong_timer is not None and payload == self._payload:
            self.pong_timer.cancel()
            self.pong_timer = None

    def _ping(self) -> None:
        assert self._interval is not None
        self.ping_timer = self._loop.call_later(self._interval, self._ping)
        if self.pong_timer is not None:
            return  # the previous ping is still waiting for its pong
        self._payload = random.getrandbits(32).to_bytes(4, "big")
        self.ping_sent_at = time.monotonic()
        self._send_ping(self._payload)
        if self._timeout is not None:
            self.pong_timer = self._loop.call_later(self._timeout, self._pong_missing)

    def _pong_missing(self) -> None:
        self.pong_timer = None
        self.stop()
        self._timed_out()
