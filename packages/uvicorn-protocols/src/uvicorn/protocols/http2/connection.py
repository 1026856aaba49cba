"""The HTTP/2 connection: an asyncio protocol serving each stream with the shared ASGI cycle.

Bytes go to the ``FrameGuard`` (floods end the connection), then to the engine,
which calls ``on_request``/``on_data``/``on_end``/``on_reset``. A request becomes
an ``HTTP2Stream`` (its response writer) and a ``RequestResponseCycle``, as on
HTTP/1.1; an extended CONNECT becomes a WebSocket (``websocket.py``); request
bodies are ``request_body.py``'s. Kept here: concurrent streams and the streams
a connection may serve, idle and head timeouts, GOAWAY and drain.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import TYPE_CHECKING, Any, ClassVar, cast

from uvicorn.protocols.http.access_log import ConnectionAccessLog
from uvicorn.protocols.http.cycle import RequestResponseCycle
from uvicorn.protocols.http.deadline import Deadline
from uvicorn.protocols.http.exchange import count_rejection, watch_exchanges
from uvicorn.protocols.http.flow_control import FlowControl, within_concurrency
from uvicorn.protocols.http.keep_alive import KeepAliveTimer
from uvicorn.protocols.http.lingering_close import close_lingering
from uvicorn.protocols.http.request_head import HeadProblem, refusal_detail
from uvicorn.protocols.http.scope_extensions import ScopeExtensions, http2_extensions
from uvicorn.protocols.http2.engine import (
    ENHANCE_YOUR_CALM,
    NO_ERROR,
    PROTOCOL_ERROR,
    REFUSED_STREAM,
    Engine,
    ProtocolFailure,
    engine_class,
)
from uvicorn.protocols.http2.frame_guard import FrameGuard
from uvicorn.protocols.http2.limits import HTTP2Limits
from uvicorn.protocols.http2.request import read_request, refusal
from uvicorn.protocols.http2.request_body import RequestBodies
from uvicorn.protocols.http2.stream import HTTP2Stream
from uvicorn.protocols.http2.websocket import WebSocketStream, accepts_websockets, open_websocket
from uvicorn.protocols.utils import get_local_addr, get_remote_addr, is_ssl

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import ASGI3Application
    from uvicorn.protocols.contract import ProtocolConfig, ProtocolServerState

__all__ = ["HTTP2Connection"]

TRACE_LOG_LEVEL = 5


class HTTP2Connection(KeepAliveTimer, asyncio.Protocol):
    """HTTP/2 on one transport; ``engine_class`` picks the framing library (None: ``config.http2_engine``)."""

    engine_class: ClassVar[type[Engine] | None] = None
    alpn_protocols: ClassVar[list[str]] = ["h2"]

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
        self.root_path: str = config.root_path
        self.limit_concurrency = config.limit_concurrency
        self.timeout_keep_alive = config.timeout_keep_alive
        self.timeout_request_head = config.timeout_request_head
        self.timeout_request_body = config.timeout_request_body  # read by the cycles
        self.timeout_response_send = config.timeout_response_send  # read by the streams
        self.app_state = app_state
        self.server_state = server_state
        self.connections = server_state.connections
        self.tasks = server_state.tasks
        self._context = contextvars.Context() if config.reset_contextvars else contextvars.copy_context()
        self.limits = HTTP2Limits.from_config(config)
        chosen = type(self).engine_class or engine_class(config.http2_engine)
        self.accepts_websockets = accepts_websockets(config.ws_protocol_class)
        self.engine: Engine = chosen(self, self.limits.local_settings(self.accepts_websockets))
        self.guard = FrameGuard(self.limits)
        self.bodies = RequestBodies(self, config.limit_request_body, config.timeout_request_body)
        # Streams served before the client is asked to reconnect: the engine's own bound, or ours.
        budgets = [b for b in (self.engine.stream_budget, config.limit_keep_alive_requests) if b is not None]
        self._stream_budget = min(budgets) if budgets else None

        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.flow: FlowControl = None  # type: ignore[assignment]
        self.client: tuple[str, int] | None = None
        self.streams: dict[int, HTTP2Stream] = {}  # open request streams, by id
        self.websockets: dict[int, WebSocketStream] = {}  # open WebSocket streams (RFC 8441)
        self.waiting: set[HTTP2Stream] = set()  # streams whose send() waits for window or transport
        self.scope_template: dict[str, Any] = {}  # the scope fields every stream shares
        self.extensions: ScopeExtensions = http2_extensions(None, None)  # until the connection is made
        self._raw_root_path = self.root_path.encode("ascii", "surrogateescape")
        self._last_stream_id = 0
        self._opened = 0  # streams accepted on this connection
        self._going_away = False  # GOAWAY sent: no new streams, close once the open ones finish
        self._write_scheduled = False
        self._window_grew = False
        self._call_soon = getattr(self.loop, "call_soon", None)
        self._head_deadline = Deadline(self.loop, self.timeout_request_head, self._on_head_timeout)
        self._init_keep_alive()

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._start(transport)
        self.engine.initiate()
        self._after_start()

    def _start(self, transport: asyncio.BaseTransport) -> None:
        self.connections.add(self)
        self.transport = cast("asyncio.Transport", transport)
        self.flow = FlowControl(self.transport, self.loop, self.timeout_response_send)
        self.client = get_remote_addr(self.transport)
        self.extensions = http2_extensions(self.transport, self.config.ssl_certfile)
        self.scope_template = {
            "type": "http",
            "asgi": {"version": self.config.asgi_version, "spec_version": "2.3"},
            "http_version": "2",
            "scheme": "https" if is_ssl(self.transport) else "http",
            "server": get_local_addr(self.transport),
            "client": self.client,
            "root_path": self.root_path,
        }
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sHTTP/2 connection made", self._log_prefix())

    def _after_start(self) -> None:
        self._write_now()
        if not self.streams:
            self._start_keep_alive_timer()  # idle until its first request
        self._head_deadline.start()

    def start_upgraded(
        self,
        transport: asyncio.BaseTransport,
        settings_header: bytes,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        """Take over from HTTP/1.1 after ``Upgrade: h2c`` (RFC 7540 3.2): the request becomes stream 1."""
        self._start(transport)
        try:
            self.engine.initiate_upgrade(settings_header, method, target, headers)
        except Exception as exc:  # a bad HTTP2-Settings header
            self._fail(PROTOCOL_ERROR, f"invalid HTTP2-Settings header ({exc})")
            return
        self._after_start()

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sHTTP/2 connection lost", self._log_prefix())
        self._stop_keep_alive_timer()
        self._head_deadline.stop()
        self._abandon_streams()
        if self.flow is not None:
            self.flow.stop()
            self.flow.resume_writing()
        self._wake_waiting()

    def eof_received(self) -> bool | None:
        return None  # HTTP/2 has no half-close: the client is gone

    def data_received(self, data: bytes) -> None:
        problem = self.guard.check(data)
        if problem is not None:
            self._fail(ENHANCE_YOUR_CALM, problem)
            return
        try:
            self.engine.receive(data)
        except ProtocolFailure as failure:
            self.logger.warning("Invalid HTTP/2 frame received: %s", failure)
            self._write_now()
            self._abandon_streams()
            close_lingering(self)  # the GOAWAY must not be lost to a reset (lingering_close.py)
            return
        self._write_now()
        if self._window_grew:
            self._window_grew = False
            self._wake_waiting()
        if self.guard.mid_head:
            self._head_deadline.start()
        else:
            self._head_deadline.stop()

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()
        self._wake_waiting()

    # ------------------------------------------------------------ engine events

    def on_request(
        self,
        stream_id: int,
        method: bytes,
        target: bytes,
        protocol: bytes | None,
        headers: Any,
        end_stream: bool,
    ) -> None:
        open_streams = len(self.streams) + len(self.websockets)
        if self._going_away or open_streams >= self.limits.max_concurrent_streams:
            self.engine.reset_stream(stream_id, REFUSED_STREAM)  # safe for the client to retry
            return
        self._last_stream_id = stream_id
        if not target.isascii():
            self.engine.reset_stream(stream_id, PROTOCOL_ERROR)  # RFC 9113 8.3.1: :path is ASCII
            return
        if protocol is not None:
            if protocol != b"websocket" or not self.accepts_websockets or end_stream:
                self.engine.reset_stream(stream_id, PROTOCOL_ERROR)  # RFC 8441 4: not offered
                return
            self._idle_since = None
            self.websockets[stream_id] = open_websocket(self, stream_id, target, headers)
            return
        try:
            scope, facts = read_request(
                self.scope_template, self._raw_root_path, method, target, headers, self.limits
            )
            scope["extensions"] = self.extensions.for_request("2")
        except HeadProblem as problem:
            # Refused before the app sees it: this stream is answered, the connection goes on.
            self.answer_stream(stream_id, problem.status, problem.message, problem.reason)
            if not end_stream:
                self.engine.reset_stream(stream_id, NO_ERROR)  # RFC 9113 8.1: no need for its body
            return
        scope["state"] = self.app_state.copy()
        stream = HTTP2Stream(self, stream_id, facts.content_length, facts.trailers)
        cycle = stream.cycle = RequestResponseCycle(scope, self, stream, stream, True, facts.expect_100)  # type: ignore[arg-type]
        if end_stream:
            cycle.more_body = False
            if facts.content_length:
                self.reset_stream(stream, PROTOCOL_ERROR)  # RFC 9113 8.1.1: a body was announced
                return
        self.streams[stream_id] = stream
        self._idle_since = None  # busy: the idle timer, if running, will not close
        app = within_concurrency(self.app, self.limit_concurrency, self.server_state, self.logger)
        task = cycle.task = self._context.run(self.loop.create_task, cycle.run_asgi(app))
        self.tasks.add(task)
        self._opened += 1
        budget = self._stream_budget
        if budget is not None and self._opened >= budget:
            self.logger.debug("HTTP/2 connection served %d streams: asking the client to reconnect", budget)
            self._go_away()

    def on_data(self, stream_id: int, data: bytes) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or stream.reset:
            websocket = self.websockets.get(stream_id)
            if websocket is not None:
                websocket.receive(data)
            else:
                self.engine.acknowledge(stream_id, len(data))
            return
        self.bodies.data(stream, data)

    def on_end(self, stream_id: int, trailers: Any) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or stream.reset or stream.cycle is None or not stream.cycle.more_body:
            websocket = self.websockets.get(stream_id)
            if websocket is not None:
                websocket.close()  # the client ended its side: the WebSocket is over (RFC 8441 5.3)
            return  # ended already (h2 reports the end of a head or trailers twice)
        self.bodies.end(stream)

    def on_reset(self, stream_id: int) -> None:
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            self._forget(stream)
            self._after_stream()
            return
        websocket = self.websockets.pop(stream_id, None)
        if websocket is not None:
            websocket.lost()
            self._after_stream()

    def on_window_update(self) -> None:
        self._window_grew = True  # woken once the engine has written what the window lets out

    def on_goaway(self) -> None:
        self._going_away = True
        if not self.engine.answers_after_goaway:
            self._abandon_streams()  # their apps see a disconnect; nothing more can be sent
        if not self.streams and not self.websockets:
            self._close()

    # ------------------------------------------------------------ called by cycles and streams

    def want_body(self, cycle: RequestResponseCycle) -> None:
        """The app read the body it had: give the client that much window and read again."""
        self.bodies.credit(cast("HTTP2Stream", cycle.writer))

    def request_body_stalled(self, cycle: RequestResponseCycle) -> bool:
        """The app waited ``timeout_request_body`` for more body: 408 or a reset on its stream."""
        return self.bodies.stalled(cast("HTTP2Stream", cycle.writer))

    def response_done(self, cycle: RequestResponseCycle) -> None:
        self.server_state.total_requests += 1
        stream = cast("HTTP2Stream", cycle.writer)
        if self.streams.pop(stream.stream_id, None) is None:
            return
        if cycle.more_body and not stream.reset:
            # Answered before the request finished: ask the client to stop sending (RFC 9113 8.1).
            self.engine.reset_stream(stream.stream_id, NO_ERROR)
            stream.reset = True
            self.want_body(cycle)
        self._after_stream()

    def reset_stream(self, stream: HTTP2Stream, error_code: int) -> None:
        """End ``stream`` with RST_STREAM(``error_code``); the app, if running, sees a disconnect."""
        self.engine.reset_stream(stream.stream_id, error_code)
        self.write_soon()
        if self.streams.pop(stream.stream_id, None) is not None:
            self._forget(stream)
            self._after_stream()
        else:
            stream.reset = True

    def answer_stream(
        self, stream_id: int, status: int, message: str, reason: str | None, bound: str | None = None
    ) -> None:
        """The server's own answer on a stream (the shared error response), logged as a refusal."""
        self.logger.warning("Invalid HTTP request received. %s", refusal_detail(status, message, reason))
        count_rejection(self.server_state, status, bound)
        headers, body = refusal(HeadProblem(status, message), self.server_state.default_headers)
        self.engine.send_response(stream_id, status, headers, False)
        self.engine.send_data(stream_id, body, True)
        self.write_soon()

    def websocket_done(self, websocket: WebSocketStream) -> None:
        """A WebSocket stream ended (closed or refused): its session hears the stream is gone."""
        if self.websockets.pop(websocket.stream_id, None) is not None:
            self.loop.call_later(0, websocket.lost)
            self._after_stream()

    def write_soon(self) -> None:
        """Write what the engine has queued once this loop iteration's streams have all written."""
        if not self._write_scheduled:
            if self._call_soon is None:
                self._write_now()
                return
            self._write_scheduled = True
            self._call_soon(self._write_now)

    # ------------------------------------------------------------ server interface

    def shutdown(self) -> None:
        """Graceful shutdown: GOAWAY now, then close once the open streams are answered (as :meth:`drain`)."""
        self.drain(None)

    def drain(self, grace: float | None = None) -> None:
        """GOAWAY (it names the last stream served: the client retries later ones elsewhere), then drain.

        WebSockets close as on HTTP/1.1: 1012 now without ``grace``, else 1001 shortly before it ends.
        """
        self._go_away()
        for websocket in list(self.websockets.values()):
            if websocket.session is not None:
                websocket.session.drain(grace)

    def timeout_keep_alive_handler(self) -> None:
        """No stream for ``timeout_keep_alive`` seconds: say goodbye and close."""
        self._go_away()

    # ------------------------------------------------------------ internals

    def _go_away(self) -> None:
        if not self._going_away:
            self._going_away = True
            self.engine.goaway(NO_ERROR, self._last_stream_id)
            self._write_now()
        if not self.streams and not self.websockets:
            self._close()

    def _after_stream(self) -> None:
        if self.streams or self.websockets:
            return
        if self._going_away:
            self._close()
        else:
            self._start_keep_alive_timer()

    def _forget(self, stream: HTTP2Stream) -> None:
        stream.reset = True
        stream.wake()
        cycle = stream.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.feed_disconnect()

    def _fail(self, error_code: int, reason: str) -> None:
        self.logger.warning("HTTP/2 connection closed (GOAWAY %d): %s", error_code, reason)
        self.engine.goaway(error_code, self._last_stream_id)
        self._write_now()
        self._abandon_streams()
        close_lingering(self)

    def _abandon_streams(self) -> None:
        """The connection is gone or going: every app still running sees a disconnect."""
        streams = list(self.streams.values())
        self.streams.clear()
        for stream in streams:
            self._forget(stream)
        websockets = list(self.websockets.values())
        self.websockets.clear()
        for websocket in websockets:
            websocket.lost()

    def _write_now(self) -> None:
        self._write_scheduled = False
        data = self.engine.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(data)

    def _close(self) -> None:
        if not self.transport.is_closing():
            self._write_now()
            close_lingering(self)  # RFC 9113 6.8: the client may still be sending

    def _wake_waiting(self) -> None:
        waiting, self.waiting = self.waiting, set()
        for stream in waiting:
            stream.wake()

    def _on_head_timeout(self) -> None:
        if self.guard.mid_head and not self.transport.is_closing():
            self._fail(
                PROTOCOL_ERROR,
                f"request head not complete after {self.timeout_request_head}s (timeout_request_head)",
            )

    def _log_prefix(self) -> str:
        return "%s:%d - " % self.client if self.client else ""
