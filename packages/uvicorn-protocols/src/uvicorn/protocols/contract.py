"""What a protocol class needs from the server that builds it, and nothing more.

Every protocol class, HTTP or WebSocket, is built as
``ProtocolClass(config=..., server_state=..., app_state=..., _loop=None)``.
``config`` is any object with the attributes of :class:`ProtocolConfig` (uvicorn-core
hands its ``Config``, loaded), ``server_state`` any object with those of
:class:`ProtocolServerState`, ``app_state`` the lifespan state dict. A protocol
never loads a config, never imports uvicorn-core and never looks it up: another
server, or a test, can drive the protocols with plain objects that fit these types.

Access lines go through the ``uvicorn.access`` logger; a formatter that also
offers :class:`AccessLineFormatter`'s method lets the HTTP protocols build and
batch the lines themselves (``http/access_log.py``). A server that keeps metrics
puts a :class:`ProtocolObserver` in ``server_state.observer``; the protocols tell
it what they do (and make no call at all when it is None).
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import ASGI3Application

__all__ = [
    "AccessLineFormatter",
    "ProtocolConfig",
    "ProtocolObserver",
    "ProtocolServerState",
    "ServedConnection",
    "UvicornDeprecationWarning",
]


class ProtocolConfig(Protocol):
    """The settings a protocol reads, once, when it is built (it never changes them)."""

    #: The application, already wrapped in its middleware; called once per request or WebSocket.
    loaded_app: ASGI3Application
    #: Prefixed to every scope's ``path`` and ``raw_path`` (``root_path`` setting).
    root_path: str
    #: Run each request in an empty ``contextvars`` context instead of a copy of the server's.
    reset_contextvars: bool
    #: Connections or tasks beyond which new requests get a 503.
    limit_concurrency: int | None
    #: Seconds a request head may take to arrive in full (408 after).
    timeout_request_head: float
    #: Bytes in a request line (414 beyond).
    limit_request_line: int
    #: Header fields in a request head (431 beyond).
    limit_request_fields: int
    #: Bytes in a whole request head (431 beyond).
    limit_request_head_size: int
    #: Bytes in a request body (413 beyond); None: no limit.
    limit_request_body: int | None
    #: Seconds the app may wait for the next piece of a request body (408 after).
    timeout_request_body: float
    #: Seconds buffered response bytes may go without moving (a client not reading) before the close.
    timeout_response_send: float
    #: Requests served on one connection (HTTP/2: streams) before it closes; None: no limit.
    limit_keep_alive_requests: int | None
    #: h11's buffer bound; None means ``limit_request_head_size``.
    h11_max_incomplete_event_size: int | None
    #: The protocol an HTTP connection hands a WebSocket upgrade to; None refuses upgrades.
    ws_protocol_class: type[asyncio.Protocol] | None
    #: Bytes in one incoming WebSocket message (1009 beyond).
    ws_max_size: int
    #: Incoming WebSocket messages held for the app before reading pauses.
    ws_max_queue: int
    #: Seconds between keepalive pings; None sends none.
    ws_ping_interval: float | None
    #: Seconds to wait for a pong before closing with 1011; None waits forever.
    ws_ping_timeout: float | None
    #: Offer permessage-deflate compression to WebSocket clients.
    ws_per_message_deflate: bool
    #: gunicorn-style format of the access line (``http/access_format.py``); None: upstream's line.
    access_log_format: str | None
    #: With HTTP/2 on: the classes a connection's negotiator picks between (ALPN or the
    #: connection preface), the second also taking over an ``Upgrade: h2c`` request.
    #: ``http2_protocol_class`` is None when HTTP/2 is off.
    http1_protocol_class: type[asyncio.Protocol]
    http2_protocol_class: type[asyncio.Protocol] | None
    #: The library framing HTTP/2 for a protocol class that does not fix it ("auto", "h2", "zttp").
    http2_engine: str
    #: HTTP/2 streams open at once per connection (advertised; REFUSED_STREAM beyond).
    http2_max_concurrent_streams: int
    #: Streams a client may reset, and PING/SETTINGS/empty DATA frames it may send, in 10 s.
    http2_max_resets: int
    http2_max_control_frames: int
    #: HPACK dynamic table a client may use for its headers.
    http2_header_table_size: int
    #: The server's certificate file (PEM): the ``server_cert`` of the ``tls`` scope extension.
    ssl_certfile: str | os.PathLike[str] | None

    # Read-only properties where a settable attribute would demand the exact type: core's
    # Config derives asgi_version, and types timeout_keep_alive int (as upstream).

    @property
    def asgi_version(self) -> Literal["2.0", "3.0"]:
        """The ``asgi.version`` of every scope (derived from the app's interface)."""

    @property
    def timeout_keep_alive(self) -> float:
        """Seconds an idle HTTP/1.1 connection waits for its next request."""

    @property
    def access_log_timing(self) -> Literal["head", "end"]:
        """When a response's access line is written: as its head goes out (upstream), or at its end.

        ``"end"`` lines know the response's size and duration (derived from the log settings).
        """


class ServedConnection(Protocol):
    """What the server needs from a protocol instance in ``ProtocolServerState.connections``."""

    def shutdown(self) -> None:
        """Close once the request in flight (if any) is answered; an idle connection at once."""

    def drain(self, grace: float | None) -> None:
        """Lose nothing: answer what the client has sent, then close; ``grace``: seconds left, if bounded.

        HTTP: the last request read gets ``connection: close`` (HTTP/2: GOAWAY), an idle
        connection is closed at its keep-alive timeout. WebSocket: 1012 at once without
        ``grace``, else 1001 shortly before it runs out.
        """


class ProtocolServerState(Protocol):
    """The server-wide state protocols share: what they count, register and send on every response."""

    #: Responses completed; each HTTP protocol adds one per response (``limit_max_requests``).
    total_requests: int
    #: Open connections; a protocol adds itself when made and discards itself when lost.
    connections: set[ServedConnection]
    #: Running app tasks; a protocol adds each task it starts and discards it when it ends.
    tasks: set[asyncio.Task[None]]
    #: Headers every response starts with (``server``, ``date``, ``--header``). The server
    #: replaces the list (never mutates it), once a second for the date, so a protocol may
    #: cache work keyed on the list's identity; protocols only read it.
    default_headers: list[tuple[bytes, bytes]]
    #: Told what the protocols do, for metrics; None (no metrics): the protocols make no call.
    observer: ProtocolObserver | None


class ProtocolObserver(Protocol):
    """What the protocols report to a server that keeps metrics (``ProtocolServerState.observer``).

    Calls come from the event loop, are cheap and never raise. (Open connections
    need no call: the server counts ``ProtocolServerState.connections``.)
    """

    def request_started(self) -> None:
        """A complete request head arrived: the request is in flight."""

    def request_finished(
        self, method: str, status: int | None, duration: float, received: int, sent: int
    ) -> None:
        """The response ended (or was abandoned); ``status`` None when no response head went out.

        ``duration`` in seconds from the request head; ``received`` / ``sent``: body bytes.
        """

    def rejected(self, reason: str) -> None:
        """The server answered a request itself: ``"limit_concurrency"`` (503) or a request-head problem."""

    def websocket_message(self, received: bool, size: int) -> None:
        """A WebSocket message of ``size`` payload bytes was received from (or sent to) the client."""


class AccessLineFormatter(Protocol):
    """A ``logging.Formatter`` of ``uvicorn.access`` that can build a line without a log record.

    When the access logger's only handler has such a formatter, the HTTP protocols
    write the lines it returns themselves, in batches. uvicorn-core's
    ``AccessFormatter`` is one.
    """

    def format_access(
        self, client_addr: str, method: str, full_path: str, http_version: str, status_code: int
    ) -> str | None:
        """The line the formatter would give a record with these args, or None: log it normally."""


class UvicornDeprecationWarning(UserWarning):
    """Warns of a deprecated uvicorn feature; a ``UserWarning`` so it shows without ``-W`` flags.

    uvicorn-core's ``uvicorn.config.UvicornDeprecationWarning`` is this class.
    """
