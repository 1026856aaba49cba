"""One ASGI WebSocket session, shared by the websockets-sansio, websockets and wsproto adapters.

Everything an app can observe lives here, so it is the same whichever library
reads the frames. That covers the ASGI scope, the message queue
(``ws_max_queue``), the accept/close/denial state machine, waiting in ``send()``
on write back-pressure, keepalive pings, the closing handshake, and graceful
shutdown with ``1012``. The transport side is
:class:`~uvicorn.protocols.websockets.connection.WebSocketConnection`, which also
states what an adapter implements.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.utils import ClientDisconnected, get_client_addr, get_path_with_query_string
from uvicorn.protocols.websockets.close_codes import check_close
from uvicorn.protocols.websockets.connection import (
    CLOSING,
    DENYING,
    HANDSHAKE,
    OPEN,
    TRACE_LOG_LEVEL,
    WebSocketConnection,
)
from uvicorn.protocols.websockets.denial import DenialResponse
from uvicorn.protocols.websockets.handshake import HandshakeRequest, checked_headers, rejection
from uvicorn.protocols.websockets.keepalive import Keepalive
from uvicorn.protocols.websockets.message_queue import MessageQueue

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import ASGI3Application, ASGIReceiveEvent, ASGISendEvent, WebSocketScope
    from uvicorn.protocols.contract import ProtocolConfig, ProtocolServerState

__all__ = ["WebSocketSession"]

_FORBIDDEN_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]


class WebSocketSession(WebSocketConnection):
    """The ASGI side of a WebSocket connection; subclassed once per library."""

    def __init__(
        self,
        config: ProtocolConfig,
        server_state: ProtocolServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, _loop)
        self.app: ASGI3Application = config.loaded_app
        self.root_path = config.root_path
        self.app_state = app_state
        self.tasks = server_state.tasks
        self._fresh_context: bool = config.reset_contextvars
        self.scope: WebSocketScope = None  # type: ignore[assignment]

        self._messages = MessageQueue(config.ws_max_queue, self._update_reading)
        self._messages.put({"type": "websocket.connect"})
        self._ended_by: str | None = None  # the app message that ended the session
        self._denial: DenialResponse | None = None
        self._opened = False
        self.keepalive = Keepalive(
            self.loop,
            config.ws_ping_interval,
            config.ws_ping_timeout,
            self._send_ping,
            self._keepalive_timed_out,
        )

    # The keepalive state under upstream's attribute names, which tests and tools read.
    @property
    def ping_timer(self) -> asyncio.TimerHandle | None:
        return self.keepalive.ping_timer

    @property
    def pong_timer(self) -> asyncio.TimerHandle | None:
        return self.keepalive.pong_timer

    @property
    def ping_sent_at(self) -> float:
        return self.keepalive.ping_sent_at

    # ------------------------------------------------------------ server interface

    def shutdown(self) -> None:
        """Graceful shutdown: close an open WebSocket with 1012 and let the app finish."""
        state = self._state
        if state == OPEN:
            self._queue_disconnect(1012)
            self._send_close(1012, "")
        elif state == CLOSING:
            self._finish()  # our close frame is out; stop waiting for the reply
        elif self._can_still_answer_500():
            self._end_with(self._internal_error())
        else:
            self._finish()

    # ------------------------------------------------------------ running the app

    def _start_app(self, request: HandshakeRequest) -> None:
        self._state = HANDSHAKE
        self.scope = request.scope(
            self.config.asgi_version,
            self.scheme,
            self.server,
            self.client,
            self.root_path,
            self.app_state.copy(),
        )
        if self._fresh_context:
            # Nothing set around the server (or in the lifespan) leaks into the app.
            task = contextvars.Context().run(self.loop.create_task, self.run_asgi())
        else:
            task = self.loop.create_task(self.run_asgi())
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    async def run_asgi(self) -> None:
        """Run the app for this connection and make sure the client always gets an answer."""
        try:
            result = await self.app(self.scope, self.receive, self.send)  # type: ignore[func-returns-value]
        except ClientDisconnected:
            pass
        except BaseException as exc:
            self.logger.error("Exception in ASGI application\n", exc_info=exc)
            if self._can_still_answer_500():
                self._end_with(self._internal_error())
        else:
            if self._state in (HANDSHAKE, DENYING):
                self.logger.error("ASGI callable returned without completing handshake.")
                if self._can_still_answer_500():
                    self._end_with(self._internal_error())
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self._state != CLOSING and not self._draining:
            # Without a close from the app the connection just ends, as upstream (the
            # client sees 1006). After one, the peer's reply or the timer ends it, and
            # after a protocol error the peer's end of the stream or the timer.
            self._finish()

    def _internal_error(self) -> bytes:
        return rejection(500, "Internal Server Error", default_headers=self.server_state.default_headers)

    def _can_still_answer_500(self) -> bool:
        """True while the client has been sent nothing at all."""
        if self._state == HANDSHAKE:
            return True
        return self._state == DENYING and self._denial is not None and not self._denial.head_written

    # ------------------------------------------------------------ ASGI receive

    async def receive(self) -> ASGIReceiveEvent:
        return await self._messages.get()  # type: ignore[return-value]

    def _deliver(self, message: dict[str, Any]) -> None:
        """Adapter hook: a complete incoming message (dropped once a close is under way)."""
        if self._state == OPEN:
            self._messages.put(message)

    def _queue_disconnect(self, code: int, reason: str | None = None) -> None:
        self._messages.put_disconnect(code, reason)

    def _app_is_behind(self) -> bool:
        return self._messages.full

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
        subprotocol = message.get("subprotocol") or None  # "" means none, as upstream
        if subprotocol is not None and subprotocol not in self.scope["subprotocols"]:
            raise RuntimeError(
                f"The app accepted subprotocol {subprotocol!r}, which the client did not offer "
                f"(it offered {self.scope['subprotocols']!r})."
            )
        headers = self.server_state.default_headers + checked_headers(message.get("headers", ()))
        self._log_answer("[accepted]")
        self.transport.write(self._accept_response(subprotocol, headers))
        self._state = OPEN
        self._opened = True
        self.logger.info("connection open")
        self.keepalive.start()
        early = self._take_early_bytes()
        if early:
            self._receive_frames(early)

    def _forbid(self) -> None:
        self._log_answer("403")
        self._ended_by = "websocket.close"
        self._queue_disconnect(1006)
        response = DenialResponse(403, _FORBIDDEN_HEADERS, self.server_state.default_headers)
        self._end_with(response.body(b"", more_body=False))

    def _start_denial(self, message: Any) -> None:
        denial = self._denial = DenialResponse(
            message["status"], message.get("headers", ()), self.server_state.default_headers
        )
        self._log_answer(str(denial.status))
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

    def _log_answer(self, answer: str) -> None:
        scope = self.scope
        self.logger.info(
            '%s - "WebSocket %s" %s', get_client_addr(scope), get_path_with_query_string(scope), answer
        )

    # ------------------------------------------------------------ closing

    def _send_close(self, code: int, reason: str) -> None:
        """Start the closing handshake; the peer's reply (or the timer) ends the connection."""
        self.transport.write(self._encode_close(code, reason))
        self._state = CLOSING
        self.keepalive.stop()
        self._messages.stop_counting()  # the reply must be read even if the app stopped reading
        self.close_timer = self.loop.call_later(self.close_timeout, self._close_timed_out)

    def _close_timed_out(self) -> None:
        self.close_timer = None
        self._finish()

    def _on_peer_close(self, code: int, reason: str) -> None:
        """Adapter hook: a close frame arrived (the library's echo is already written)."""
        if self._state == OPEN:
            self._queue_disconnect(code, reason)
        self._finish()

    def _on_failure(self, code: int, reason: str) -> None:
        """Adapter hook: the library found a protocol error (its close frame is already written)."""
        self.logger.warning("%sWebSocket connection failed (%d): %s", self._log_prefix(), code, reason)
        self._queue_disconnect(code, reason)
        self._fail_finish()

    def _connection_gone(self) -> None:
        if self._opened:
            self.logger.info("connection closed")
        self._queue_disconnect(1006)  # abnormal closure, unless a close frame said otherwise

    def _stop_timers(self) -> None:
        super()._stop_timers()
        self.keepalive.stop()

    # ------------------------------------------------------------ keepalive

    def _send_ping(self, payload: bytes) -> None:
        self.transport.write(self._encode_ping(payload))

    def _on_pong(self, payload: bytes) -> None:
        """Adapter hook: a pong arrived."""
        self.keepalive.pong(payload)

    def _keepalive_timed_out(self) -> None:
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sWebSocket keepalive ping timeout", self._log_prefix())
        reason = "keepalive ping timeout"
        self.transport.write(self._encode_close(1011, reason))
        self._queue_disconnect(1011, reason)
        self._finish()
