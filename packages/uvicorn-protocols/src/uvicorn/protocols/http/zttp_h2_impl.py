"""HTTP/2 over zttp (upstream's ``ZttpH2Protocol``): the shared HTTP/2 connection with the zttp engine."""

from __future__ import annotations

from typing import ClassVar

from uvicorn.protocols.http2.connection import HTTP2Connection
from uvicorn.protocols.http2.engine import Engine
from uvicorn.protocols.http2.engine_zttp import ZttpEngine

__all__ = ["ZttpH2Protocol"]


class ZttpH2Protocol(HTTP2Connection):
    """HTTP/2 served with zttp's framing; built like every protocol class."""

    engine_class: ClassVar[type[Engine] | None] = ZttpEngine
    alpn_protocols: ClassVar[list[str]] = ["h2"]
