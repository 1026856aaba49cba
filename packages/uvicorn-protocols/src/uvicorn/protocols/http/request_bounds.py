"""The bounds on the requests of one HTTP/1.1 connection: their heads, their bodies, their number.

``limit_request_head_size`` is checked while a head arrives (a head still
incomplete past it is refused before it ends, so it is never buffered whole);
``limit_request_line``, ``limit_request_fields`` and the size again once it is
complete (``request_head.check_limits``). ``timeout_request_head`` runs from the
connection's opening, or from the first byte of a later head (from the end of
the previous response when that byte came earlier): the connection decides what
a timeout means (408, or a plain close when nothing was sent).

``limit_request_body`` counts the body being read (``body_limits.py`` has the
rule HTTP/2 shares); ``limit_keep_alive_requests`` counts the requests read.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from uvicorn.protocols.http.body_limits import TOO_LARGE_MESSAGE, announced_too_large, too_large_reason
from uvicorn.protocols.http.deadline import Deadline
from uvicorn.protocols.http.request_head import (
    HeadProblem,
    RequestFacts,
    check_limits,
    check_version,
    inspect_headers,
    split_target,
)

if TYPE_CHECKING:
    from uvicorn.protocols.contract import ProtocolConfig

__all__ = ["UNKNOWN_SPAN", "RequestBounds"]

#: ``RequestBounds.head_span`` of an adapter that does not say how large a head can be.
UNKNOWN_SPAN = sys.maxsize


class RequestBounds:
    """The request limits and the request-head timeout of one connection."""

    __slots__ = (
        "body_limit",
        "body_received",
        "deadline",
        "fields_limit",
        "head_span",
        "line_limit",
        "quick_size",
        "received",
        "requests_limit",
        "requests_read",
        "size_limit",
    )

    def __init__(
        self, config: ProtocolConfig, loop: asyncio.AbstractEventLoop, expired: Callable[[], None]
    ) -> None:
        self.line_limit = config.limit_request_line
        self.fields_limit = config.limit_request_fields
        self.size_limit = config.limit_request_head_size
        # At most how many bytes the head being completed can have: set by an adapter that
        # parses every read as it comes (httptools), from the reads since its head began.
        self.head_span = UNKNOWN_SPAN
        # check_limits counts a head from its parts, up to 2 bytes per line more than it
        # took on the wire (bare LFs, no space after the colon): a head no longer than this
        # is within size_limit without counting.
        self.quick_size = self.size_limit - 2 * (self.fields_limit + 2)
        self.deadline = Deadline(loop, config.timeout_request_head, expired)
        self.received = 0  # bytes received towards the head being read
        self.body_limit = config.limit_request_body
        self.body_received = 0  # of the body being read
        self.requests_limit = config.limit_keep_alive_requests
        self.requests_read = 0

    def arriving(self) -> str | None:
        """Bytes of a head still incomplete came: why it is refused (431), or None (its time runs)."""
        if self.received > self.size_limit:
            return f"request head over {self.size_limit} bytes (limit_request_head_size)"
        self.deadline.start()
        return None

    def check(
        self, method: str, target: bytes, http_version: str, headers: list[tuple[bytes, bytes]]
    ) -> tuple[RequestFacts, bytes, bytes]:
        """A complete head: ``(facts, raw_path, query_string)``, or ``HeadProblem`` raised."""
        self.deadline.stop()
        self.received = 0
        http11 = http_version == "1.1"
        if not http11 and http_version != "1.0":
            check_version(http_version)
        if (
            self.head_span > self.quick_size
            or len(headers) > self.fields_limit
            or len(method) + len(target) + 10 > self.line_limit
        ):
            check_limits(method, target, headers, self.line_limit, self.fields_limit, self.size_limit)
        facts = inspect_headers(headers, http11)
        if target[:1] == b"/" and b"?" not in target:
            raw_path, query_string = target, b""  # the usual origin-form target: nothing to split
        else:
            raw_path, query_string = split_target(target)
        if self.body_limit is not None:
            too_large = announced_too_large(facts.content_length, self.body_limit)
            if too_large is not None:
                raise HeadProblem(413, TOO_LARGE_MESSAGE, too_large)
        return facts, raw_path, query_string

    def one_more_request(self) -> bool:
        """A request was read: True when it is the last one the connection may serve."""
        self.requests_read += 1
        self.body_received = 0
        return self.requests_limit is not None and self.requests_read >= self.requests_limit

    def body_too_large(self, size: int) -> str | None:
        """``size`` more bytes of the body came: why it is cut (413), or None."""
        limit = self.body_limit
        if limit is None:
            return None
        self.body_received += size
        return too_large_reason(limit) if self.body_received > limit else None

    def timeout_reason(self) -> str:
        return f"request head not complete after {self.deadline.seconds}s (timeout_request_head)"
