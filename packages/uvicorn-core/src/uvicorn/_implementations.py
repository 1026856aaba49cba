"""The names of implementations (``http``, ``http2_engine``, ``ws``, ``lifespan``, ``loop``) made classes.

Each option takes one of uvicorn's names (``"h11"``, ``"uvloop"``...) or, where
upstream allows it, an import string ``"module:attribute"``; a class given
directly is used as it is. A mistake is one line naming the option.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

from uvicorn._startup import InvalidOptionError, MissingDependencyError, startup_failure
from uvicorn.importer import ImportFromStringError, import_from_string

__all__ = [
    "HTTP2_PROTOCOLS",
    "HTTP_PROTOCOLS",
    "LIFESPAN",
    "LOOP_FACTORIES",
    "WS_PROTOCOLS",
    "HTTP2EngineType",
    "HTTPProtocolType",
    "LifespanType",
    "LoopFactoryType",
    "WSProtocolType",
    "http2_classes",
    "loop_factory",
    "resolve_class",
]

# The names each option takes, and what they import (uvicorn.config re-exports them, as upstream has them).
HTTPProtocolType = Literal["auto", "h11", "httptools", "zttp"]
HTTP2EngineType = Literal["auto", "h2", "zttp"]
WSProtocolType = Literal["auto", "none", "websockets", "websockets-sansio", "wsproto"]
LifespanType = Literal["auto", "on", "off"]
LoopFactoryType = Literal["none", "auto", "asyncio", "uvloop"]

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
LOOP_FACTORIES: dict[str, str | None] = {
    "none": None,
    "auto": "uvicorn.loops.auto:auto_loop_factory",
    "asyncio": "uvicorn.loops.asyncio:asyncio_loop_factory",
    "uvloop": "uvicorn.loops.uvloop:uvloop_loop_factory",
}


def resolve_class(option: str, value: Any, choices: dict[str, Any], free: bool = True) -> Any:
    """The class ``value`` names among ``choices`` (or, if ``free``, by import string); a class as is."""
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


def loop_factory(
    loop: str, choices: dict[str, str | None], use_subprocess: bool
) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop factory ``loop`` names, or None for ``"none"`` (use the running policy)."""
    if loop not in choices:
        if ":" not in loop:
            startup_failure(
                "Invalid value for 'loop' (--loop): %r. Use one of %s or an import string %s.",
                loop,
                ", ".join(repr(name) for name in choices),
                '"module:factory"',
            )
        try:
            custom: Callable[[], asyncio.AbstractEventLoop] = import_from_string(loop)
        except ImportFromStringError as exc:
            startup_failure("Error loading custom loop setup function. %s", exc)
        return custom
    target = choices[loop]
    if target is None:
        return None
    try:
        setup = import_from_string(target)
    except ImportError as exc:
        raise MissingDependencyError(
            f"Invalid value for 'loop' (--loop): {loop!r} is not available ({exc}). "
            "Install it or use 'asyncio'.",
            name=exc.name,
        ) from None
    factory: Callable[[], asyncio.AbstractEventLoop] = setup(use_subprocess=use_subprocess)
    return factory


def http2_classes(http: Any, engine: str, choices: dict[str, str]) -> tuple[Any, Any]:
    """With ``http2``: the connection class (which picks HTTP/1.1 or HTTP/2 per connection, by
    ALPN or preface) and the HTTP/2 protocol class of ``engine`` (``"auto"``: zttp or h2, installed).
    """
    if engine not in ("auto", *choices):
        names = ", ".join(repr(name) for name in ("auto", *choices))
        raise InvalidOptionError(
            f"Invalid value for 'http2_engine' (--http2-engine): {engine!r}. Use one of {names}."
        )
    if engine == "auto":
        engine = "zttp" if http == "zttp" else _installed_http2_engine()
    try:
        http2_protocol_class = import_from_string(choices[engine])
    except ImportError:
        raise MissingDependencyError(
            f"'http2_engine={engine}' (--http2-engine) needs the {engine} library: pip install {engine}.",
            name=engine,
        ) from None
    if http == "zttp" and engine == "zttp":
        return import_from_string(
            "uvicorn.protocols.http.auto_zttp_impl:AutoZttpProtocol"
        ), http2_protocol_class
    return import_from_string("uvicorn.protocols.http.negotiate:VersionNegotiator"), http2_protocol_class


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
