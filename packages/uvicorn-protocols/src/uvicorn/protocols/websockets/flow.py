"""Back-pressure for one WebSocket session, both ways.

Reading pauses while any of three things holds: the app is behind (its message
queue is full, ``ws_max_queue``), the peer does not read what we write (so it
cannot make us queue pongs without bound), or too much arrived between the
request and the accept. Writing waits in ``send()`` while the carrier's buffer or
window is full.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uvicorn.protocols.websockets.carrier import Carrier

__all__ = ["MAX_EARLY_BYTES", "SessionFlow"]

#: Bytes held between the request and the accept before reading pauses.
MAX_EARLY_BYTES = 65536


class SessionFlow:
    """Whether the carrier reads, and whether ``send()`` may write."""

    __slots__ = ("_app_behind", "_carrier", "_read_paused", "early", "early_full", "writable", "write_paused")

    def __init__(self, carrier: Carrier, app_behind: Callable[[], bool]) -> None:
        self._carrier = carrier
        self._app_behind = app_behind
        self._read_paused = False
        self.write_paused = False
        self.writable = asyncio.Event()
        self.writable.set()
        self.early = b""  # bytes that arrive between the request and the accept
        self.early_full = False

    def update(self) -> None:
        """Pause or resume reading after one of the reasons changed."""
        paused = self._app_behind() or self.write_paused or self.early_full
        if paused == self._read_paused or self._carrier.is_closing():
            return
        self._read_paused = paused
        if paused:
            self._carrier.pause_reading()
        else:
            self._carrier.resume_reading()

    def hold_early(self, data: bytes) -> None:
        """Keep bytes that came before the accept (a client must wait for it); bounded."""
        self.early += data
        if len(self.early) > MAX_EARLY_BYTES and not self.early_full:
            self.early_full = True
            self.update()

    def take_early(self) -> bytes:
        """What arrived before the accept; reading goes on normally after."""
        early, self.early = self.early, b""
        if self.early_full:
            self.early_full = False
            self.update()
        return early

    def pause_writing(self) -> None:
        self.write_paused = True
        self.writable.clear()
        self.update()

    def resume_writing(self) -> None:
        self.write_paused = False
        self.writable.set()
        self.update()

    def lost(self) -> None:
        """asyncio never resumes writing on a lost transport: wake the senders."""
        self.writable.set()
