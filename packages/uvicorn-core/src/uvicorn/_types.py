"""Type definitions for the ASGI interface (and the WSGI one we adapt).

The ASGI types are defined by the protocols, which implement the interface
(:mod:`uvicorn.protocols.asgi_types`); they are the same objects here, under
the names upstream uvicorn gives them. The WSGI types are uvicorn-core's own.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

from uvicorn.protocols import asgi_types
from uvicorn.protocols.asgi_types import *  # noqa: F403  (the names of asgi_types.__all__)

# Importable here as before, though private: the two shapes of WebSocket data messages
# (upstream's module defines these names too).
from uvicorn.protocols.asgi_types import (  # noqa: F401
    _WebSocketReceiveEventBytes,
    _WebSocketReceiveEventText,
    _WebSocketSendEventBytes,
    _WebSocketSendEventText,
)

__all__ = ["Environ", "ExcInfo", "StartResponse", "WSGIApp"]
__all__ += asgi_types.__all__

# ---------------------------------------------------------------- WSGI (PEP 3333)

Environ = MutableMapping[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, types.TracebackType | None]
StartResponse = Callable[[str, Iterable[tuple[str, str]], ExcInfo | None], None]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes] | BaseException]
