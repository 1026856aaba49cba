"""Watching request/response exchanges: metrics, and access lines other than upstream's.

Upstream's access line, written as the response head goes out, is ``access_log.py``'s
job. Everything that needs to follow a request further is here, and exists only when
asked for: a connection gets an :class:`ExchangeWatch` when the server has an observer
(``ProtocolServerState.observer``, for metrics) or when its access lines have a
``access_log_format`` or are written at the response's end (``access_log_timing``).
Without either, a request costs nothing more than a ``None`` check.

A cycle then holds an :class:`Exchange` and tells it, in this order: body bytes
received, the response headers, that the head went out (``head_sent``), body bytes
sent, and that the response ended (``finish``: complete, or abandoned when the app
failed or the client left; called again, it does nothing).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.access_format import AccessEntry, AccessFormat, compile_access_format
from uvicorn.protocols.http.access_log import ACCESS_MESSAGE, access_fields
from uvicorn.protocols.http.rules import NO_CONTENT_STATUSES
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import HTTPScope
    from uvicorn.protocols.contract import ProtocolConfig, ProtocolObserver, ProtocolServerState

__all__ = [
    "REJECTION_REASONS",
    "AccessRecords",
    "Exchange",
    "ExchangeWatch",
    "count_rejection",
    "watch_exchanges",
]

_INFO = logging.INFO
_clock = time.perf_counter

#: What a response the server gives itself counts as (``ProtocolObserver.rejected``), by status.
REJECTION_REASONS = {
    503: "limit_concurrency",
    408: "timeout_request_head",
    414: "limit_request_line",
    431: "limit_request_head",
    413: "limit_request_body",
}


def count_rejection(server_state: ProtocolServerState, status: int, reason: str | None = None) -> None:
    """Tell the observer, if any, that the server refused a request itself with ``status``.

    ``reason`` names the bound when the status alone does not (a 408 of ``timeout_request_body``).
    """
    observer = server_state.observer
    if observer is not None:
        observer.rejected(reason or REJECTION_REASONS.get(status, "invalid_request"))


def watch_exchanges(
    config: ProtocolConfig, server_state: ProtocolServerState, access_logger: logging.Logger
) -> ExchangeWatch | None:
    """The watch for a new connection's exchanges, or None when nothing needs one."""
    observer = server_state.observer
    access = None
    log_format = config.access_log_format
    at_end = config.access_log_timing == "end"
    if access_logger.hasHandlers() and (log_format is not None or at_end):
        access = AccessRecords(
            access_logger, compile_access_format(log_format) if log_format else None, at_end
        )
    if observer is None and access is None:
        return None
    return ExchangeWatch(observer, access, server_state)


class AccessRecords:
    """Access records with a gunicorn-style format, or upstream's line written at the response's end."""

    __slots__ = ("at_end", "format", "logger")

    def __init__(self, logger: logging.Logger, log_format: AccessFormat | None, at_end: bool) -> None:
        self.logger = logger
        self.format = log_format
        self.at_end = at_end or (log_format is not None and log_format.needs_end)

    def log(self, entry: AccessEntry) -> None:
        logger = self.logger
        if not logger.isEnabledFor(_INFO):
            return
        scope = entry.scope
        fields = access_fields(scope, entry.status, entry.sent, entry.duration)
        if self.format is None:
            logger.info(
                ACCESS_MESSAGE,
                get_client_addr(scope),
                scope["method"],
                get_path_with_query_string(scope),
                scope["http_version"],
                entry.status,
                extra=fields,
            )
        else:
            # As gunicorn logs its lines: the format as the message, its atoms as the args.
            logger.info(self.format.text, self.format.atoms(entry), extra=fields)


class ExchangeWatch:
    """What a connection's exchanges report to: the observer, the access records, or both."""

    __slots__ = ("access", "observer", "server_state")

    def __init__(
        self,
        observer: ProtocolObserver | None,
        access: AccessRecords | None,
        server_state: ProtocolServerState,
    ) -> None:
        self.observer = observer
        self.access = access
        self.server_state = server_state  # for the default headers an access line may show

    def begin(self, scope: HTTPScope) -> Exchange:
        """A request head arrived: its exchange begins."""
        if self.observer is not None:
            self.observer.request_started()
        return Exchange(self, scope)


class Exchange:
    """One request and its response, as metrics and access records see them."""

    __slots__ = (
        "_bodiless",
        "_finished",
        "received",
        "response_headers",
        "scope",
        "sent",
        "started",
        "status",
        "watch",
    )

    def __init__(self, watch: ExchangeWatch, scope: HTTPScope) -> None:
        self.watch = watch
        self.scope = scope
        self.started = _clock()
        self.status: int | None = None  # once the head went out
        self.response_headers: Iterable[tuple[bytes, bytes]] = ()
        self.received = 0  # request body bytes
        self.sent = 0  # response body bytes the app sent (the cycle adds them)
        self._bodiless = False
        self._finished = False

    def head_sent(self, status: int) -> None:
        """The response head went out with ``status``."""
        self.status = status
        # Whatever the app sends, no body goes out with these.
        self._bodiless = status in NO_CONTENT_STATUSES or self.scope["method"] == "HEAD"
        access = self.watch.access
        if access is not None and not access.at_end:
            access.log(self._entry(None, None))

    def finish(self) -> None:
        """The response ended, complete or not; only the first call counts."""
        if self._finished:
            return
        self._finished = True
        duration = _clock() - self.started
        if self._bodiless:
            self.sent = 0
        watch = self.watch
        if watch.observer is not None:
            watch.observer.request_finished(
                self.scope["method"], self.status, duration, self.received, self.sent
            )
        access = watch.access
        if access is not None and access.at_end and self.status is not None:
            access.log(self._entry(self.sent, duration))

    def _entry(self, sent: int | None, duration: float | None) -> AccessEntry:
        assert self.status is not None
        headers: Any = [*self.response_headers, *self.watch.server_state.default_headers]
        return AccessEntry(self.scope, self.status, headers, sent, duration)
