"""The HTTP/1.1 connection both parser adapters share.

An adapter (h11 or httptools) only turns bytes into calls on this class:
``on_request_head``, ``on_request_body``, ``on_request_complete`` and ``reject``.
Everything else lives here: limits and timeouts on request heads, keep-alive,
pipelining in order, WebSocket upgrades, back-pressure and graceful shutdown.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.access_log import ConnectionAccessLog
from uvicorn.protocols.http.cycle import RequestResponseCycle
from uvicorn.protocols.http.exchange import count_rejection, watch_exchanges
from uvicorn.protocols.http.flow_control import FlowControl, service_unavailable
from uvicorn.protocols.http.h2c_upgrade import H2cRequest, h2c_request, switch_to_h2c
from uvicorn.protocols.http.http11_writer import HTTP11Writer
from uvicorn.protocols.http.keep_alive import KeepAliveTimer
from uvicorn.protocols.http.request_head import (
    HeadProblem,
    check_limits,
    check_version,
    decode_path,
    inspect_headers,
    refusal_detail,
    split_target,
)
from uvicorn.protocols.http.response_head import error_response
from uvicorn.protocols.http.scope_extensions import http1_extensions
from uvicorn.protocols.http.upgrade import UpgradeRequest, hand_over
from uvicorn.protocols.utils import (
    get_local_addr,
    get_remote_addr,
    is_ssl,
)

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import ASGI3Application, HTTPScope
    from uvicorn.protocols.contract import ProtocolConfig, ProtocolServerState

TRACE_LOG_LEVEL = 5
NO_WEBSOCKET_LIBRARY = (
    "No supported WebSocket library detected. Please use \"pip install 'uvicorn[standard]'\", "
    "or install 'websockets' or 'wsproto' manually."
)


class HTTPConnection(KeepAliveTimer, asyncio.Protocol):
    """Everything about an HTTP/1.1 connection except parsing; subclassed per parser."""

    # Slots: with this many attributes an instance dict costs 1.5 KiB per connection
    # (past 30 keys it stops sharing its keys). "__dict__" keeps ad-hoc attributes working.
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_context",
        "_extensions",
        "_h2c",
        "_head_bytes",
        "_head_timer",
        "_peer_eof",
        "_pending_error",
        "_raw_root_path",
        "_reading",
        "_scope_template",
        "_upgrade_request",
        "_upgrade_trailing",
        "access_lines",
        "access_log",
        "access_logger",
        "app",
        "app_state",
        "client",
        "config",
        "connections",
        "cycle",
        "exchanges",
        "flow",
        "h2c_class",
        "limit_concurrency",
        "limit_request_fields",
        "limit_request_head_size",
        "limit_request_line",
        "logger",
        "loop",
        "pipeline",
        "root_path",
        "scheme",
        "scope",
        "server",
        "server_state",
        "tasks",
        "timeout_keep_alive",
        "timeout_request_head",
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
        self.root_path = config.root_path
        self.limit_concurrency = config.limit_concurrency
        self.timeout_keep_alive = config.timeout_keep_alive
        self.timeout_request_head = config.timeout_request_head
        self.limit_request_line = config.limit_request_line
        self.limit_request_fields = config.limit_request_fields
        self.limit_request_head_size = config.limit_request_head_size
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
        self._scope_template: dict[str, Any] = {}
        self._raw_root_path = self.root_path.encode("ascii", "surrogateescape")

        # The cycle whose response is being produced, the one receiving body bytes
        # (ahead of it when the client pipelines), and complete requests waiting.
        self.scope: HTTPScope | None = None
        self.cycle: RequestResponseCycle | None = None
        self._reading: RequestResponseCycle | None = None
        # A list, not a deque: an empty deque costs 760 bytes per idle connection, and the
        # queue stays short (reading pauses as soon as a request waits here).
        self.pipeline: list[tuple[RequestResponseCycle, ASGI3Application]] = []
        # The parsed upgrade request to hand to the WebSocket protocol: method, target, version, headers.
        self._upgrade_request: UpgradeRequest | None = None
        self._h2c: H2cRequest | None = None  # or, for "Upgrade: h2c", the request of HTTP/2 stream 1
        self._upgrade_trailing: bytes | None = None  # bytes after it, once the parser gives them
        self._pending_error: bytes | None = None  # error response owed after the current one
        self._peer_eof = False

        self._init_keep_alive()
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0  # bytes received towards the current, incomplete, request head

    # ------------------------------------------------------------ parser adapter interface

    def _feed(self, data: bytes) -> None:
        """Give bytes to the parser, which calls back into the ``on_*`` methods."""
        raise NotImplementedError

    def _mid_head(self) -> bool:
        """True while the parser holds part of a request head."""
        raise NotImplementedError

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connections.add(self)
        self.transport = transport  # type: ignore[assignment]
        self.flow = FlowControl(self.transport)
        self.writer = HTTP11Writer(self, self.transport, self.server_state)
        self.server = get_local_addr(self.transport)
        self.client = get_remote_addr(self.transport)
        self.scheme = "https" if is_ssl(self.transport) else "http"
        self._extensions = http1_extensions(self.transport, self.config.ssl_certfile)
        self._scope_template = {
            "type": "http",
            "asgi": {"version": self.config.asgi_version, "spec_version": "2.3"},
            "scheme": self.scheme,
            "server": self.server,
            "client": self.client,
            "root_path": self.root_path,
        }
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sHTTP connection made", self._log_prefix())
        self._head_timer = self.loop.call_later(self.timeout_request_head, self._on_head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sHTTP connection lost", self._log_prefix())
        self._cancel_timers()
        for cycle in (self.cycle, self._reading):
            if cycle is not None and not cycle.response_complete:
                cycle.feed_disconnect()
        self.pipeline.clear()
        if self.flow is not None:
            self.flow.resume_writing()  # wakes senders blocked on a full buffer: they see the disconnect

    def eof_received(self) -> bool | None:
        # A client may half-close after sending its request: keep the transport open
        # so the response can still be written, then close.
        self._peer_eof = True
        reading = self._reading
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
        if self._pending_error is not None:
            return  # nothing after a refused request is read as HTTP
        self._idle_since = None  # busy: the keep-alive timer, if running, will not close
        self._head_bytes += len(data)
        self._feed(data)
        if self._mid_head() and not self.transport.is_closing():
            if self._head_bytes > self.limit_request_head_size:
                self.reject(
                    431,
                    "Request header fields too large.",
                    f"request head over {self.limit_request_head_size} bytes (limit_request_head_size)",
                )
            elif self._head_timer is None:
                self._head_timer = self.loop.call_later(self.timeout_request_head, self._on_head_timeout)

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    # ------------------------------------------------------------ called by the adapters

    def stopped_reading(self) -> bool:
        """True once a request was refused (or the connection is closing): parse no further."""
        return self._pending_error is not None or self.transport.is_closing()

    def on_request_head(
        self, method: str, target: bytes, http_version: str, headers: list[tuple[bytes, bytes]]
    ) -> None:
        """A complete request head: check it, then start (or queue) its cycle."""
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self._head_bytes = 0
        try:
            check_version(http_version)
            check_limits(
                method,
                target,
                headers,
                self.limit_request_line,
                self.limit_request_fields,
                self.limit_request_head_size,
            )
            facts = inspect_headers(headers, http_version == "1.1")
            raw_path, query_string = split_target(target)
        except HeadProblem as problem:
            self.reject(problem.status, problem.message, problem.reason)
            return

        scope: HTTPScope = self._scope_template.copy()  # type: ignore[assignment]
        scope["http_version"] = http_version
        scope["method"] = method
        scope["path"] = self.root_path + decode_path(raw_path)
        scope["raw_path"] = self._raw_root_path + raw_path
        scope["query_string"] = query_string
        scope["headers"] = headers
        scope["state"] = self.app_state.copy()
        scope["extensions"] = self._extensions.for_request(http_version)
        self.scope = scope

        if facts.upgrade is not None and facts.upgrade_token:
            if facts.upgrade == b"websocket" and self.ws_protocol_class is not None:
                self._upgrade_request = (method, target, http_version, headers)
                return
            if facts.upgrade == b"h2c" and self.h2c_class is not None:
                self._h2c = h2c_request(method, target, headers)
                if self._h2c is not None:
                    self._upgrade_request = (method, target, http_version, headers)
                    return
                # An h2c upgrade with a body stays on HTTP/1.1 (RFC 7540 3.2 allows it): no warning.
            else:
                self.logger.warning("Unsupported upgrade request.")
                if self.ws_protocol_class is None:
                    self.logger.warning(NO_WEBSOCKET_LIBRARY)

        app = self.app
        limit = self.limit_concurrency
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            app = service_unavailable
            self.logger.warning("Exceeded concurrency limit.")
            count_rejection(self.server_state, 503)

        keep_alive = not facts.close and not self._peer_eof
        cycle = RequestResponseCycle(scope, self, self.writer, self.flow, keep_alive, facts.expect_100)
        self._reading = cycle
        if self.cycle is None:
            self.cycle = cycle
            self._run(cycle, app)
        else:
            self.pipeline.append((cycle, app))
            self.flow.pause_reading()

    def on_request_body(self, chunk: bytes) -> None:
        reading = self._reading
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
        self._head_bytes = 0
        reading = self._reading
        if reading is not None:
            self._reading = None
            reading.feed_end()
            if reading.response_complete and self.cycle is None and not self.pipeline:
                self._start_keep_alive_timer()  # the skipped body's bytes had stopped it

    def handoff_upgrade(self, trailing: bytes) -> None:
        """The parser reached the end of an upgrade request; ``trailing`` follows it."""
        self._upgrade_trailing = trailing
        if self.cycle is None:
            self._switch_protocol()
        else:
            self.flow.pause_reading()  # finish the response in flight first

    def reject(self, status: int, message: str, reason: str | None = None) -> None:
        """Answer a request we refuse with ``status`` and close the connection."""
        self.logger.warning("Invalid HTTP request received. %s", refusal_detail(status, message, reason))
        count_rejection(self.server_state, status)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        response = error_response(status, message, default_headers=self.server_state.default_headers)
        cycle = self.cycle
        if cycle is not None and cycle is self._reading and not cycle.response_complete:
            # The bad bytes are the body of the request in flight: it can never be completed.
            # Answer it if the app has not begun to; closing tells the app (http.disconnect).
            if not cycle.response_started:
                self.transport.write(response)
            self.transport.close()
            return
        if cycle is not None and not cycle.response_complete:
            # Answer in order: after the responses to the requests before this one.
            self._pending_error = response
            self.flow.pause_reading()
            return
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()

    # ------------------------------------------------------------ called by the cycle

    def want_body(self, cycle: RequestResponseCycle) -> None:
        """The app waits for more request body: read again unless requests are queued."""
        if not self.pipeline and self._pending_error is None:
            self.flow.resume_reading()

    def response_done(self, cycle: RequestResponseCycle) -> None:
        """The response of ``cycle`` is complete: close, go on with the next request, or idle."""
        self.server_state.total_requests += 1
        transport = self.transport
        if transport.is_closing():
            return
        if not cycle.keep_alive:
            transport.close()
            return
        self.cycle = None
        if self.pipeline:
            cycle, app = self.pipeline.pop(0)
            self.cycle = cycle
            if self._peer_eof:
                cycle.feed_eof()
            self._run(cycle, app)
            if not self.pipeline and self._upgrade_trailing is None and self._pending_error is None:
                self.flow.resume_reading()
            return
        if self._pending_error is not None:
            transport.write(self._pending_error)
            transport.close()
            return
        if self._upgrade_trailing is not None:
            self._switch_protocol()
            return
        self.flow.resume_reading()
        if self._peer_eof:
            transport.close()
            return
        # Idle now: timeout_keep_alive bounds the wait for the next request's first byte;
        # from that byte, data_received gives its head timeout_request_head to arrive.
        self._start_keep_alive_timer()

    # ------------------------------------------------------------ server interface

    def shutdown(self) -> None:
        """Graceful shutdown: close when idle, else after the response in flight."""
        self.pipeline.clear()
        if self.cycle is None or self.cycle.response_complete:
            if not self.transport.is_closing():
                self.transport.close()
        else:
            self.cycle.keep_alive = False

    # ------------------------------------------------------------ internals

    def _run(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        # A task copies the context it is created in; create_task(context=...) needs 3.11.
        # The task removes itself from self.tasks when it ends (RequestResponseCycle.run_asgi).
        task = cycle.task = self._context.run(self.loop.create_task, cycle.run_asgi(app))
        self.tasks.add(task)

    def _on_head_timeout(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._mid_head():
            self.reject(
                408,
                "Request Timeout.",
                f"request head not complete after {self.timeout_request_head}s (timeout_request_head)",
            )
        elif self.cycle is None and not self.pipeline:
            self.transport.close()  # opened but never sent a request

    def _cancel_timers(self) -> None:
        self._stop_keep_alive_timer()
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _switch_protocol(self) -> None:
        if self._h2c is not None:
            assert self.h2c_class is not None
            self.connections.discard(self)
            self._cancel_timers()
            if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
                self.logger.log(TRACE_LOG_LEVEL, "%sUpgrading to HTTP/2 (h2c)", self._log_prefix())
            switch_to_h2c(self, self.h2c_class, self._h2c, self._upgrade_trailing or b"")
            self._h2c = self._upgrade_request = self._upgrade_trailing = None
            return
        self._switch_to_websocket()

    def _switch_to_websocket(self) -> None:
        assert self.ws_protocol_class is not None and self._upgrade_request is not None
        self.connections.discard(self)
        self._cancel_timers()
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sUpgrading to WebSocket", self._log_prefix())
        self.flow.resume_reading()
        request, trailing = self._upgrade_request, self._upgrade_trailing or b""
        self._upgrade_request = self._upgrade_trailing = None
        arguments = {"config": self.config, "server_state": self.server_state, "app_state": self.app_state}
        hand_over(self.ws_protocol_class, self.transport, arguments, request, trailing)

    def _log_prefix(self) -> str:
        return "%s:%d - " % self.client if self.client else ""
