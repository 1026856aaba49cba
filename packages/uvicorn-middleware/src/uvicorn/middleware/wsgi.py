"""Serve a WSGI (PEP 3333) application from an ASGI server.

The application runs in a thread pool. Its request body is read from the
client while it reads ``wsgi.input``, and its response is streamed to the
client while it produces it, with bounded buffering in both directions.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging

from uvicorn.middleware._types import Receive, Scope, Send, WSGIApp
from uvicorn.middleware._wsgi_channel import ClientDisconnected, ReceiveCommand, SendCommand, WorkerChannel
from uvicorn.middleware._wsgi_environ import FileWrapper, build_environ
from uvicorn.middleware._wsgi_input import WSGIInput
from uvicorn.middleware._wsgi_worker import WorkerExchange, WSGIProtocolError

__all__ = [
    "FileWrapper",
    "WSGIInput",
    "WSGIMiddleware",
    "WSGIProtocolError",
    "WSGIResponder",
    "build_environ",
]

logger = logging.getLogger("uvicorn.error")

_ERROR_BODY = b"Internal Server Error"


class WSGIMiddleware:
    """Run a WSGI application as an ASGI application, ``workers`` requests at a time.

    Each request occupies one thread of a pool of ``workers`` threads for as
    long as the application works on it, including while it waits for a slow
    client to send the request body or accept the response.
    """

    def __init__(self, app: WSGIApp, workers: int = 10) -> None:
        self.app = app
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wsgi")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # Lifespan lands here under --lifespan auto, which then reports it as unsupported.
            raise RuntimeError(f"WSGIMiddleware only serves 'http' scopes, not {scope['type']!r}")
        await WSGIResponder(self.app, self.executor, scope)(receive, send)


# Upstream's name for the built-in implementation.
_WSGIMiddleware = WSGIMiddleware


class WSGIResponder:
    """One request: runs the application in the pool and carries out its ASGI calls."""

    def __init__(self, app: WSGIApp, executor: concurrent.futures.Executor, scope: Scope) -> None:
        self.app = app
        self.executor = executor
        self.scope = scope

    async def __call__(self, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        channel = WorkerChannel(loop)
        exchange = WorkerExchange(self.app, channel)
        environ = build_environ(self.scope, None, WSGIInput(channel.receive))
        # The app runs in the request's context, so context variables set by
        # ASGI middleware around us (request ids, tracing) reach it.
        context = contextvars.copy_context()
        worker = loop.run_in_executor(self.executor, context.run, exchange.run, environ)
        worker.add_done_callback(lambda _: channel.wake())
        worker.add_done_callback(_mark_retrieved)
        response_started = False
        try:
            while (command := await channel.next_command(worker.done)) is not None:
                if isinstance(command, SendCommand):
                    await send(command.message)
                    channel.sent(command.size)
                    response_started = True
                else:
                    await _answer(command, receive)
        finally:
            # Normally a no-op; on cancellation or a failed send it stops the
            # worker at its next read or write instead of leaving it blocked.
            channel.close()

        error = worker.exception()
        if error is None or isinstance(error, ClientDisconnected):
            return  # done, or nobody left to answer
        if isinstance(error, WSGIProtocolError) and not response_started:
            logger.error(
                'WSGI protocol error in "%s %s": %s', self.scope["method"], self.scope["path"], error
            )
            await _send_500(send)
            return
        # The application's own exception, or a protocol error after the
        # response started: the server logs it and answers 500 or drops the
        # connection, and error-reporting middleware around us sees it.
        raise error


async def _send_500(send: Send) -> None:
    # Fresh messages each time: middleware around us may add headers in place.
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(_ERROR_BODY))]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": _ERROR_BODY, "more_body": False})


async def _answer(command: ReceiveCommand, receive: Receive) -> None:
    try:
        message = await receive()
    except BaseException:
        command.reply.cancel()  # the worker sees ClientDisconnected
        raise
    command.reply.set_result(message)


def _mark_retrieved(worker: asyncio.Future[None]) -> None:
    # When the request ends early (cancelled, or a send failed) nobody awaits
    # the worker; fetching its outcome keeps asyncio from logging it as lost.
    if not worker.cancelled():
        worker.exception()
