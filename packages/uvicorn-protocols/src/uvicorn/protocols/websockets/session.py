"""One ASGI WebSocket session, whatever library reads the frames and whatever carries them.

Everything an app can observe lives here: the ASGI scope, the message queue
(``ws_max_queue``), accept/close/denial, waiting in ``send()`` on write
back-pressure, keepalive pings, the closing handshake, and graceful shutdown
(``1012`` at once, or ``1001`` shortly before a bounded drain ends). The
session holds two objects and subclasses neither:

- a **codec** (:mod:`uvicorn.protocols.websockets.codec`): one library's
  extension negotiation, frame parser and encoders;
- a **carrier** (:mod:`uvicorn.protocols.websockets.carrier`): what the
  WebSocket runs over, an HTTP/1.1 connection after a ``101`` or an HTTP/2
  stream after a ``200`` (RFC 8441).

Its state is one :class:`~uvicorn.protocols.websockets.state.SessionState`,
changed only through :func:`~uvicorn.protocols.websockets.state.advance`.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.utils import ClientDisconnected, get_client_addr, get_path_with_query_string
from uvicorn.protocols.websockets.close_codes import check_close
from uvicorn.protocols.websockets.flow import SessionFlow
from uvicorn.protocols.websockets.handshake import HandshakeError, HandshakeRequest, checked_headers
from uvicorn.protocols.websockets.keepalive import Keepalive
from uvicorn.protocols.websockets.message_queue import MessageQueue
from uvicorn.protocols.websockets.state import Event, SessionState, advance

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import ASGI3Application, ASGIReceiveEvent, ASGISendEvent, WebSocketScope
    from uvicorn.protocols.contract import ProtocolConfig, ProtocolServerState
    from uvicorn.protocols.websockets.carrier import Carrier
    from uvicorn.protocols.websockets.codec import FrameCodec

__all__ = ["WebSocketSession"]

TRACE_LOG_LEVEL = 5

_S = SessionState
_OPEN, _CLOSING, _SERVER_CLOSING, _HANDSHAKE, _DENYING = (
    _S.OPEN,
    _S.CLOSING,
    _S.SERVER_CLOSING,
    _S.HANDSHAKE,
    _S.DENYING,
)
_READING_FRAMES = frozenset((_S.OPEN, _S.CLOSING, _S.SERVER_CLOSING, _S.FAILING))
# In a drain bounded to ``grace`` seconds, a WebSocket gets its 1001 this long before the end
# (at most half the grace): time for the client's close reply and the app's last steps.
GOING_AWAY_MARGIN = 5.0


class WebSocketSession:
    """The ASGI side of one WebSocket: an app, a codec and a carrier."""

    def __init__(
        self,
        config: ProtocolConfig,
        server_state: ProtocolServerState,
        app_state: dict[str, Any],
        loop: asyncio.AbstractEventLoop,
        carrier: Carrier,
        codec: FrameCodec,
    ) -> None:
        self.app: ASGI3Application = config.loaded_app
        self.loop = loop
        self.logger = logging.getLogger("uvicorn.error")
        self.carrier = carrier
        self.codec = codec
        self.state = _S.AWAITING_REQUEST
        self.scope: WebSocketScope = None  # type: ignore[assignment]
        self._asgi_version = config.asgi_version
        self._root_path = config.root_path
        self._app_state = app_state
        self._tasks = server_state.tasks
        self._server_state = server_state  # its default_headers list is replaced every second
        self._observer = server_state.observer  # metrics: messages counted (None: no call)
        self._fresh_context: bool = config.reset_contextvars

        self.flow = SessionFlow(carrier, lambda: self.messages.full)
        self.messages = MessageQueue(config.ws_max_queue, self.flow.update)
        self.messages.put_connect()
        self.keepalive = Keepalive(
            loop, config.ws_ping_interval, config.ws_ping_timeout, self._send_ping, self._keepalive_timed_out
        )
        self.close_timeout = 10.0  # how long our close frame waits for the peer's reply
        self.close_timer: asyncio.TimerHandle | None = None
        self._going_away_timer: asyncio.TimerHandle | None = None  # a bounded drain's 1001

        self._accept_headers: list[tuple[bytes, bytes]] = []  # the library's, for the accepting response
        self._denial_status = 0
        #: The callables the app is given (a carrier may hand its own, bound to itself).
        self.app_receive: Callable[[], Awaitable[ASGIReceiveEvent]] = self.receive
        self.app_send: Callable[[ASGISendEvent], Awaitable[None]] = self.send

    # ------------------------------------------------------------ carrier interface

    def start(self, request: HandshakeRequest) -> None:
        """A request the carrier checked: negotiate with the library, then run the app."""
        try:
            self._accept_headers = self.codec.negotiate(request)
        except HandshakeError as error:
            self.refuse(error)
            return
        self.state = advance(self.state, Event.REQUEST_CHECKED)
        carrier = self.carrier
        self.scope = request.scope(
            self._asgi_version,
            carrier.scheme,
            carrier.server,
            carrier.client,
            self._root_path,
            self._app_state.copy(),
        )
        if carrier.tls is not None:
            extensions: dict[str, Any] = self.scope["extensions"]
            extensions["tls"] = {**carrier.tls, "client_cert_chain": list(carrier.tls["client_cert_chain"])}
        if self._fresh_context:
            # Nothing set around the server (or in the lifespan) leaks into the app.
            task = contextvars.Context().run(self.loop.create_task, self.run_asgi())
        else:
            task = self.loop.create_task(self.run_asgi())
        task.add_done_callback(self._tasks.discard)
        self._tasks.add(task)

    def refuse(self, error: HandshakeError) -> None:
        """Answer a handshake request we refuse with ``error`` and end."""
        self.logger.warning(
            "%sInvalid WebSocket handshake (%d): %s", self.carrier.log_prefix(), error.status, error.message
        )
        self.codec.log.refused(self.logger, error.status, error.unparseable)
        self.carrier.send_error(error.status, error.message, error.headers)
        self._end()

    def receive_data(self, data: bytes) -> None:
        """Bytes of the WebSocket stream (everything after the request)."""
        state = self.state
        if state is _OPEN or state in _READING_FRAMES:  # the first test is the hot path
            self.codec.receive(data)
        elif state is _HANDSHAKE or state is _DENYING:
            self.flow.hold_early(data)
        elif not self.carrier.is_closing():
            self.carrier.close()  # e.g. a pong that crossed our close: nothing more to read

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    def connection_lost(self) -> None:
        """The carrier is gone: tell the app (1006 unless a close frame said otherwise)."""
        self.state = advance(self.state, Event.CONNECTION_LOST)
        self._stop_timers()
        self.flow.lost()
        self.messages.put_disconnect(1006, None)
        if self.codec.log.closed:
            self.logger.info("connection closed")

    def shutdown(self) -> None:
        """Graceful shutdown: close an open WebSocket with 1012 and let the app finish."""
        state = self.state
        if state is _OPEN:
            self.messages.put_disconnect(1012, None)
            self._send_close(1012, "", Event.SERVER_CLOSED)
        elif self._can_still_answer_500():
            self._answer_500()
        else:
            self._end()  # includes a close under way: stop waiting for the reply

    def drain(self, grace: float | None) -> None:
        """The server stops: without ``grace``, :meth:`shutdown` now (1012, as upstream).

        With ``grace`` (``timeout_graceful_shutdown``), the WebSocket lives on while the
        server drains and is closed with 1001 (going away) shortly before ``grace`` ends,
        rather than being cut when the server cancels what still runs.
        """
        if grace is None:
            self.shutdown()
        elif self._going_away_timer is None:
            delay = grace - min(grace / 2, GOING_AWAY_MARGIN)
            self._going_away_timer = self.loop.call_later(delay, self._going_away)

    def _going_away(self) -> None:
        self._going_away_timer = None
        if self.state is _OPEN:
            self.messages.put_disconnect(1001, None)
            self._send_close(1001, "", Event.SERVER_CLOSED)
        else:
            self.shutdown()

    # ------------------------------------------------------------ codec events

    def deliver(self, message: dict[str, Any]) -> None:
        if self.state is _OPEN:  # dropped once a close is under way
            if self._observer is not None:
                self._observer.websocket_message(True, _payload_size(message))
            self.messages.put(message)

    def pong(self, payload: bytes) -> None:
        self.keepalive.pong(payload)

    def peer_closed(self, code: int, reason: str) -> None:
        if self.state is _OPEN:
            self.messages.put_disconnect(code, reason)
        self.state = advance(self.state, Event.PEER_CLOSED)
        self._finish()

    def failed(self, code: int, reason: str) -> None:
        if self.state is not _OPEN:
            # Our own close was under way: nothing more to say.
            self.state = advance(self.state, Event.PROTOCOL_ERROR)
            self._finish()
            return
        self.logger.warning("%sWebSocket connection failed (%d): %s", self.carrier.log_prefix(), code, reason)
        self.messages.put_disconnect(code, reason)
        self.state = advance(self.state, Event.PROTOCOL_ERROR)
        self.keepalive.stop()
        self.messages.stop_counting()  # reading must go on (even if it was paused) to find the reply
        # Closing at once would leave the peer's unread bytes in our socket, and the kernel
        # would answer them with a reset that can destroy our close frame before the peer
        # reads it. So, as in a normal closing handshake, skip what still comes until the
        # peer's close frame (RFC 6455 7.1.1), its end of stream, or the timer.
        self.close_timer = self.loop.call_later(self.close_timeout, self._end)

    def close_frame_after_failure(self) -> None:
        if self.state is _S.FAILING:
            self.state = advance(self.state, Event.PEER_CLOSED)
            self._finish()

    def reply(self, data: bytes) -> None:
        if data and not self.carrier.is_closing():
            self.carrier.write(data)

    def taking_messages(self) -> bool:
        return self.state is _OPEN

    # ------------------------------------------------------------ running the app

    async def run_asgi(self) -> None:
        """Run the app for this connection and make sure the client always gets an answer."""
        try:
            result = await self.app(self.scope, self.app_receive, self.app_send)  # type: ignore[func-returns-value]
        except ClientDisconnected:
            pass
        except BaseException as exc:
            self.logger.error("Exception in ASGI application\n", exc_info=exc)
            if self._can_still_answer_500():
                self._answer_500()
        else:
            if self.state is _HANDSHAKE or self.state is _DENYING:
                self.logger.error("ASGI callable returned without completing handshake.")
                if self._can_still_answer_500():
                    self._answer_500()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self.state not in (_CLOSING, _SERVER_CLOSING, _S.FAILING):
            # Without a close from the app the connection just ends, as upstream (the
            # client sees 1006). After one, the peer's reply or the timer ends it, and
            # after a protocol error the peer's end of the stream or the timer.
            self._end()

    def _can_still_answer_500(self) -> bool:
        """True while the client has been sent nothing at all."""
        state = self.state
        return state is _HANDSHAKE or (state is _DENYING and not self.carrier.response_started)

    def _answer_500(self) -> None:
        self.codec.log.rejected(self.logger, 500)
        self.carrier.send_error(500, "Internal Server Error")
        self._end()

    # ------------------------------------------------------------ ASGI receive

    async def receive(self) -> ASGIReceiveEvent:
        return await self.messages.get()  # type: ignore[return-value]

    # ------------------------------------------------------------ ASGI send

    async def send(self, message: ASGISendEvent) -> None:
        flow = self.flow
        if flow.write_paused:
            await flow.writable.wait()
        message_type = message["type"]
        state = self.state
        if state is _OPEN:
            if message_type == "websocket.send":
                if self._observer is not None:
                    self._observer.websocket_message(False, _payload_size(message))
                data = message.get("bytes")
                if data is not None:
                    self.carrier.write(self.codec.encode_bytes(data))  # type: ignore[arg-type]
                    return
                text = message.get("text")
                if text is None:
                    raise RuntimeError("The 'websocket.send' message needs a 'bytes' or a 'text' key.")
                self.carrier.write(self.codec.encode_text(text))  # type: ignore[arg-type]
            elif message_type == "websocket.close":
                code, reason = check_close(message.get("code"), message.get("reason"))
                self.messages.put_disconnect(code, reason)
                self._send_close(code, reason, Event.APP_CLOSED)
            else:
                raise RuntimeError(
                    f"Expected ASGI message 'websocket.send' or 'websocket.close', but got '{message_type}'."
                )
        elif state is _HANDSHAKE:
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
        elif state is _DENYING:
            if message_type != "websocket.http.response.body":
                raise RuntimeError(
                    f"Expected ASGI message 'websocket.http.response.body' but got '{message_type}'."
                )
            self._send_denial_body(message)
        elif state is _CLOSING:
            raise RuntimeError(f"Unexpected ASGI message '{message_type}', after sending 'websocket.close'.")
        elif state is _S.REJECTED:
            raise RuntimeError(
                f"Unexpected ASGI message '{message_type}', after the handshake was answered with a response."
            )
        else:
            raise ClientDisconnected()  # closed by the peer, a protocol error, keepalive or shutdown

    def _accept(self, message: Any) -> None:
        subprotocol = message.get("subprotocol") or None  # "" means none, as upstream
        if subprotocol is not None and subprotocol not in self.scope["subprotocols"]:
            raise RuntimeError(
                f"The app accepted subprotocol {subprotocol!r}, which the client did not offer "
                f"(it offered {self.scope['subprotocols']!r})."
            )
        headers = list(self._accept_headers)
        if subprotocol is not None:
            headers.append((b"sec-websocket-protocol", subprotocol.encode("ascii")))
        headers += self._server_state.default_headers + checked_headers(message.get("headers", ()))
        self._log_answer("[accepted]")
        self.carrier.send_accept(headers)
        self.state = advance(self.state, Event.APP_ACCEPTED)
        self.codec = self.codec.start(self)
        if self.codec.log.open:
            self.logger.info("connection open")
        self.keepalive.start()
        early = self.flow.take_early()
        if early:
            self.codec.receive(early)

    def _forbid(self) -> None:
        self._log_answer("403")
        self.messages.put_disconnect(1006, None)
        self.state = advance(self.state, Event.APP_REFUSED)
        self.codec.log.rejected(self.logger, 403)
        self.carrier.send_error(403, "")
        self._end()

    def _start_denial(self, message: Any) -> None:
        status = message["status"]
        self.carrier.start_response(status, message.get("headers", ()))
        self._log_answer(str(status))
        self.state = advance(self.state, Event.APP_DENIED)
        self._denial_status = status

    def _send_denial_body(self, message: Any) -> None:
        more_body = bool(message.get("more_body", False))
        self.carrier.send_response_body(message.get("body", b""), more_body)
        if not more_body:
            self.messages.put_disconnect(1006, None)
            self.state = advance(self.state, Event.DENIAL_SENT)
            self.codec.log.rejected(self.logger, self._denial_status)
            self._end()

    def _log_answer(self, answer: str) -> None:
        scope = self.scope
        self.logger.info(
            '%s - "WebSocket %s" %s', get_client_addr(scope), get_path_with_query_string(scope), answer
        )

    # ------------------------------------------------------------ closing

    def _send_close(self, code: int, reason: str, event: Event) -> None:
        """Start the closing handshake; the peer's reply (or the timer) ends the connection."""
        self.carrier.write(self.codec.encode_close(code, reason))
        self.state = advance(self.state, event)
        self.keepalive.stop()
        self.messages.stop_counting()  # the reply must be read even if the app stopped reading
        self.close_timer = self.loop.call_later(self.close_timeout, self._end)

    def _end(self) -> None:
        """The server ends the connection (a response, a timer, the app returned)."""
        self.state = advance(self.state, Event.ENDED)
        self._finish()

    def _finish(self) -> None:
        self._stop_timers()
        if not self.carrier.is_closing():
            self.carrier.close()

    def _stop_timers(self) -> None:
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        if self._going_away_timer is not None:
            self._going_away_timer.cancel()
            self._going_away_timer = None
        self.keepalive.stop()

    # ------------------------------------------------------------ keepalive

    def _send_ping(self, payload: bytes) -> None:
        self.carrier.write(self.codec.encode_ping(payload))

    def _keepalive_timed_out(self) -> None:
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sWebSocket keepalive ping timeout", self.carrier.log_prefix())
        reason = "keepalive ping timeout"
        self.carrier.write(self.codec.encode_close(1011, reason))
        self.messages.put_disconnect(1011, reason)
        self._end()


def _payload_size(message: Any) -> int:
    """Bytes of a ``websocket.receive`` / ``websocket.send`` message's payload (text as UTF-8)."""
    data = message.get("bytes")
    if data is not None:
        return len(data)
    text = message.get("text")
    return len(text.encode()) if isinstance(text, str) else 0
