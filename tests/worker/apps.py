"""Applications and worker subclasses that the gunicorn arbiters of these tests load by import string."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn_worker import UvicornH11Worker, UvicornWorker

# Long enough to outlast any --timeout these tests give gunicorn, short enough to end on its own.
LOOP_BLOCKING_SECONDS = 60


async def app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """Lifespan support, and three HTTP endpoints.

    - ``GET /``: JSON with the serving process id and what the scope says about the connection;
    - ``POST /echo``: starts the response at once (so the client knows the request is in
      the app), then streams back the request body once the client has sent all of it;
    - ``GET /block-loop``: blocks the event loop, as a hung application would.
    """
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    assert scope["type"] == "http"
    if scope["path"] == "/echo":
        await _echo(receive, send)
    elif scope["path"] == "/block-loop":
        time.sleep(LOOP_BLOCKING_SECONDS)  # deliberately blocking: the heartbeat must stop
        await _send_json(send, {"blocked": True})
    else:
        await _send_json(
            send,
            {
                "pid": os.getpid(),
                "scheme": scope["scheme"],
                "client": scope["client"],
                "http_version": scope["http_version"],
            },
        )


async def _lifespan(receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _echo(receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"echo:", "more_body": True})
    body = b""
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client went away
        body += message["body"]
        more_body = message["more_body"]
    await send({"type": "http.response.body", "body": body})


async def _send_json(send: ASGISendCallable, data: Any) -> None:
    body = json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def lifespan_startup_fails(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """Refuses to start: the worker must report a boot error."""
    assert scope["type"] == "lifespan"
    message = await receive()
    assert message["type"] == "lifespan.startup"
    await send({"type": "lifespan.startup.failed", "message": "the database is unreachable"})


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A WSGI application: served by :class:`WsgiWorker` (uvicorn does not detect WSGI by itself)."""
    body = f"wsgi {environ['REQUEST_METHOD']} {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class NoServerHeaderWorker(UvicornH11Worker):
    """A subclass choosing Config options through CONFIG_KWARGS, as the worker's users do."""

    CONFIG_KWARGS = {**UvicornH11Worker.CONFIG_KWARGS, "server_header": False}


class WsgiWorker(UvicornH11Worker):
    """Serves WSGI applications, chosen as users do: ``interface`` in CONFIG_KWARGS."""

    CONFIG_KWARGS = {**UvicornH11Worker.CONFIG_KWARGS, "interface": "wsgi"}


class MisspelledOptionWorker(UvicornWorker):
    """CONFIG_KWARGS naming an option Config does not have."""

    CONFIG_KWARGS = {"loop": "asyncio", "htp": "h11"}


class BadHttpWorker(UvicornWorker):
    """CONFIG_KWARGS giving an option a value uvicorn refuses."""

    CONFIG_KWARGS = {"loop": "asyncio", "http": "http3"}
