"""HTTP/2 over the h2 library: the shared HTTP/2 connection with the h2 engine (``--http2-engine h2``)."""

from __future__ import annotations

from typing import ClassVar

from uvicorn.protocols.http2.connection import HTTP2Connection
from uvicorn.protocols.http2.engine import Engine
from uvicorn.protocols.http2.engine_h2 import H2Engine

__all__ = ["H2Protocol"]


class H2Protocol(HTTP2Connection):
    """HTTP/2 served with h2's framing; built like every protocol class."""

    engine_class: ClassVar[type[Engine] | None] = H2Engine
    alpn_protocols: ClassVar[list[str]] = ["h2"]
