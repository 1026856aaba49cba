"""Run an ASGI2 ("double callable") application under an ASGI3 server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from uvicorn.middleware._types import Receive, Scope, Send

__all__ = ["ASGI2Middleware"]

ASGI2App = Callable[[Any], Callable[..., Awaitable[None]]]


class ASGI2Middleware:
    """Adapt an ASGI2 application to the ASGI3 calling convention.

    An ASGI2 app is called with the scope alone and returns an instance that
    is then awaited with ``receive`` and ``send``; ASGI3 servers call one
    coroutine with all three.
    """

    def __init__(self, app: ASGI2App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        instance = self.app(scope)
        await instance(receive, send)
