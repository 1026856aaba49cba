"""``--http zttp --http2`` (upstream's ``AutoZttpProtocol``): HTTP/1.1 or HTTP/2, both over zttp."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from uvicorn.protocols.http.negotiate import VersionNegotiator
from uvicorn.protocols.http.zttp_h2_impl import ZttpH2Protocol
from uvicorn.protocols.http.zttp_impl import ZttpProtocol

__all__ = ["HTTP2_PREFACE", "AutoZttpProtocol"]

HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class AutoZttpProtocol(VersionNegotiator):
    """Picks zttp's HTTP/1.1 or HTTP/2 protocol per connection (ALPN over TLS, the preface otherwise)."""

    http1_class: ClassVar[type[asyncio.Protocol] | None] = ZttpProtocol
    http2_class: ClassVar[type[asyncio.Protocol] | None] = ZttpH2Protocol
