"""Type definitions for the ASGI interface, as the protocols implement it.

These follow the ASGI specification (HTTP and WebSocket 2.x, lifespan 2.0) and
its extensions. Keys a server or app may leave out are declared in a
``total=False`` subclass, which keeps the module free of ``typing_extensions``
on Python 3.10. uvicorn-core re-exports every name as ``uvicorn._types``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal, Protocol, TypedDict

__all__ = [
    "ASGI2Application",
    "ASGI2Protocol",
    "ASGI3Application",
    "ASGIApplication",
    "ASGIReceiveCallable",
    "ASGIReceiveEvent",
    "ASGISendCallable",
    "ASGISendEvent",
    "ASGIVersions",
    "HTTPDisconnectEvent",
    "HTTPRequestEvent",
    "HTTPResponseBodyEvent",
    "HTTPResponseDebugEvent",
    "HTTPResponseEarlyHintEvent",
    "HTTPResponseStartEvent",
    "HTTPResponseTrailersEvent",
    "HTTPScope",
    "HTTPServerPushEvent",
    "Headers",
    "LifespanScope",
    "LifespanShutdownCompleteEvent",
    "LifespanShutdownEvent",
    "LifespanShutdownFailedEvent",
    "LifespanStartupCompleteEvent",
    "LifespanStartupEvent",
    "LifespanStartupFailedEvent",
    "Scope",
    "WWWScope",
    "WebSocketAcceptEvent",
    "WebSocketCloseEvent",
    "WebSocketConnectEvent",
    "WebSocketDisconnectEvent",
    "WebSocketEvent",
    "WebSocketReceiveEvent",
    "WebSocketResponseBodyEvent",
    "WebSocketResponseStartEvent",
    "WebSocketScope",
    "WebSocketSendEvent",
]

# ---------------------------------------------------------------- scopes

Headers = Iterable[tuple[bytes, bytes]]


class ASGIVersions(TypedDict):
    """The ``asgi`` key of every scope: interface version and spec version."""

    spec_version: str
    version: Literal["2.0", "3.0"]


class _ScopeExtras(TypedDict, total=False):
    state: dict[str, Any]  # a shallow copy of the lifespan state, per request
    extensions: dict[str, dict[object, object]]


class _ConnectionScope(_ScopeExtras):
    # What HTTP and WebSocket scopes share: the connection and the request target.
    asgi: ASGIVersions
    http_version: str
    scheme: str
    path: str
    raw_path: bytes
    query_string: bytes
    root_path: str
    headers: Headers
    client: tuple[str, int] | None
    server: tuple[str, int | None] | None


class HTTPScope(_ConnectionScope):
    """Scope of one HTTP request."""

    type: Literal["http"]
    method: str


class WebSocketScope(_ConnectionScope):
    """Scope of one WebSocket connection, from the handshake to the close."""

    type: Literal["websocket"]
    subprotocols: Iterable[str]


class _LifespanScopeExtras(TypedDict, total=False):
    state: dict[str, Any]


class LifespanScope(_LifespanScopeExtras):
    """Scope of the lifespan protocol: one per server process."""

    type: Literal["lifespan"]
    asgi: ASGIVersions


WWWScope = HTTPScope | WebSocketScope
Scope = HTTPScope | WebSocketScope | LifespanScope

# ---------------------------------------------------------------- HTTP events


class HTTPRequestEvent(TypedDict):
    type: Literal["http.request"]
    body: bytes
    more_body: bool


class HTTPResponseDebugEvent(TypedDict):
    type: Literal["http.response.debug"]
    info: dict[str, object]


class HTTPResponseEarlyHintEvent(TypedDict):
    type: Literal["http.response.early_hint"]
    links: Iterable[bytes]


class _HTTPResponseStartOptional(TypedDict, total=False):
    headers: Headers
    trailers: bool


class HTTPResponseStartEvent(_HTTPResponseStartOptional):
    type: Literal["http.response.start"]
    status: int


class _MoreBodyOptional(TypedDict, total=False):
    more_body: bool


class HTTPResponseBodyEvent(_MoreBodyOptional):
    type: Literal["http.response.body"]
    body: bytes


class HTTPResponseTrailersEvent(TypedDict):
    type: Literal["http.response.trailers"]
    headers: Headers
    more_trailers: bool


class HTTPServerPushEvent(TypedDict):
    type: Literal["http.response.push"]
    path: str
    headers: Headers


class HTTPDisconnectEvent(TypedDict):
    type: Literal["http.disconnect"]


# ---------------------------------------------------------------- WebSocket events


class WebSocketConnectEvent(TypedDict):
    type: Literal["websocket.connect"]


class _WebSocketAcceptOptional(TypedDict, total=False):
    subprotocol: str | None
    headers: Headers


class WebSocketAcceptEvent(_WebSocketAcceptOptional):
    type: Literal["websocket.accept"]


# A data frame carries either ``bytes`` or ``text``; the other key is absent or None.


class _NoText(TypedDict, total=False):
    text: None


class _NoBytes(TypedDict, total=False):
    bytes: None


class _WebSocketReceiveEventBytes(_NoText):
    type: Literal["websocket.receive"]
    bytes: bytes


class _WebSocketReceiveEventText(_NoBytes):
    type: Literal["websocket.receive"]
    text: str


WebSocketReceiveEvent = _WebSocketReceiveEventBytes | _WebSocketReceiveEventText


class _WebSocketSendEventBytes(_NoText):
    type: Literal["websocket.send"]
    bytes: bytes


class _WebSocketSendEventText(_NoBytes):
    type: Literal["websocket.send"]
    text: str


WebSocketSendEvent = _WebSocketSendEventBytes | _WebSocketSendEventText


class WebSocketResponseStartEvent(TypedDict):
    """Denial response (websocket.http.response extension): start."""

    type: Literal["websocket.http.response.start"]
    status: int
    headers: Headers


class WebSocketResponseBodyEvent(_MoreBodyOptional):
    """Denial response (websocket.http.response extension): body."""

    type: Literal["websocket.http.response.body"]
    body: bytes


class _ReasonOptional(TypedDict, total=False):
    reason: str | None


class WebSocketDisconnectEvent(_ReasonOptional):
    type: Literal["websocket.disconnect"]
    code: int


class _CloseCodeOptional(_ReasonOptional, total=False):
    code: int


class WebSocketCloseEvent(_CloseCodeOptional):
    type: Literal["websocket.close"]


# ---------------------------------------------------------------- lifespan events


class LifespanStartupEvent(TypedDict):
    type: Literal["lifespan.startup"]


class LifespanShutdownEvent(TypedDict):
    type: Literal["lifespan.shutdown"]


class LifespanStartupCompleteEvent(TypedDict):
    type: Literal["lifespan.startup.complete"]


class LifespanStartupFailedEvent(TypedDict):
    type: Literal["lifespan.startup.failed"]
    message: str


class LifespanShutdownCompleteEvent(TypedDict):
    type: Literal["lifespan.shutdown.complete"]


class LifespanShutdownFailedEvent(TypedDict):
    type: Literal["lifespan.shutdown.failed"]
    message: str


# ---------------------------------------------------------------- unions and callables

WebSocketEvent = WebSocketReceiveEvent | WebSocketDisconnectEvent | WebSocketConnectEvent

ASGIReceiveEvent = (
    HTTPRequestEvent
    | HTTPDisconnectEvent
    | WebSocketConnectEvent
    | WebSocketReceiveEvent
    | WebSocketDisconnectEvent
    | LifespanStartupEvent
    | LifespanShutdownEvent
)

ASGISendEvent = (
    HTTPResponseStartEvent
    | HTTPResponseBodyEvent
    | HTTPResponseEarlyHintEvent
    | HTTPResponseTrailersEvent
    | HTTPServerPushEvent
    | HTTPDisconnectEvent
    | WebSocketAcceptEvent
    | WebSocketSendEvent
    | WebSocketResponseStartEvent
    | WebSocketResponseBodyEvent
    | WebSocketCloseEvent
    | LifespanStartupCompleteEvent
    | LifespanStartupFailedEvent
    | LifespanShutdownCompleteEvent
    | LifespanShutdownFailedEvent
)

ASGIReceiveCallable = Callable[[], Awaitable[ASGIReceiveEvent]]
ASGISendCallable = Callable[[ASGISendEvent], Awaitable[None]]


class ASGI2Protocol(Protocol):
    """An ASGI2 ("double callable") app: built with the scope, then called with receive/send."""

    def __init__(self, scope: Scope) -> None: ...

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None: ...


ASGI2Application = type[ASGI2Protocol]
ASGI3Application = Callable[[Scope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]]
ASGIApplication = ASGI2Application | ASGI3Application
