"""The HTTP/1.1 connection every parser adapter shares.

An adapter (h11, httptools, zttp) only turns bytes into calls on this class:
``on_request_head``, ``on_request_body``, ``on_request_complete`` and ``reject``.
This class ties together what each request goes through: the request-head
bounds (``request_bounds.py``), its scope (``scope.py``), the request-body bounds
(``body_limits.py``), pipelining in order (``pipeline.py``), upgrades
(``upgrade.py``), back-pressure (``flow_control.py``), keep-alive, and the
graceful drain, which is decided here.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.access_log import ConnectionAccessLog
from uvicorn.protocols.http.body_limits import (
    TIMEOUT_MESSAGE,
    TOO_LARGE_MESSAGE,
    stalled_reason,
)
from uvicorn.protocols.http.cycle import RequestResponseCycle
from uvicorn.protocols.http.exchange import count_rejection, watch_exchanges
from uvicorn.protocols.http.flow_control import FlowControl, within_concurrency
from uvicorn.protocols.http.http11_writer import HTTP11Writer
from uvicorn.protocols.http.keep_alive import KeepAliveTimer
from uvicorn.protocols.http.lingering_close import close_after_answer
from uvicorn.protocols.http.pipeline import Pipeline, Refusal
from uvicorn.protocols.http.request_bounds import RequestBounds
from uvicorn.protocols.http.request_head import HeadProblem, refusal_detail
from uvicorn.protocols.http.response_head import error_response
from uvicorn.protocols.http.scope import ScopeMaker
from uvicorn.protocols.http.scope_extensions import http1_extensions
from uvicorn.protocols.http.upgrade import (
    NO_WEBSOCKET_LIBRARY,
    PendingUpgrade,
    pending_upgrade,
    switch_protocol,
)
from uvicorn.protocols.utils import get_local_addr, get_remote_addr, is_ssl

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import ASGI3Application, HTTPScope
    from uvicorn.protocols.contract import ProtocolConfig, ProtocolServerState

__all__ = ["NO_WEBSOCKET_LIBRARY", "HTTPConnection"]

TRACE_LOG_LEVEL = 5


class HTTPConnection(KeepAliveTimer, asyncio.Protocol):
    """Everything about an HTTP/1.1 connection except parsing; subclassed per parser."""

    # Slots: a dict of this many attributes costs 1.5 KiB per connection; "__dict__" keeps ad-hoc ones.
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_context",
        "_draining",
        "_extensions",
        "_peer_eof",
        "_scopes",
        "_upgrade",
        "access_lines",
        "access_log",
        "access_logger",
        "app",
        "app_state",
        "bounds",
        "client",
        "config",
        "connections",
        "cycle",
        "exchanges",
        "flow",
        "h2c_class",
        "limit_concurrency",
        "limit_request_fields",
        "limit_request_line",
        "logger",
        "loop",
        "pipeline",
        "scheme",
        "scope",
        "server",
        "server_state",
        "tasks",
        "timeout_keep_alive",
        "timeout_request_body",
        "timeout_response_send",
        "transport",
        "writer",
        "ws_protocol_class",
    )

    def __init__(
        self,
        config: ProtocolConfig,
        server_state: ProtocolServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.config = config
        self.app: ASGI3Application = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.logger = logging.getLogger("uvicorn.error")
        self.access_logger = logging.getLogger("uvicorn.access")
        self.exchanges = watch_exchanges(config, server_state, self.access_logger)  # metrics, other lines
        self.access_log = self.access_logger.hasHandlers() and not (self.exchanges and self.exchanges.access)
        self.access_lines = ConnectionAccessLog(self.access_logger)
        self.ws_protocol_class: type[asyncio.Protocol] | None = config.ws_protocol_class
        # With --http2, an "Upgrade: h2c" request switches the connection to this protocol.
        self.h2c_class: type[asyncio.Protocol] | None = config.http2_protocol_class
        self.limit_concurrency = config.limit_concurrency
        self.timeout_keep_alive = config.timeout_keep_alive
        self.limit_request_line = config.limit_request_line  # read by the adapters
        self.limit_request_fields = config.limit_request_fields
        self.timeout_request_body = config.timeout_request_body  # read by the cycle
        self.timeout_response_send = config.timeout_response_send
        self.app_state = app_state
        self.server_state = server_state
        self.connections = server_state.connections
        self.tasks = server_state.tasks
        # Each request task starts from a copy of this context, never from the previous
        # request's (a pipelined request is started from inside the one before it):
        # the server's context, or an empty one with reset_contextvars (as upstream).
        self._context = contextvars.Context() if config.reset_contextvars else contextvars.copy_context()

        # Per connection, filled by connection_made.
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.flow: FlowControl = None  # type: ignore[assignment]
        self.writer: HTTP11Writer = None  # type: ignore[assignment]
        self.server: tuple[str, int | None] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "http"
        self._scopes: ScopeMaker = None  # type: ignore[assignment]

        # The cycle whose response is being produced, and the requests read ahead of it.
        self.scope: HTTPScope | None = None
        self.cycle: RequestResponseCycle | None = None
        self.pipeline = Pipeline()
        self._upgrade: PendingUpgrade | None = None  # an upgrade request, to switch after the response
        self._peer_eof = False
        self._draining = False  # the server is shutting down: the next response closes

        self._init_keep_alive()
        self.bounds = RequestBounds(config, self.loop, self._on_head_timeout)

    # ------------------------------------------------------------ parser adapter interface

    def _feed(self, data: bytes) -> None:
        """Give bytes to the parser, which calls back into the ``on_*`` methods."""
        raise NotImplementedError

    def _mid_head(self) -> bool:
        """True while the parser holds part of a request head."""
        raise NotImplementedError

    @property
    def _upgrade_request(self) -> object | None:
        """Set once a request the server will upgrade is read: the adapters hand over what follows."""
        return self._upgrade

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connections.add(self)
        self.transport = transport  # type: ignore[assignment]
        self.flow = FlowControl(self.transport, self.loop, self.timeout_response_send)
        self.writer = HTTP11Writer(self, self.transport, self.server_state)
        self.server = get_local_addr(self.transport)
        self.client = get_remote_addr(self.transport)
        self.scheme = "https" if is_ssl(self.transport) else "http"
        config = self.config
        self._scopes = ScopeMaker(
            config.asgi_version, config.root_path, self.app_state, self.scheme, self.server, self.client
        )
        self._extensions = http1_extensions(self.transport, config.ssl_certfile)
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sHTTP connection made", self.log_prefix())
        self.bounds.deadline.start()

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sHTTP connection lost", self.log_prefix())
        self._cancel_timers()
        for cycle in (self.cycle, self.pipeline.reading):
            if cycle is not None and not cycle.response_complete:
                cycle.feed_disconnect()
        self.pipeline.clear()
        if self.flow is not None:
            self.flow.stop()
            self.flow.resume_writing()  # wakes senders blocked on a full buffer: they see the disconnect

    def eof_received(self) -> bool | None:
        # A client may half-close after its request: keep the transport open for the response.
        self._peer_eof = True
        reading = self.pipeline.reading
        if reading is not None and reading.more_body:
            # The body can never be completed: the request is abandoned. Closing makes
            # connection_lost tell the app (http.disconnect); nothing else could close it.
            return None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.feed_eof()
            return True
        return True if self.pipeline else None

    def data_received(self, data: bytes) -> None:
        if self.pipeline.owed_error is not None:
            return  # nothing after a refused request is read as HTTP
        self._idle_since = None  # busy: the keep-alive timer, if running, will not close
        self.bounds.received += len(data)
        self._feed(data)
        if self._mid_head() and not self.transport.is_closing():
            too_large = self.bounds.arriving()
            if too_large is not None:
                self.reject(431, "Request header fields too large.", too_large)

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    # ------------------------------------------------------------ called by the adapters

    def stopped_reading(self) -> bool:
        """True once a request was refused (or the connection is closing): parse no further."""
        return self.pipeline.owed_error is not None or self.transport.is_closing()

    def on_request_head(
        self, method: str, target: bytes, http_version: str, headers: list[tuple[bytes, bytes]]
    ) -> None:
        """A complete request head: check it, then start (or queue) its cycle."""
        try:
            facts, raw_path, query_string = self.bounds.check(method, target, http_version, headers)
        except HeadProblem as problem:
            self.reject(problem.status, problem.message, problem.reason)
            return

        scope = self.scope = self._scopes.scope(method, http_version, raw_path, query_string, headers)
        scope["extensions"] = self._extensions.for_request(http_version)

        if facts.upgrade is not None:
            request = (method, target, http_version, headers)
            self._upgrade = pending_upgrade(
                request, facts, self.ws_protocol_class, self.h2c_class, self.logger
            )
            if self._upgrade is not None:
                return

        app = self.app
        if self.limit_concurrency is not None:
            app = within_concurrency(app, self.limit_concurrency, self.server_state, self.logger)

        last = self.bounds.one_more_request() or self._draining
        keep_alive = not facts.close and not self._peer_eof and not last
        cycle = RequestResponseCycle(scope, self, self.writer, self.flow, keep_alive, facts.expect_100)
        self.pipeline.reading = cycle
        if self.cycle is None:
            self.cycle = cycle
            self._run(cycle, app)
        else:
            self.pipeline.hold(cycle, app)
            self.flow.pause_reading()

    def on_request_body(self, chunk: bytes) -> None:
        reading = self.pipeline.reading
        too_large = self.bounds.body_too_large(len(chunk))
        if too_large is not None:
            self.reject(413, TOO_LARGE_MESSAGE, too_large)
            return
        # The rest of a body whose request is already answered is skipped: buffered,
        # it would stop reading at the high-water mark with nobody left to drain it.
        if (
            reading is not None
            and not reading.disconnected
            and not reading.response_complete
            and reading.feed_body(chunk)
        ):
            self.flow.pause_reading()  # the app is behind: stop reading until it catches up

    def on_request_complete(self) -> None:
        self.bounds.received = 0
        reading = self.pipeline.reading
        if reading is not None:
            self.pipeline.reading = None
            reading.feed_end()
            if reading.response_complete and self.cycle is None and not self.pipeline:
                self._go_idle()  # the skipped body's bytes had stopped the keep-alive timer

    def handoff_upgrade(self, trailing: bytes) -> None:
        """The parser reached the end of an upgrade request; ``trailing`` follows it."""
        assert self._upgrade is not None
        self._upgrade.trailing = trailing
        if self.cycle is None:
            switch_protocol(self, self._upgrade)
        else:
            self.flow.pause_reading()  # finish the response in flight first

    def reject(self, status: int, message: str, reason: str | None = None, bound: str | None = None) -> None:
        """Answer a request we refuse with ``status`` and close the connection (after what is owed first).

        ``bound``: the option refused it, when the status does not tell (for the metrics).
        """
        self.logger.warning("Invalid HTTP request received. %s", refusal_detail(status, message, reason))
        count_rejection(self.server_state, status, bound)
        self.bounds.deadline.stop()
        response = error_response(status, message, default_headers=self.server_state.default_headers)
        refusal = self.pipeline.refuse(response, self.cycle)
        if refusal is Refusal.OWED:
            self.flow.pause_reading()  # the answer goes out in turn (response_done)
            return
        if refusal is Refusal.IN_FLIGHT:
            cycle = self.cycle  # its body can never complete: answer it if the app has not, tell the app
            assert cycle is not None
            if not cycle.response_started:
                self.transport.write(response)
            cycle.feed_disconnect()
        elif refusal is Refusal.NOW and not self.transport.is_closing():
            self.transport.write(response)
        close_after_answer(self)

    # ------------------------------------------------------------ called by the cycle

    def want_body(self, cycle: RequestResponseCycle) -> None:
        """The app waits for more request body: read again unless requests are queued."""
        if not self.pipeline.holds_reading():
            self.flow.resume_reading()

    def request_body_stalled(self, cycle: RequestResponseCycle) -> bool:
        """The app waited ``timeout_request_body`` for more body: 408 (if nothing was answered), close."""
        if cycle is self.pipeline.reading:
            reason = stalled_reason(self.timeout_request_body)
            self.reject(408, TIMEOUT_MESSAGE, reason, "timeout_request_body")
        return True

    def response_done(self, cycle: RequestResponseCycle) -> None:
        """The response of ``cycle`` is complete: close, go on with the next request, or idle."""
        self.server_state.total_requests += 1
        transport = self.transport
        if transport.is_closing():
            return
        if not cycle.keep_alive:
            close_after_answer(self, refused=False)
            return
        self.cycle = None
        pipeline = self.pipeline
        if pipeline.waiting:
            cycle, app = pipeline.next()
            self.cycle = cycle
            if self._peer_eof:
                cycle.feed_eof()
            self._run(cycle, app)
            if not pipeline.holds_reading() and self._upgrade is None:
                self.flow.resume_reading()
            return
        if pipeline.owed_error is not None:
            transport.write(pipeline.owed_error)
            close_after_answer(self)
            return
        if self._upgrade is not None and self._upgrade.trailing is not None:
            switch_protocol(self, self._upgrade)
            return
        if self.flow.read_paused:
            self.flow.resume_reading()
        if self._peer_eof:
            transport.close()
            return
        self._go_idle()

    # ------------------------------------------------------------ server interface

    def shutdown(self) -> None:
        """Shut down now: close when idle, else after the response in flight (requests queued are dropped)."""
        self.pipeline.clear()
        if self.cycle is None or self.cycle.response_complete:
            if not self.transport.is_closing():
                self.transport.close()
        else:
            self.cycle.keep_alive = False

    def drain(self, grace: float | None = None) -> None:
        """Serve no request past the ones already sent, losing none of them, then close.

        The last request read (in flight, or queued behind it) gets ``connection: close``
        if its response has not begun; otherwise, and on an idle connection, the next
        request gets it. An idle connection is closed at its keep-alive timeout, as
        always: closing it sooner could cut a request already on its way.
        """
        self._draining = True
        last = self.pipeline.last(self.cycle)
        if last is not None and not last.response_started:
            last.keep_alive = False
        elif (
            self.cycle is None and self._idle_since is None and not self._mid_head() and self._upgrade is None
        ):
            self._go_idle()  # a connection that never sent a byte waits no longer than an idle one

    def release(self) -> None:
        """The transport goes to another protocol (an upgrade): this connection is done with it."""
        self.connections.discard(self)
        self._cancel_timers()
        self._upgrade = None

    # ------------------------------------------------------------ internals

    def _go_idle(self) -> None:
        if self._mid_head():
            # The next request began before the response ended: its head has its own
            # timeout_request_head, counted from now (the keep-alive wait is over).
            self.bounds.deadline.restart()
        else:
            # timeout_keep_alive bounds the wait for the next request's first byte;
            # from that byte, data_received gives its head timeout_request_head to arrive.
            self._start_keep_alive_timer()

    def _run(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        # A task copies the context it is created in; create_task(context=...) needs 3.11
        # (measured: no faster). The task removes itself from self.tasks when it ends
        # (RequestResponseCycle.run_asgi).
        task = cycle.task = self._context.run(self.loop.create_task, cycle.run_asgi(app))
        self.tasks.add(task)

    def _on_head_timeout(self) -> None:
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a head begun behind a response in flight: its time starts with the response's end
        if self._mid_head():
            self.reject(408, TIMEOUT_MESSAGE, self.bounds.timeout_reason())
        elif self.cycle is None and not self.pipeline:
            self.transport.close()  # opened but never sent a request

    def _cancel_timers(self) -> None:
        self._stop_keep_alive_timer()
        self.bounds.deadline.stop()

    def log_prefix(self) -> str:
        """``"client:port - "`` for the log lines about this connection."""
        return "%s:%d - " % self.client if self.client else ""
