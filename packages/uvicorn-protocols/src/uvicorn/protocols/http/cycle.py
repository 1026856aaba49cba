"""One HTTP request and its response, as the ASGI ``receive``/``send`` pair an app sees.

The same cycle serves an HTTP/1.1 exchange and an HTTP/2 stream. The connection
feeds it the request body (``feed_body``/``feed_end``/``feed_disconnect``); the
response goes out through a :class:`ResponseWriter`, which is the only part that
knows the wire: HTTP/1.1 framing (``http11_writer.py``) or an HTTP/2 stream
(``uvicorn.protocols.http2.stream``). Everything an app can observe — the order
of ASGI messages, ``http.disconnect``, the 500 for a failed app, exactly one
response — is decided here, once, for both versions.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from uvicorn.protocols.http.file_send import FILE_MESSAGES, FilePart, file_part
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.response_head import error_messages

if TYPE_CHECKING:
    import logging

    from uvicorn.protocols.asgi_types import ASGI3Application, ASGIReceiveEvent, ASGISendEvent, HTTPScope
    from uvicorn.protocols.http.access_log import ConnectionAccessLog
    from uvicorn.protocols.http.exchange import Exchange, ExchangeWatch

__all__ = ["CycleOwner", "RequestResponseCycle", "ResponseWriter", "WriteFlow"]

_DISCONNECT: dict[str, Any] = {"type": "http.disconnect"}


class ResponseWriter(Protocol):
    """How a response reaches the wire; HTTP/1.1 framing and HTTP/2 streams implement it.

    The cycle calls ``start`` once, then ``body`` (or ``send_file``) until
    ``more_body`` is false, then ``trailers`` if the app announced them. The head
    may be held until the first body message, so that head and body leave together.
    """

    #: Whether the app may send ``http.response.trailers`` / ``http.response.early_hint``
    #: (the writer drops what the client cannot take).
    accepts_trailers: bool
    accepts_early_hints: bool

    @property
    def head_replaceable(self) -> bool:
        """True while nothing of a started response is written, so a failure can be a 500 instead.

        The HTTP/1.1 writer holds the head until the first body message; an HTTP/2
        stream says False (a failure resets it, as upstream's does).
        """

    def start(self, cycle: RequestResponseCycle, status: int, headers: Any) -> None:
        """Check and hold the response head (raises for a status or header that must not be sent)."""

    def body(self, cycle: RequestResponseCycle, body: bytes, more_body: bool) -> None:
        """Write one body message (after the head, the first time)."""

    async def send_file(self, cycle: RequestResponseCycle, part: FilePart, more_body: bool) -> None:
        """Write a file as one body message (``file_send.py``); raises before writing anything
        when the head says otherwise (a content-length that is not the file's)."""

    def retract_head(self) -> bool:
        """Forget the head held since ``start``; False if it was written already."""

    def trailers(self, cycle: RequestResponseCycle, headers: Any, more_trailers: bool) -> None:
        """Write (or, when the client did not ask for them, drop) trailer fields."""

    def early_hint(self, cycle: RequestResponseCycle, links: Any) -> None:
        """Send a 103 Early Hints response with these ``link`` values (dropped once the final
        head is out, or where the client cannot take one)."""

    def send_continue(self) -> None:
        """Tell a client that sent ``Expect: 100-continue`` to go on with its body."""

    def flush(self) -> None:
        """Write out anything held back (the app failed or returned)."""

    def abort(self) -> None:
        """End a response that cannot be completed, so the client sees it is broken."""

    def is_closing(self) -> bool:
        """True once nothing more can be written."""


class WriteFlow(Protocol):
    """Back-pressure on writes: ``send`` waits in ``drain`` while ``write_paused``."""

    write_paused: bool

    async def drain(self) -> None: ...


class CycleOwner(Protocol):
    """What a cycle needs from its connection (HTTP/1.1 or HTTP/2)."""

    logger: logging.Logger
    loop: asyncio.AbstractEventLoop
    tasks: set[asyncio.Task[None]]
    access_log: bool
    access_lines: ConnectionAccessLog
    exchanges: ExchangeWatch | None  # metrics and access lines beyond upstream's (exchange.py)

    #: Seconds the app may wait for the next piece of a request body (``timeout_request_body``).
    timeout_request_body: float

    def want_body(self, cycle: RequestResponseCycle) -> None:
        """The app took the buffered body and waits for more."""

    def request_body_stalled(self, cycle: RequestResponseCycle) -> bool:
        """No body came for ``timeout_request_body`` while the app waited; False: wait on."""

    def response_done(self, cycle: RequestResponseCycle) -> None:
        """The response of ``cycle`` is complete."""


class RequestResponseCycle:
    """The state of one request/response exchange."""

    __slots__ = (
        "_body_done",
        "_buffered",
        "_chunks",
        "_client_done",
        "_event",
        "body_sent",
        "conn",
        "disconnected",
        "exchange",
        "flow",
        "keep_alive",
        "more_body",
        "response_complete",
        "response_started",
        "scope",
        "task",
        "trailers_expected",
        "waiting_for_100_continue",
        "writer",
    )

    def __init__(
        self,
        scope: HTTPScope,
        conn: CycleOwner,
        writer: ResponseWriter,
        flow: WriteFlow,
        keep_alive: bool,
        expect_100_continue: bool,
    ) -> None:
        self.scope = scope
        self.conn = conn
        self.writer = writer
        self.flow = flow
        self.keep_alive = keep_alive
        self.waiting_for_100_continue = expect_100_continue
        self.task: asyncio.Task[None] | None = None  # set by the connection once it runs us
        self.disconnected = False
        self.response_started = False
        self.response_complete = False
        self.body_sent = False  # the last body message went out (trailers may follow)
        self.trailers_expected = False
        # Request side.
        self.more_body = True
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._body_done = False
        self._client_done = False
        self._event: asyncio.Event | None = None
        # Metrics and access lines beyond upstream's (exchange.py): None unless the server asks.
        watch = conn.exchanges
        self.exchange: Exchange | None = None if watch is None else watch.begin(scope)

    # ------------------------------------------------------------ fed by the connection

    def feed_body(self, chunk: bytes) -> bool:
        """Buffer request body bytes for the app; True once the buffer is past the high-water mark."""
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self.exchange is not None:
            self.exchange.received += len(chunk)
        self._wake()
        return self._buffered > HIGH_WATER_LIMIT

    def feed_end(self) -> None:
        self.more_body = False
        self._wake()

    def feed_disconnect(self) -> None:
        self.disconnected = True
        self._wake()

    def feed_eof(self) -> None:
        """The client will send nothing more (it may have half-closed or gone away).

        Once its body is read, ``receive()`` reports ``http.disconnect`` (so an app
        waiting for the client to leave learns of it), but a response is still
        written, for clients that half-close after their request.
        """
        self._client_done = True
        self._wake()

    @property
    def buffered(self) -> int:
        """Request body bytes received and not yet given to the app."""
        return self._buffered

    def _wake(self) -> None:
        if self._event is not None:
            self._event.set()

    # ------------------------------------------------------------ running the app

    async def run_asgi(self, app: ASGI3Application) -> None:
        """Run the app for this request and make sure the client gets an answer.

        The task running this leaves the server's task set on its way out (cheaper
        than a done callback, which costs the event loop one more callback per request).
        """
        logger = self.conn.logger
        try:
            result = await app(self.scope, self.receive, self.send)  # type: ignore[func-returns-value]
        except BaseException as exc:
            if not self.response_complete:
                self.writer.flush()  # what the app sent before it failed goes out first
            logger.error("Exception in ASGI application\n", exc_info=exc)
            # GeneratorExit: this coroutine is being closed unfinished (collected), and may not await.
            if self.can_still_answer_500 and not isinstance(exc, GeneratorExit):
                await self.send_500_response()
            else:
                self.writer.abort()  # HTTP/1.1 closes the connection; HTTP/2 resets an unfinished stream
        else:
            if not self.response_complete:
                self.writer.flush()
            if result is not None:
                logger.error("ASGI callable should return None, but returned '%s'.", result)
                self.writer.abort()
            elif self.response_complete:
                pass
            elif self.disconnected or self._client_done:
                self.writer.abort()  # the app stopped because the client went away: no error
            elif not self.response_started:
                logger.error("ASGI callable returned without starting response.")
                await self.send_500_response()
            else:
                logger.error("ASGI callable returned without completing response.")
                if self.can_still_answer_500:
                    await self.send_500_response()
                else:
                    self.writer.abort()
        finally:
            if self.exchange is not None and not self.response_complete:
                self.exchange.finish()  # abandoned: the app failed or the client left
            self.conn.tasks.discard(self.task)

    @property
    def can_still_answer_500(self) -> bool:
        """True while a failure can still be answered with a 500: no response started, or none written.

        On HTTP/1.1 the head waits for the first body message, so an app that fails
        after ``http.response.start`` but before its body, or whose first body does not
        fit its head, has written nothing yet (``ResponseWriter.head_replaceable``).
        """
        return not self.response_started or self.writer.head_replaceable

    async def send_500_response(self) -> None:
        """Answer 500 (and, on HTTP/1.1, close the connection), in place of any head not written yet."""
        if self.disconnected or self.writer.is_closing():
            return
        self.keep_alive = False
        # What the app started was never written: the 500's start replaces its held head.
        self.response_started = self.trailers_expected = False
        if self.exchange is not None:
            self.exchange.sent = 0  # the app's body, if any, did not fit its head and was not written
        start, body = error_messages(500, "Internal Server Error")
        await self.send(start)
        await self.send(body)

    # ------------------------------------------------------------ ASGI receive

    async def receive(self) -> ASGIReceiveEvent:
        if self.waiting_for_100_continue:
            self.waiting_for_100_continue = False
            self.writer.send_continue()
        while True:
            if self.disconnected or self.response_complete or (self._client_done and self._body_done):
                return _DISCONNECT.copy()  # type: ignore[return-value]
            if self._chunks or (not self.more_body and not self._body_done):
                return self._take_body()
            if self._event is None:
                self._event = asyncio.Event()
            if self._body_done:
                await self._event.wait()  # for the disconnect
            else:
                await self._wait_for_body()
            self._event.clear()

    async def _wait_for_body(self) -> None:
        """Wait for the next piece of the body, at most ``timeout_request_body`` (body_limits.py)."""
        conn = self.conn
        conn.want_body(self)
        timer = conn.loop.call_later(conn.timeout_request_body, self._body_stalled)
        try:
            await self._event.wait()  # type: ignore[union-attr]  # made by receive()
        finally:
            timer.cancel()

    def _body_stalled(self) -> None:
        if self._chunks or not self.more_body or self.disconnected or self.response_complete:
            return  # the wait ended in this very loop iteration
        if not self.conn.request_body_stalled(self):
            self._event.set()  # type: ignore[union-attr]  # not the client's doing: wait afresh

    def _take_body(self) -> ASGIReceiveEvent:
        chunks = self._chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._chunks = []
        self._buffered = 0
        if not self.more_body:
            self._body_done = True
        return {"type": "http.request", "body": body, "more_body": self.more_body}

    # ------------------------------------------------------------ ASGI send

    async def send(self, message: ASGISendEvent) -> None:
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return  # as upstream (ASGI HTTP spec 2.3): the app learns of it from receive()

        message_type = message["type"]
        if not self.response_started:
            if message_type == "http.response.start":
                self._start_response(message)  # type: ignore[arg-type]
            elif message_type == "http.response.early_hint" and self.writer.accepts_early_hints:
                self.writer.early_hint(self, message.get("links", ()))
            else:
                expected = "'http.response.start'"
                if self.scope["http_version"] == "2":  # each version's words as upstream's
                    expected += " or 'http.response.early_hint'"
                raise RuntimeError(f"Expected ASGI message {expected}, but got '{message_type}'.")
        elif self.response_complete:
            raise RuntimeError(
                f"Unexpected ASGI message '{message_type}' sent, after response already completed."
            )
        elif self.body_sent:
            if message_type != "http.response.trailers":
                raise RuntimeError(
                    f"Expected ASGI message 'http.response.trailers', but got '{message_type}'."
                )
            more_trailers = bool(message.get("more_trailers", False))
            self.writer.trailers(self, message.get("headers", ()), more_trailers)
            if not more_trailers:
                self._complete()
        elif message_type != "http.response.body":
            if message_type in FILE_MESSAGES:
                await self._send_file(message)
            elif message_type == "http.response.early_hint" and self.writer.accepts_early_hints:
                # The ASGI spec allows hints after the start: they go out while the head is held.
                self.writer.early_hint(self, message.get("links", ()))
            else:
                raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{message_type}'.")
        else:
            more_body = message.get("more_body", False)
            body = message.get("body", b"")
            if self.exchange is not None:
                self.exchange.sent += len(body)  # type: ignore[arg-type]
            self.writer.body(self, body, more_body)  # type: ignore[arg-type]
            if not more_body:
                if self.trailers_expected:
                    self.body_sent = True
                else:
                    self._complete()

    def _start_response(self, message: dict[str, Any]) -> None:
        # Known before the writer sees the head: HTTP/1.1 frames a body with trailers as chunked.
        self.trailers_expected = self.writer.accepts_trailers and bool(message.get("trailers", False))
        self.writer.start(self, message["status"], message.get("headers", ()))
        self.response_started = True
        if self.exchange is not None:
            self.exchange.response_headers = message.get("headers", ())
        # Once a response starts, "100 Continue" would land inside it (an app may still
        # call receive(), e.g. to watch for a disconnect).
        self.waiting_for_100_continue = False

    async def _send_file(self, message: Any) -> None:
        """``http.response.pathsend`` / ``zerocopysend``: a body message whose bytes are a file's."""
        part: FilePart | None = None
        more_body = message["type"] == "http.response.zerocopysend" and bool(message.get("more_body", False))
        try:
            part = file_part(message)
            if self.exchange is not None:
                self.exchange.sent += part.count
            await self.writer.send_file(self, part, more_body)
        except BaseException:
            # A file that cannot be sent, found before the head went out: the response
            # is not begun after all, so the app's failure becomes a 500.
            if self.writer.retract_head():
                self.response_started = False
                self.trailers_expected = False
            raise
        finally:
            if part is not None:
                part.close()
        if not more_body:
            if self.trailers_expected:
                self.body_sent = True
            else:
                self._complete()

    def _complete(self) -> None:
        self.response_complete = True
        if self.exchange is not None:
            self.exchange.finish()
        self._wake()
        self.conn.response_done(self)
