"""One HTTP request and its response, as the ASGI ``receive``/``send`` pair an app sees.

The same cycle runs under both parsers: the connection feeds it request body
chunks (``feed_body``/``feed_end``/``feed_disconnect``) and it writes the response
straight to the transport. The response head is held back until the first body
message, so head and body usually leave in a single write, and a body sent in one
message gets a ``content-length`` instead of chunked framing.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT, FlowControl
from uvicorn.protocols.http.response_head import (
    BodyFraming,
    ResponseHead,
    error_messages,
    serialized_defaults,
)
from uvicorn.protocols.http.rules import NO_CONTENT_STATUSES
from uvicorn.protocols.http.streamed_writes import StreamedWrites

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import ASGI3Application, ASGIReceiveEvent, ASGISendEvent, HTTPScope
    from uvicorn.protocols.http.connection import HTTPConnection

_DISCONNECT: dict[str, Any] = {"type": "http.disconnect"}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# Bodies at least this large are written apart from the head rather than copied onto it.
_COPY_LIMIT = 16384


class RequestResponseCycle:
    """The state of one request/response exchange on a connection."""

    __slots__ = (
        "_body_done",
        "_buffered",
        "_chunks",
        "_client_done",
        "_event",
        "_framing",
        "_head",
        "_with_body",
        "_writes",
        "conn",
        "disconnected",
        "flow",
        "keep_alive",
        "more_body",
        "response_complete",
        "response_started",
        "scope",
        "task",
        "transport",
        "waiting_for_100_continue",
    )

    def __init__(
        self, scope: HTTPScope, conn: HTTPConnection, keep_alive: bool, expect_100_continue: bool
    ) -> None:
        self.scope = scope
        self.conn = conn
        self.transport: asyncio.Transport = conn.transport
        self.flow: FlowControl = conn.flow
        self.keep_alive = keep_alive
        self.waiting_for_100_continue = expect_100_continue
        self.task: asyncio.Task[None] | None = None  # set by the connection once it runs us
        self.disconnected = False
        self.response_started = False
        self.response_complete = False
        # Request side.
        self.more_body = True
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._body_done = False
        self._client_done = False
        self._event: asyncio.Event | None = None
        # Response side.
        self._head: ResponseHead | None = None
        self._with_body = scope["method"] != "HEAD"
        self._framing: BodyFraming | None = None  # once the head is written
        self._writes: StreamedWrites | None = None  # for a body sent in several messages

    # ------------------------------------------------------------ fed by the connection

    def feed_body(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self._buffered > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        self._wake()

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
            if self._writes is not None:
                self._writes.flush()  # what the app sent before it failed goes out first
            logger.error("Exception in ASGI application\n", exc_info=exc)
            if self.nothing_written:
                await self.send_500_response()
            else:
                self.transport.close()
        else:
            if self._writes is not None:
                self._writes.flush()
            if result is not None:
                logger.error("ASGI callable should return None, but returned '%s'.", result)
                self.transport.close()
            elif self.response_complete:
                pass
            elif self.disconnected or self._client_done:
                self.transport.close()  # the app stopped because the client went away: no error
            elif not self.response_started:
                logger.error("ASGI callable returned without starting response.")
                await self.send_500_response()
            else:
                logger.error("ASGI callable returned without completing response.")
                if self.nothing_written:
                    await self.send_500_response()
                else:
                    self.transport.close()
        finally:
            self.conn.tasks.discard(self.task)

    @property
    def nothing_written(self) -> bool:
        """True while no byte of the response has gone out: a failure can still be answered with a 500.

        The head waits for the first body message, so an app that fails after
        ``http.response.start`` but before its body, or whose first body does not fit
        its head, has written nothing yet.
        """
        return self._head is not None or not self.response_started

    async def send_500_response(self) -> None:
        """Answer 500 and close the connection, in place of any response not written yet."""
        if self.disconnected or self.transport.is_closing():
            return
        self.keep_alive = False
        # Forget what the app started: its head was never written.
        self._head = None
        self.response_started = False
        self._with_body = self.scope["method"] != "HEAD"
        start, body = error_messages(500, "Internal Server Error")
        await self.send(start)
        await self.send(body)

    # ------------------------------------------------------------ ASGI receive

    async def receive(self) -> ASGIReceiveEvent:
        if self.waiting_for_100_continue and not self.transport.is_closing():
            self.waiting_for_100_continue = False
            self.transport.write(_CONTINUE)
        while True:
            if self.disconnected or self.response_complete or (self._client_done and self._body_done):
                return _DISCONNECT.copy()  # type: ignore[return-value]
            if self._chunks or (not self.more_body and not self._body_done):
                return self._take_body()
            if not self._body_done:
                self.conn.want_body()
            if self._event is None:
                self._event = asyncio.Event()
            await self._event.wait()
            self._event.clear()

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
            if message_type != "http.response.start":
                raise RuntimeError(f"Expected ASGI message 'http.response.start', but got '{message_type}'.")
            self._start_response(message)  # type: ignore[arg-type]
        elif self.response_complete:
            raise RuntimeError(
                f"Unexpected ASGI message '{message_type}' sent, after response already completed."
            )
        elif message_type != "http.response.body":
            raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{message_type}'.")
        else:
            self._send_body(message.get("body", b""), message.get("more_body", False))  # type: ignore[arg-type]

    def _start_response(self, message: dict[str, Any]) -> None:
        defaults = self.conn.server_state.default_headers
        self._head = ResponseHead(
            message["status"],
            message.get("headers", ()),
            serialized_defaults(defaults),
            defaults,
            self.keep_alive,
        )
        self.response_started = True
        # Once a response starts, "100 Continue" would land inside it (an app may still
        # call receive(), e.g. to watch for a disconnect).
        self.waiting_for_100_continue = False
        if self._head.status in NO_CONTENT_STATUSES:
            self._with_body = False

    def _send_body(self, body: bytes, more_body: bool) -> None:
        head = self._head
        if head is not None:
            self._send_head(head, body, more_body)
        elif self._with_body:
            framed = self._framing.frame(body, more_body)  # type: ignore[union-attr]
            if framed:
                self._writes.write(framed)  # type: ignore[union-attr]  # made with the first piece
            if not more_body:
                self._writes.flush()  # type: ignore[union-attr]
                self._framing.check_complete()  # type: ignore[union-attr]
        if not more_body:
            self._complete()

    def _send_head(self, head: ResponseHead, body: bytes, more_body: bool) -> None:
        """Write the head with the first body message, once that body is known to fit the head."""
        scope = self.scope
        data = head.finish(
            self._with_body,
            None if more_body else body,
            scope["http_version"] == "1.1",
            scope["method"] == "HEAD",
        )
        framed = b""
        if self._with_body:
            if not more_body and not head.chunked and head.content_length == len(body):
                framed = body  # the whole body in one message, as announced: nothing to frame
            else:
                framing = BodyFraming(head)
                framed = framing.frame(body, more_body)  # raises if longer than its content-length
                if not more_body:
                    framing.check_complete()  # raises if shorter
                self._framing = framing
        # Nothing was written above: a body that does not fit its head still leaves room for a 500.
        self._head = None
        self.keep_alive = head.keep_alive
        if self.conn.access_log:
            self.conn.access_lines.log(scope, head.status)  # one line per response, as its head goes out
        if more_body:
            if self._with_body:  # a streamed body: its pieces leave together (streamed_writes.py)
                writes = self._writes = StreamedWrites(self.transport, self.conn.loop)
                writes.write(data)
                if framed:
                    writes.write(framed)
                return
        elif len(framed) < _COPY_LIMIT:
            data += framed
        else:
            self.transport.write(data)
            data = framed
        self.transport.write(data)

    def _complete(self) -> None:
        self.response_complete = True
        self._wake()
        self.conn.response_done(self)
