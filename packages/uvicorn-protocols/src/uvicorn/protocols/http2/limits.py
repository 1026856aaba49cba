"""The bounds an HTTP/2 connection keeps, read once from the server's options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from uvicorn.protocols.http2.engine import LocalSettings

if TYPE_CHECKING:
    from uvicorn.protocols.contract import ProtocolConfig

__all__ = ["COUNTING_WINDOW", "MAX_HEADER_BLOCK_FRAMES", "HTTP2Limits"]

#: Seconds over which resets and control frames are counted against their limits.
COUNTING_WINDOW = 10.0
#: Frames (HEADERS + CONTINUATION) one header block may span; real clients need one or two.
MAX_HEADER_BLOCK_FRAMES = 32


@dataclass(frozen=True)
class HTTP2Limits:
    """Per-connection limits; every field comes from a ``Config`` option (docs/settings.md)."""

    max_concurrent_streams: int = 100
    header_table_size: int = 4096
    max_resets: int = 200
    max_control_frames: int = 500
    # Shared with HTTP/1.1: the request-head limits bound the decoded header list.
    max_header_list_size: int = 128 * 1024
    max_header_fields: int = 100
    max_request_line: int = 8190
    max_request_body: int | None = None  # limit_request_body

    @classmethod
    def from_config(cls, config: ProtocolConfig) -> HTTP2Limits:
        """The limits ``config`` asks for."""
        return cls(
            max_concurrent_streams=config.http2_max_concurrent_streams,
            header_table_size=config.http2_header_table_size,
            max_resets=config.http2_max_resets,
            max_control_frames=config.http2_max_control_frames,
            max_header_list_size=config.limit_request_head_size,
            max_header_fields=config.limit_request_fields,
            max_request_line=config.limit_request_line,
            max_request_body=config.limit_request_body,
        )

    def local_settings(self, enable_connect_protocol: bool = False) -> LocalSettings:
        """What the server advertises in its SETTINGS frame."""
        return LocalSettings(
            max_concurrent_streams=self.max_concurrent_streams,
            max_header_list_size=self.max_header_list_size,
            header_table_size=self.header_table_size,
            enable_connect_protocol=enable_connect_protocol,
        )
