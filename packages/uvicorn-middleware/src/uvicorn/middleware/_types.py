"""Type aliases shared by the middleware modules.

The middleware package depends on nothing but the standard library, so it
describes ASGI and WSGI with plain ``typing`` aliases instead of importing
``uvicorn._types`` (which belongs to uvicorn-core and may not be installed).
Scopes and messages are loose mappings: any ASGI server's or framework's
objects fit them.
"""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, TypeAlias

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
# Applications are accepted with any parameter annotations: an app typed against
# another library's scope and message types is just as callable.
ASGIApp: TypeAlias = Callable[..., Awaitable[None]]

Headers: TypeAlias = list[tuple[bytes, bytes]]

Environ: TypeAlias = MutableMapping[str, Any]
ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, types.TracebackType | None]
Write: TypeAlias = Callable[[bytes], None]
StartResponse: TypeAlias = Callable[..., Write]
WSGIApp: TypeAlias = Callable[..., Iterable[bytes]]
