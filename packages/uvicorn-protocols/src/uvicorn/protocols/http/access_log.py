"""Access log lines, written in batches when the logging setup allows it.

Going through :mod:`logging` costs a record, a formatter pass, a lock and a
flushed write per request: with the default setup that is most of a hello-world
request's time. When the ``uvicorn.access`` logger has exactly one plain
``StreamHandler`` whose formatter is an ``AccessLineFormatter`` (``contract.py``;
uvicorn-core's ``AccessFormatter`` is one), the same lines are built by its
``format_access`` and written together once per event-loop iteration. Any other
setup (filters, other handlers, propagation, a custom format) goes through
``logging`` unchanged.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
from typing import TYPE_CHECKING, Any, cast

from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import HTTPScope
    from uvicorn.protocols.contract import AccessLineFormatter

__all__ = ["ACCESS_MESSAGE", "AccessLog", "ConnectionAccessLog", "access_fields", "access_log_for"]

_INFO = logging.INFO
#: The message of upstream's access line; its args are (client_addr, method, full_path, http_version, status).
ACCESS_MESSAGE = '%s - "%s %s HTTP/%s" %d'
_BATCH_LIMIT = 256  # lines held at most before writing anyway


def _batchable_handler(logger: logging.Logger) -> logging.StreamHandler[Any] | None:
    """The logger's only handler, if lines for it may be built and written by us."""
    handlers = logger.handlers
    if len(handlers) != 1 or logger.propagate or logger.filters or not logger.isEnabledFor(_INFO):
        return None
    handler = handlers[0]
    if type(handler) is not logging.StreamHandler or handler.filters or handler.level > _INFO:
        return None
    if getattr(handler.formatter, "format_access", None) is None:  # not an AccessLineFormatter
        return None
    return handler


class AccessLog:
    """Writes the access lines of one event loop's connections."""

    def __init__(self, loop: asyncio.AbstractEventLoop, logger: logging.Logger) -> None:
        self.loop = loop
        self.logger = logger
        self._pending: list[str] = []
        self._handler: logging.StreamHandler[Any] | None = None  # where the pending lines go
        self._scheduled = False

    def batch_handler(self) -> logging.StreamHandler[Any] | None:
        """The handler lines may be written to by :meth:`add`, or None: use :meth:`log_record`.

        Checked when a batch begins; the lines of one loop iteration share the answer.
        """
        if self._pending:
            return self._handler
        return _batchable_handler(self.logger)

    def add(self, handler: logging.StreamHandler[Any], line: str) -> None:
        """Hold a line built by ``handler``'s formatter, to be written with the batch."""
        if self._pending and handler is not self._handler:
            self.flush()
        self._handler = handler
        self._pending.append(line)
        if len(self._pending) >= _BATCH_LIMIT:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self.loop.call_soon(self.flush)

    def log_record(
        self, client_addr: str, method: str, path: str, http_version: str, status: int, scope: HTTPScope
    ) -> None:
        """Log one access line through :mod:`logging`, after the lines held so far."""
        self.flush()
        self.logger.info(
            ACCESS_MESSAGE,
            client_addr,
            method,
            path,
            http_version,
            status,
            extra=access_fields(scope, status, None, None),
        )

    def flush(self) -> None:
        """Write the lines held so far."""
        self._scheduled = False
        lines = self._pending
        if not lines:
            return
        self._pending = []
        handler = self._handler
        assert handler is not None
        terminator = handler.terminator
        text = terminator.join(lines) + terminator
        handler.acquire()
        try:
            handler.stream.write(text)
            handler.flush()
        except Exception:
            # As logging does: report on stderr, never break the request path.
            record = self.logger.makeRecord(self.logger.name, _INFO, __file__, 0, text, (), None)
            handler.handleError(record)
        finally:
            handler.release()


# One writer per event loop (and logger): a batch never crosses threads.
_writers: dict[int, AccessLog] = {}


def access_log_for(loop: asyncio.AbstractEventLoop, logger: logging.Logger) -> AccessLog:
    """The writer of ``logger``'s lines for connections running in ``loop``."""
    writer = _writers.get(id(loop))
    if writer is None or writer.loop is not loop or writer.logger is not logger:
        writer = _new_writer(loop, logger)
    return writer


def _new_writer(loop: asyncio.AbstractEventLoop, logger: logging.Logger) -> AccessLog:
    old = _writers.get(id(loop))
    if old is not None:
        old.flush()
    for key, writer in list(_writers.items()):
        if writer.loop.is_closed():
            writer.flush()
            del _writers[key]
    writer = _writers[id(loop)] = AccessLog(loop, logger)
    return writer


@atexit.register
def _flush_all() -> None:
    for writer in list(_writers.values()):
        writer.flush()


class ConnectionAccessLog:
    """The access lines of one connection: what can be kept from one request to the next.

    A keep-alive client often repeats its request (polling, health checks, load
    balancers): the line of the previous response is reused when nothing in it changed.
    """

    __slots__ = ("_client", "_client_addr", "_formatter", "_line", "_logger", "_request", "_writer")

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._writer: AccessLog | None = None
        self._client: object = None  # the scope client last formatted
        self._client_addr = ""
        # The last line built, and what it was built from.
        self._request: tuple[str, object, bytes, str, int] | None = None
        self._formatter: object = None
        self._line = ""

    def log(self, scope: HTTPScope, status: int) -> None:
        """The line of a response whose head is being written."""
        client = scope.get("client")
        if client is not self._client:  # the same tuple every request, unless a proxy rewrote it
            self._client = client
            self._client_addr = get_client_addr(scope)
            self._request = None
        writer = self._writer
        if writer is None:
            writer = self._writer = access_log_for(asyncio.get_running_loop(), self._logger)
        handler = writer.batch_handler()
        # The line shows the raw target: raw_path (or path, when a scope has none) and the query.
        target = scope.get("raw_path") or scope["path"]
        request = (scope["method"], target, scope["query_string"], scope["http_version"], status)
        if handler is not None and handler.formatter is self._formatter and request == self._request:
            writer.add(handler, self._line)
            return
        path = get_path_with_query_string(scope)
        line = None
        if handler is not None:
            formatter = cast("AccessLineFormatter", handler.formatter)  # checked by _batchable_handler
            line = formatter.format_access(self._client_addr, request[0], path, request[3], status)
        if line is None:
            writer.log_record(self._client_addr, request[0], path, request[3], status, scope)
            return
        self._request, self._formatter, self._line = request, handler.formatter, line  # type: ignore[union-attr]
        writer.add(handler, line)  # type: ignore[arg-type]


def access_fields(scope: HTTPScope, status: int, sent: int | None, duration: float | None) -> dict[str, Any]:
    """The attributes every access record carries, for formatters (e.g. JSON) to use.

    ``bytes_sent`` (body bytes) and ``duration`` (seconds since the request head
    arrived) are None on a line written as the response head goes out.
    """
    user_agent = referer = None
    for name, value in scope["headers"]:
        lowered = name.lower()
        if lowered == b"user-agent":
            user_agent = value.decode("latin-1")
        elif lowered == b"referer":
            referer = value.decode("latin-1")
    raw_path = scope.get("raw_path")
    return {
        "client": get_client_addr(scope),
        "method": scope["method"],
        "path": raw_path.decode("latin-1") if raw_path is not None else scope["path"],
        "query": scope["query_string"].decode("latin-1"),
        "http_version": scope["http_version"],
        "status": status,
        "bytes_sent": sent,
        "duration": duration,
        "user_agent": user_agent,
        "referer": referer,
    }
