"""Bounds on what a client's frames may make the server do, checked before any library parses them.

The guard reads only the 9-byte frame headers as bytes arrive, so the same
rules hold whichever engine decodes the frames:

- a header block (HEADERS + CONTINUATION) larger than the header list limit, or
  split into more than ``MAX_HEADER_BLOCK_FRAMES`` frames (CONTINUATION flood,
  CVE-2024-27316);
- more than ``max_resets`` RST_STREAM frames in ``COUNTING_WINDOW`` seconds
  (rapid reset, CVE-2023-44487);
- more than ``max_control_frames`` PING and SETTINGS frames (each one makes the
  server reply) or empty DATA frames in the same window;

each end the connection with GOAWAY(ENHANCE_YOUR_CALM). :attr:`FrameGuard.mid_head`
tells whether a header block (or the connection preface) is incomplete, for the
request-head timeout.
"""

from __future__ import annotations

import time

from uvicorn.protocols.http2.limits import COUNTING_WINDOW, MAX_HEADER_BLOCK_FRAMES, HTTP2Limits

__all__ = ["PREFACE", "FrameGuard"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

_DATA, _HEADERS, _RST_STREAM, _SETTINGS, _PING, _CONTINUATION = 0x0, 0x1, 0x3, 0x4, 0x6, 0x9
_END_STREAM = _ACK = 0x1
_END_HEADERS = 0x4
_PREFACE_TYPE = -1  # the payload being skipped is the connection preface


class _Counter:
    """Events within the current counting window."""

    __slots__ = ("count", "limit", "started")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.started = 0.0

    def exceeded(self) -> bool:
        """Count one more; True when the window holds more than the limit."""
        now = time.monotonic()
        if now - self.started > COUNTING_WINDOW:
            self.started = now
            self.count = 0
        self.count += 1
        return self.count > self.limit


class FrameGuard:
    """Follows the frame boundaries of one connection's incoming bytes."""

    __slots__ = (
        "_block_bytes",
        "_block_frames",
        "_controls",
        "_in_block",
        "_max_block",
        "_partial",
        "_resets",
        "_skip",
        "_skip_type",
    )

    def __init__(self, limits: HTTP2Limits, expect_preface: bool = True) -> None:
        self._skip = len(PREFACE) if expect_preface else 0  # bytes of the current payload still to come
        self._skip_type = _PREFACE_TYPE
        self._partial = b""  # the start of a frame header split across reads
        self._in_block = False
        self._block_bytes = 0
        self._block_frames = 0
        self._max_block = limits.max_header_list_size
        self._resets = _Counter(limits.max_resets)
        self._controls = _Counter(limits.max_control_frames)

    @property
    def mid_head(self) -> bool:
        """True while a header block, a frame header or the preface is only partly received."""
        if self._in_block or self._partial:
            return True
        return self._skip > 0 and self._skip_type in (_HEADERS, _CONTINUATION, _PREFACE_TYPE)

    def check(self, data: bytes) -> str | None:
        """Follow ``data``; the reason to end the connection, or None."""
        end = len(data)
        position = self._skip
        if position >= end:
            self._skip = position - end
            return None
        if self._partial:
            needed = 9 - len(self._partial)
            header = self._partial + data[:needed]
            if len(header) < 9:
                self._partial = header
                return None
            self._partial = b""
            problem = self._frame(header, 0)
            if problem is not None:
                return problem
            position = needed + self._skip
        while position + 9 <= end:
            problem = self._frame(data, position)
            if problem is not None:
                return problem
            position += 9 + self._skip
        if position < end:
            self._partial = data[position:]
            self._skip = 0
        else:
            self._skip = position - end
        return None

    def _frame(self, buffer: bytes, at: int) -> str | None:
        """One frame header at ``buffer[at:at + 9]``; sets ``_skip`` to its payload length."""
        length = (buffer[at] << 16) | (buffer[at + 1] << 8) | buffer[at + 2]
        frame_type = buffer[at + 3]
        flags = buffer[at + 4]
        self._skip = length
        self._skip_type = frame_type
        if frame_type == _DATA:
            if length == 0 and not flags & _END_STREAM and self._controls.exceeded():
                return "too many empty DATA, PING or SETTINGS frames (http2_max_control_frames)"
        elif frame_type in (_HEADERS, _CONTINUATION):
            if frame_type == _HEADERS:
                self._block_bytes = length
                self._block_frames = 1
            else:
                self._block_bytes += length
                self._block_frames += 1
            self._in_block = not flags & _END_HEADERS
            # The first frame counts too: whether a block comes in one frame or several, the same bound.
            if self._block_bytes > self._max_block:
                return f"header block over {self._max_block} bytes (limit_request_head_size)"
            if self._block_frames > MAX_HEADER_BLOCK_FRAMES:
                return f"header block in more than {MAX_HEADER_BLOCK_FRAMES} frames"
        elif frame_type == _RST_STREAM:
            if self._resets.exceeded():
                return "too many streams reset by the client (http2_max_resets)"
        elif frame_type in (_PING, _SETTINGS) and not flags & _ACK and self._controls.exceeded():
            return "too many empty DATA, PING or SETTINGS frames (http2_max_control_frames)"
        return None
