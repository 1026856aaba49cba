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
batch the lines themselves (``http/access_log.py``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import ASGI3Application

__all__ = [
    "AccessLineFormatter",
    "ProtocolConfig",
    "ProtocolServerState",
    "ServedConnection",
    "UvicornDeprecationWarning",
]


class ProtocolConfig(Protocol):
    """The settings a protocol reads, once, when it is built (read-only to the protocol)."""

    @property
    def loaded_app(self) -> ASGI3Application:
        """The application, already wrapped in its middleware; called once per request or WebSocket."""

    @property
    def asgi_version(self) -> Literal["2.0", "3.0"]:
        """The ``asgi.version`` of every scope."""

    @property
    def root_path(self) -> str:
        """Prefixed to every scope's ``path`` and ``raw_path`` (``root_path`` setting)."""

    @property
    def reset_contextvars(self) -> bool:
        """Run each request in an empty ``contextvars`` context instead of a copy of the server's."""

    @property
    def limit_concurrency(self) -> int | None:
        """Connections or tasks beyond which new requests get a 503."""

    @property
    def timeout_keep_alive(self) -> float:
        """Seconds an idle HTTP/1.1 connection waits for its next request."""

    @property
    def timeout_request_head(self) -> float:
        """Seconds a request head may take to arrive in full (408 after)."""

    @property
    def limit_request_line(self) -> int:
        """Bytes in a request line (414 beyond)."""

    @property
    def limit_request_fields(self) -> int:
        """Header fields in a request head (431 beyond)."""

    @property
    def limit_request_head_size(self) -> int:
        """Bytes in a whole request head (431 beyond)."""

    @property
    def h11_max_incomplete_event_size(self) -> int | None:
        """h11's buffer bound; None means ``limit_request_head_size``."""

    @property
    def ws_protocol_class(self) -> type[asyncio.Protocol] | None:
        """The protocol an HTTP connection hands a WebSocket upgrade to; None refuses upgrades."""

    @property
    def ws_max_size(self) -> int:
        """Bytes in one incoming WebSocket message (1009 beyond)."""

    @property
    def ws_max_queue(self) -> int:
        """Incoming WebSocket messages held for the app before reading pauses."""

    @property
    def ws_ping_interval(self) -> float | None:
        """Seconds between keepalive pings; None sends none."""

    @property
    def ws_ping_timeout(self) -> float | None:
        """Seconds to wait for a pong before closing with 1011; None waits forever."""

    @property
    def ws_per_message_deflate(self) -> bool:
        """Offer permessage-deflate compression to WebSocket clients."""


class ServedConnection(Protocol):
    """What the server needs from a protocol instance in ``ProtocolServerState.connections``."""

    def shutdown(self) -> None:
        """Close once the request in flight (if any) is answered."""


class ProtocolServerState(Protocol):
    """The server-wide state protocols share: what they count, register and send on every response."""

    #: Responses completed; each HTTP protocol adds one per response (``limit_max_requests``).
    total_requests: int

    @property
    def connections(self) -> set[ServedConnection]:
        """Open connections; a protocol adds itself when made and discards itself when lost."""

    @property
    def tasks(self) -> set[asyncio.Task[None]]:
        """Running app tasks; a protocol adds each task it starts and discards it when it ends."""

    @property
    def default_headers(self) -> list[tuple[bytes, bytes]]:
        """Headers every response starts with (``server``, ``date``, ``--header``).

        The server replaces the list (never mutates it), once a second for the date,
        so a protocol may cache work keyed on the list's identity.
        """


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
