"""One ASGI WebSocket session, shared by the websockets-sansio, websockets and wsproto adapters.

Everything an app can observe lives here, so it is the same whichever library
reads the frames: the opening handshake request and the ASGI scope, the message
queue (``ws_max_queue``, with reading paused while it is full), the
accept/close/denial state machine, write flow control, keepalive pings, the
closing handshake and graceful shutdown with ``1012``.

An adapter subclasses :class:`WebSocketSession` and only translates: it lets its
library check the handshake and build the ``101`` answer, turns incoming bytes
into calls of :meth:`_deliver`, :meth:`_on_pong`, :meth:`_on_peer_close` and
:meth:`_on_failure` (the library's replies, such as pongs and close echoes, are
written by the adapter), and encodes outgoing frames.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.utils import (
    ClientDisconnected,
    get_client_addr,
    get_local_addr,
    get_path_with_query_string,
    get_remote_addr,
    is_ssl,
)
from uvicorn.protocols.websockets.close_codes import check_close
from uvicorn.protocols.websockets.denial import DenialResponse
from uvicorn.protocols.websockets.handshake import (
    MAX_HEAD_SIZE,
    HandshakeError,
    HandshakeRequest,
    checked_headers,
    read_request,
    rejection,
)

if TYPE_CHECKING:
    from uvicorn._types import ASGI3Application, ASGIReceiveEvent, ASGISendEvent, WebSocketScope
    from uvicorn.config import Config
    from uvicorn.server import ServerState

__all__ = ["WebSocketSession"]

TRACE_LOG_LEVEL = 5

# Where the session is. Data frames flow only while OPEN; CLOSING waits for the
# peer's reply to our close frame.
AWAITING_REQUEST, HANDSHAKE, DENYING, OPEN, CLOSING, CLOSED = range(6)

_CONNECT: dict[str, Any] = {"type": "websocket.connect"}
_INTERNAL_ERROR = rejection(500, "Internal Server Error")
_FORBIDDEN_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]


class WebSocketSession(asyncio.Protocol):
    """The ASGI side of a WebSocket connection; subclassed once per library."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self.config = config
        self.app: ASGI3Application = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.logger = logging.getLogger("uvicorn.error")
        self.root_path = config.root_path
        self._raw_root_path = self.root_path.encode("ascii", "surrogateescape")
        self.app_state = app_state
        self.server_state = server_state
        self.connections = server_state.connections
        self.tasks = server_state.tasks
        self.max_size: int = config.ws_max_size
        self.max_queue: int = max(1, config.ws_max_queue)
        self._resume_queue_at = self.max_queue // 2
        self.ping_interval: float | None = config.ws_ping_interval
        self.ping_timeout: float | None = config.ws_ping_timeout
        self._fresh_context: bool = config.reset_contextvars

        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.server: tuple[str, int | None] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "ws"
        self.scope: WebSocketScope = None  # type: ignore[assignment]

        self._state = AWAITING_REQUEST
        self._buffer = b""  # the request head so far, then bytes that arrive before the accept
        self._queue: deque[dict[str, Any]] = deque([_CONNECT.copy()])
        self._receiver: asyncio.Future[None] | None = None  # the app's receive(), waiting
        self._disconnect: dict[str, Any] | None = None  # queued once; repeated to late receive() calls
        self._ended_by: str | None = None  # the app message that ended the session
        self._denial: DenialResponse | None = None
        self._lost = False
        self._opened = False
        self.close_timeout = 10.0
        self.close_timer: asyncio.TimerHandle | None = None

        # Reading pauses while any of these holds; see _update_reading().
        self._read_paused = False
        self._queue_full = False
        self._write_paused = False
        self._early_full = False
        self._writable = asyncio.Event()
        self._writable.set()

        self.ping_timer: asyncio.TimerHandle | None = None
        self.pong_timer: asyncio.TimerHandle | None = None
        self.ping_sent_at = 0.0
        self._ping_payload = b""

    # ------------------------------------------------------------ adapter interface

    def _library_handshake(self, request: HandshakeRequest) -> None:
        """Let the library read the valid request; raise :class:`HandshakeError` if it refuses it."""
        raise NotImplementedError

    def _accept_response(self, subprotocol: str | None, headers: list[tuple[bytes, bytes]]) -> bytes:
        """The ``101`` response, with the negotiated extensions, ``subprotocol`` and ``headers``."""
        raise NotImplementedError

    def _receive_frames(self, data: bytes) -> None:
        """Feed bytes after the handshake to the library and report what they carried."""
        raise NotImplementedError

    def _encode_text(self, text: str) -> bytes:
        raise NotImplementedError

    def _encode_bytes(self, data: bytes) -> bytes:
        raise NotImplementedError

    def _encode_close(self, code: int, reason: str) -> bytes:
        raise NotImplementedError

    def _encode_ping(self, payload: bytes) -> bytes:
        raise NotImplementedError

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connections.add(self)
        self.transport = transport  # type: ignore[assignment]
        self.server = get_local_addr(self.transport)
        self.client = get_remote_addr(self.transport)
        self.scheme = "wss" if is_ssl(self.transport) else "ws"
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sWebSocket connection made", self._log_prefix())

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sWebSocket connection lost", self._log_prefix())
        if self._opened:
            self.logger.info("connection closed")
        self._lost = True
        self._stop_timers()
        self._state = CLOSED
        self._queue_disconnect(1006)  # abnormal closure, unless a close frame said otherwise
        self._writable.set()  # asyncio never resumes writing on a lost transport
        if exc is None:
            self.transport.close()

    def eof_received(self) -> None:
        # The peer will send nothing more; returning None lets the transport close.
        return None

    def data_received(self, data: bytes) -> None:
        state = self._state
        if state in (OPEN, CLOSING):
            self._receive_frames(data)
        elif state == AWAITING_REQUEST:
            self._read_head(data)
        elif state == CLOSED:
            # E.g. a pong that crossed our close: the session is over, nothing to read.
            if not self.transport.is_closing():
                self.transport.close()
        else:
            # A client must wait for the 101 before sending frames; hold them, bounded.
            self._buffer += data
            if len(self._buffer) > MAX_HEAD_SIZE and not self._early_full:
                self._early_full = True
                self._update_reading()

    def pause_writing(self) -> None:
        self._write_paused = True
        self._writable.clear()
        self._update_reading()  # a peer that does not read must not make us queue pongs for it

    def resume_writing(self) -> None:
        self._write_paused = False
        self._writable.set()
        self._update_reading()

    # ------------------------------------------------------------ server interface

    def shutdown(self) -> None:
        """Graceful shutdown: close an open WebSocket with 1012 and let the app finish."""
        state = self._state
        if state == OPEN:
            self._queue_disconnect(1012)
            self._send_close(1012, "")
        elif state == CLOSING:
            self._finish()  # our close frame is out; stop waiting for the reply
        elif state == HANDSHAKE or (state == DENYING and not self._denial_started()):
            self._end_with(_INTERNAL_ERROR)
        else:
            self._finish()

    # ------------------------------------------------------------ the opening handshake

    def _read_head(self, data: bytes) -> None:
        buffer = self._buffer + data
        end = buffer.find(b"\r\n\r\n")
        if end == -1:
            if len(buffer) > MAX_HEAD_SIZE:
                self._refuse(HandshakeError(431, "Request header fields too large."))
            else:
                self._buffer = buffer
            return
        self._buffer = buffer[end + 4 :]
        try:
            request = read_request(buffer[: end + 4])
            self._library_handshake(request)
        except HandshakeError as error:
            self._refuse(error)
            return
        self._start_app(request)

    def _refuse(self, error: HandshakeError) -> None:
        self.logger.warning(
            "%sInvalid WebSocket handshake (%d): %s", self._log_prefix(), error.status, error.message
        )
        self._end_with(error.response())

    def _start_app(self, request: HandshakeRequest) -> None:
        self._state = HANDSHAKE
        self.scope = {
            "type": "websocket",
            "asgi": {"version": self.config.asgi_version, "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": self.scheme,
            "server": self.server,
            "client": self.client,
            "root_path": self.root_path,
            "path": self.root_path + request.path,
            "raw_path": self._raw_root_path + request.raw_path,
            "query_string": request.query_string,
            "headers": request.headers,
            "subprotocols": request.subprotocols,
            "state": self.app_state.copy(),
            "extensions": {"websocket.http.response": {}},
        }
        if self._fresh_context:
            # Nothing set around the server (or in the lifespan) leaks into the app.
            task = contextvars.Context().run(self.loop.create_task, self.run_asgi())
        else:
            task = self.loop.create_task(self.run_asgi())
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    # ------------------------------------------------------------ running the app

    async def run_asgi(self) -> None:
        """Run the app for this connection and make sure the client always gets an answer."""
        try:
            result = await self.app(self.scope, self.receive, self.send)  # type: ignore[func-returns-value]
        except ClientDisconnected:
            pass
        except BaseException as exc:
            self.logger.error("Exception in ASGI application\n", exc_info=exc)
            self._answer_500_if_possible()
        else:
            if self._state in (HANDSHAKE, DENYING):
                self.logger.error("ASGI callable returned without completing handshake.")
                self._answer_500_if_possible()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self._state != CLOSING:
            # Without a close from the app the connection just ends, as upstream (the
            # client sees 1006); after one, we wait for the peer's reply or the timer.
            self._finish()

    def _answer_500_if_possible(self) -> None:
        if self._state == HANDSHAKE or (self._state == DENYING and not self._denial_started()):
            self._end_with(_INTERNAL_ERROR)

    # ------------------------------------------------------------ ASGI receive

    async def receive(self) -> ASGIReceiveEvent:
        queue = self._queue
        while not queue:
            if self._disconnect is not None:
                return self._disconnect.copy()  # type: ignore[return-value]
            self._receiver = asyncio.get_running_loop().create_future()
            await self._receiver
        message = queue.popleft()
        if self._queue_full and len(queue) <= self._resume_queue_at:
            self._queue_full = False
            self._update_reading()
        return message  # type: ignore[return-value]

    def _deliver(self, message: dict[str, Any]) -> None:
        """Queue a complete incoming message for the app (dropped once a close is under way)."""
        if self._state != OPEN:
            return
        queue = self._queue
        queue.append(message)
        receiver = self._receiver
        if receiver is not None:
            self._receiver = None
            if not receiver.done():
                receiver.set_result(None)
        if len(queue) >= self.max_queue and not self._queue_full:
            self._queue_full = True
            self._update_reading()

    def _queue_disconnect(self, code: int, reason: str | None = None) -> None:
        if self._disconnect is not None:
            return
        message: dict[str, Any] = {"type": "websocket.disconnect", "code": code}
        if reason is not None:
            message["reason"] = reason
        self._disconnect = message
        self._queue.append(message)
        receiver = self._receiver
        if receiver is not None:
            self._receiver = None
            if not receiver.done():
                receiver.set_result(None)

    # ------------------------------------------------------------ ASGI send

    async def send(self, message: ASGISendEvent) -> None:
        if self._write_paused and not self._lost:
            await self._writable.wait()
        message_type = message["type"]
        state = self._state
        if state == OPEN:
            if message_type == "websocket.send":
                data = message.get("bytes")
                if data is not None:
                    self.transport.write(self._encode_bytes(data))  # type: ignore[arg-type]
                    return
                text = message.get("text")
                if text is None:
                    raise RuntimeError("The 'websocket.send' message needs a 'bytes' or a 'text' key.")
                self.transport.write(self._encode_text(text))  # type: ignore[arg-type]
            elif message_type == "websocket.close":
                code, reason = check_close(message.get("code"), message.get("reason"))
                self._ended_by = message_type
                self._queue_disconnect(code, reason)
                self._send_close(code, reason)
            else:
                raise RuntimeError(
                    f"Expected ASGI message 'websocket.send' or 'websocket.close', but got '{message_type}'."
                )
        elif self._lost:
            raise ClientDisconnected()
        elif state == HANDSHAKE:
            if message_type == "websocket.accept":
                self._accept(message)
            elif message_type == "websocket.close":
                self._forbid()
            elif message_type == "websocket.http.response.start":
                self._start_denial(message)
            else:
                raise RuntimeError(
                    "Expected ASGI message 'websocket.accept', 'websocket.close' "
                    f"or 'websocket.http.response.start' but got '{message_type}'."
                )
        elif state == DENYING:
            if message_type != "websocket.http.response.body":
                raise RuntimeError(
                    f"Expected ASGI message 'websocket.http.response.body' but got '{message_type}'."
                )
            self._send_denial_body(message)
        elif self._ended_by is not None:
            raise RuntimeError(f"Unexpected ASGI message '{message_type}', after sending '{self._ended_by}'.")
        else:
            raise ClientDisconnected()  # closed by the peer, a protocol error, keepalive or shutdown

    def _accept(self, message: Any) -> None:
        subprotocol = message.get("subprotocol")
        if subprotocol is not None and subprotocol not in self.scope["subprotocols"]:
            raise RuntimeError(
                f"The app accepted subprotocol {subprotocol!r}, which the client did not offer "
                f"(it offered {self.scope['subprotocols']!r})."
            )
        headers = self.server_state.default_headers + checked_headers(message.get("headers", ()))
        scope = self.scope
        self.logger.info(
            '%s - "WebSocket %s" [accepted]', get_client_addr(scope), get_path_with_query_string(scope)
        )
        self.transport.write(self._accept_response(subprotocol, headers))
        self._state = OPEN
        self._opened = True
        self.logger.info("connection open")
        self._start_keepalive()
        early, self._buffer = self._buffer, b""
        if self._early_full:
            self._early_full = False
            self._update_reading()
        if early:
            self._receive_frames(early)

    def _forbid(self) -> None:
        self.logger.info(
            '%s - "WebSocket %s" 403', get_client_addr(self.scope), get_path_with_query_string(self.scope)
        )
        self._ended_by = "websocket.close"
        self._queue_disconnect(1006)
        response = DenialResponse(403, _FORBIDDEN_HEADERS, self.server_state.default_headers)
        self._end_with(response.body(b"", more_body=False))

    def _start_denial(self, message: Any) -> None:
        denial = self._denial = DenialResponse(
            message["status"], message.get("headers", ()), self.server_state.default_headers
        )
        scope = self.scope
        self.logger.info(
            '%s - "WebSocket %s" %d', get_client_addr(scope), get_path_with_query_string(scope), denial.status
        )
        self._state = DENYING
        head = denial.start()
        if head:
            self.transport.write(head)

    def _send_denial_body(self, message: Any) -> None:
        assert self._denial is not None
        more_body = bool(message.get("more_body", False))
        data = self._denial.body(message.get("body", b""), more_body)
        if data:
            self.transport.write(data)
        if not more_body:
            self._ended_by = "websocket.http.response.body"
            self._queue_disconnect(1006)
            self._finish()

    def _denial_started(self) -> bool:
        return self._denial is not None and self._denial.head_written

    # ------------------------------------------------------------ closing

    def _send_close(self, code: int, reason: str) -> None:
        """Start the closing handshake; the peer's reply (or the timer) ends the connection."""
        self.transport.write(self._encode_close(code, reason))
        self._state = CLOSING
        self._stop_keepalive()
        if self._queue_full:
            self._queue_full = False
            self._update_reading()  # the reply must be read even if the app stopped reading
        self.close_timer = self.loop.call_later(self.close_timeout, self._close_timed_out)

    def _close_timed_out(self) -> None:
        self.close_timer = None
        self._finish()

    def _on_peer_close(self, code: int, reason: str) -> None:
        """A close frame arrived (the adapter has already written the library's echo)."""
        if self._state == OPEN:
            self._queue_disconnect(code, reason)
        self._finish()

    def _on_failure(self, code: int, reason: str) -> None:
        """The library found a protocol error; the adapter has written the close frame."""
        self.logger.warning("%sWebSocket connection failed (%d): %s", self._log_prefix(), code, reason)
        self._queue_disconnect(code, reason)
        self._finish()

    def _end_with(self, response: bytes) -> None:
        """Answer the handshake with an HTTP response instead of a WebSocket, then close."""
        if not self.transport.is_closing():
            self.transport.write(response)
        self._finish()

    def _finish(self) -> None:
        self._state = CLOSED
        self._stop_timers()
        if not self.transport.is_closing():
            self.transport.close()

    def _stop_timers(self) -> None:
        self._stop_keepalive()
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None

    # ------------------------------------------------------------ flow control

    def _update_reading(self) -> None:
        paused = self._queue_full or self._write_paused or self._early_full
        if paused == self._read_paused or self.transport.is_closing():
            return
        self._read_paused = paused
        if paused:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    # ------------------------------------------------------------ keepalive

    def _start_keepalive(self) -> None:
        if self.ping_interval is not None and self.ping_interval > 0:
            self.ping_timer = self.loop.call_later(self.ping_interval, self._keepalive_ping)

    def _keepalive_ping(self) -> None:
        assert self.ping_interval is not None
        self.ping_timer = self.loop.call_later(self.ping_interval, self._keepalive_ping)
        if self.pong_timer is not None:
            return  # the previous ping is still waiting for its pong
        self._ping_payload = random.getrandbits(32).to_bytes(4, "big")
        self.ping_sent_at = time.monotonic()
        self.transport.write(self._encode_ping(self._ping_payload))
        if self.ping_timeout is not None:
            self.pong_timer = self.loop.call_later(self.ping_timeout, self._keepalive_timed_out)

    def _on_pong(self, payload: bytes) -> None:
        # Only the pong for our latest ping counts; unsolicited ones are allowed and ignored.
        if self.pong_timer is not None and payload == self._ping_payload:
            self.pong_timer.cancel()
            self.pong_timer = None

    def _keepalive_timed_out(self) -> None:
        self.pong_timer = None
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sWebSocket keepalive ping timeout", self._log_prefix())
        reason = "keepalive ping timeout"
        self.transport.write(self._encode_close(1011, reason))
        self._queue_disconnect(1011, reason)
        self._finish()

    def _stop_keepalive(self) -> None:
        for timer in (self.ping_timer, self.pong_timer):
            if timer is not None:
                timer.cancel()
        self.ping_timer = self.pong_timer = None

    def _log_prefix(self) -> str:
        return "%s:%d - " % self.client if self.client else ""
