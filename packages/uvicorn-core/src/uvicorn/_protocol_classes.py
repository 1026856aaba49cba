"""Which protocol and lifespan classes a ``Config`` names, imported: ``Config.load()`` calls this.

``http``, ``ws`` and ``lifespan`` name a class by a short name from the tables
below (re-exported by ``uvicorn.config``, upstream's home for them) or, for
``http`` and ``ws``, by an import string; a class itself is taken as it is.
With ``http2`` the HTTP class becomes a negotiator between an HTTP/1.1 class
and the HTTP/2 class of ``http2_engine``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, NamedTuple

from uvicorn._startup import InvalidOptionError, MissingDependencyError
from uvicorn.importer import ImportFromStringError, import_from_string

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = [
    "HTTP2_PROTOCOLS",
    "HTTP_PROTOCOLS",
    "LIFESPAN",
    "WS_PROTOCOLS",
    "ProtocolClasses",
    "resolve_protocol_classes",
]

HTTP_PROTOCOLS: dict[str, str] = {
    "auto": "uvicorn.protocols.http.auto:AutoHTTPProtocol",
    "h11": "uvicorn.protocols.http.h11_impl:H11Protocol",
    "httptools": "uvicorn.protocols.http.httptools_impl:HttpToolsProtocol",
    "zttp": "uvicorn.protocols.http.zttp_impl:ZttpProtocol",
}
#: The HTTP/2 protocol class of each ``http2_engine``.
HTTP2_PROTOCOLS: dict[str, str] = {
    "h2": "uvicorn.protocols.http.h2_impl:H2Protocol",
    "zttp": "uvicorn.protocols.http.zttp_h2_impl:ZttpH2Protocol",
}
WS_PROTOCOLS: dict[str, str | None] = {
    "auto": "uvicorn.protocols.websockets.auto:AutoWebSocketsProtocol",
    "none": None,
    "websockets": "uvicorn.protocols.websockets.websockets_impl:WebSocketProtocol",
    "websockets-sansio": "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol",
    "wsproto": "uvicorn.protocols.websockets.wsproto_impl:WSProtocol",
}
LIFESPAN: dict[str, str] = {
    "auto": "uvicorn.lifespan.on:LifespanOn",
    "on": "uvicorn.lifespan.on:LifespanOn",
    "off": "uvicorn.lifespan.off:LifespanOff",
}


class ProtocolClasses(NamedTuple):
    """The classes a loaded ``Config`` hands to the server."""

    http: type[asyncio.Protocol]  # what each connection is built with
    http1: type[asyncio.Protocol]  # with http2: the HTTP/1.1 class a negotiator picks
    http2: type[asyncio.Protocol] | None  # None: HTTP/2 off
    ws: type[asyncio.Protocol] | None  # None: no WebSocket upgrades
    lifespan: type[Any]


def resolve_protocol_classes(config: Config) -> ProtocolClasses:
    """Import the classes ``config`` names; raise ``InvalidOptionError``/``MissingDependencyError``."""
    http1: type[asyncio.Protocol] = _resolve_class("http", config.http, HTTP_PROTOCOLS)
    http, http2 = _http2_classes(config) if config.http2 else (http1, None)
    ws: type[asyncio.Protocol] | None = (
        None if config.ws == "none" else _resolve_class("ws", config.ws, WS_PROTOCOLS)
    )
    lifespan = _resolve_class("lifespan", config.lifespan, LIFESPAN, free=False)
    return ProtocolClasses(http, http1, http2, ws, lifespan)


def _resolve_class(option: str, value: Any, choices: dict[str, Any], free: bool = True) -> Any:
    if not isinstance(value, str):
        return value
    target = choices.get(value, value if free else None)
    if target is None or (value not in choices and ":" not in value):
        expected = ", ".join(repr(name) for name in choices)
        more = ' or an import string "module:Class"' if free else ""
        raise InvalidOptionError(
            f"Invalid value for '{option}' (--{option}): {value!r}. Use one of {expected}{more}."
        )
    try:
        return import_from_string(target)
    except ImportFromStringError as exc:
        raise InvalidOptionError(f"Invalid value for '{option}' (--{option}): {exc}") from None
    except ImportError as exc:
        raise MissingDependencyError(
            f"'{option}={value}' needs a library that is not installed: {exc}", name=exc.name
        ) from None


def _http2_classes(config: Config) -> tuple[type[asyncio.Protocol], type[asyncio.Protocol]]:
    """The negotiating class every connection starts with, and the HTTP/2 class it may pick."""
    engine = config.http2_engine
    if engine not in ("auto", *HTTP2_PROTOCOLS):
        choices = ", ".join(repr(name) for name in ("auto", *HTTP2_PROTOCOLS))
        raise InvalidOptionError(
            f"Invalid value for 'http2_engine' (--http2-engine): {engine!r}. Use one of {choices}."
        )
    if engine == "auto":
        engine = "zttp" if config.http == "zttp" else _installed_http2_engine()
    try:
        http2: type[asyncio.Protocol] = import_from_string(HTTP2_PROTOCOLS[engine])
    except ImportError:
        raise MissingDependencyError(
            f"'http2_engine={engine}' (--http2-engine) needs the {engine} library: pip install {engine}.",
            name=engine,
        ) from None
    if config.http == "zttp" and engine == "zttp":
        return import_from_string("uvicorn.protocols.http.auto_zttp_impl:AutoZttpProtocol"), http2
    return import_from_string("uvicorn.protocols.http.negotiate:VersionNegotiator"), http2


def _installed_http2_engine() -> str:
    from uvicorn.protocols.http2.engine import EngineMissing, engine_class

    try:
        chosen = engine_class("auto")
    except EngineMissing:
        raise MissingDependencyError(
            "HTTP/2 (--http2) needs the zttp or h2 library: pip install 'uvicorn-protocols[zttp]' "
            "(or 'uvicorn-protocols[h2]').",
            name="zttp",
        ) from None
    return "zttp" if chosen.__name__ == "ZttpEngine" else "h2"
