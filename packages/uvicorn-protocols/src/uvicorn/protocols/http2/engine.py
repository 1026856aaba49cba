"""What the HTTP/2 connection needs from a framing library, and what it is told back.

An engine turns bytes into calls on :class:`EngineEvents` and turns the
connection's sends into bytes. The zttp and h2 libraries are adapted to this in
``engine_zttp.py`` and ``engine_h2.py``; :func:`engine_class` picks one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "ENGINES",
    "Engine",
    "EngineEvents",
    "EngineMissing",
    "LocalSettings",
    "ProtocolFailure",
    "advertise",
    "engine_class",
]

Headers = list[tuple[bytes, bytes]]

# RFC 9113 7: the error codes this package sends.
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
ENHANCE_YOUR_CALM = 0xB


@dataclass(frozen=True)
class LocalSettings:
    """What the server advertises in its SETTINGS frame (RFC 9113 6.5.2)."""

    max_concurrent_streams: int
    max_header_list_size: int
    header_table_size: int
    initial_window_size: int = 65535
    enable_connect_protocol: bool = False


class ProtocolFailure(Exception):
    """The client broke the protocol: the engine has queued GOAWAY and the connection must close."""

    def __init__(self, error_code: int, reason: str) -> None:
        super().__init__(reason)
        self.error_code = error_code


class EngineMissing(ImportError):
    """Neither HTTP/2 library is installed."""


class EngineEvents(Protocol):
    """The calls an engine makes while it reads (the HTTP/2 connection implements them)."""

    def on_request(
        self,
        stream_id: int,
        method: bytes,
        target: bytes,
        protocol: bytes | None,
        headers: Headers,
        end_stream: bool,
    ) -> None:
        """A request head; ``protocol`` is the ``:protocol`` of an extended CONNECT (RFC 8441)."""

    def on_data(self, stream_id: int, data: bytes) -> None: ...

    def on_end(self, stream_id: int, trailers: Headers) -> None: ...

    def on_reset(self, stream_id: int) -> None: ...

    def on_window_update(self) -> None: ...

    def on_goaway(self) -> None: ...


class Engine(Protocol):
    """One HTTP/2 connection's framing, HPACK and flow-control state."""

    #: Streams a connection may open before the engine refuses more (None: no such bound).
    stream_budget: int | None
    #: Whether the streams in flight can still be answered once the client sent GOAWAY.
    answers_after_goaway: bool

    def __init__(self, events: EngineEvents, settings: LocalSettings) -> None: ...

    def initiate(self) -> None:
        """Queue the server's connection preface (its SETTINGS)."""

    def initiate_upgrade(
        self, settings_header: bytes, method: bytes, target: bytes, headers: Headers
    ) -> None:
        """Start as the server of an ``Upgrade: h2c`` request, which becomes stream 1."""

    def receive(self, data: bytes) -> None:
        """Read bytes, calling the :class:`EngineEvents`; raises :class:`ProtocolFailure`."""

    def data_to_send(self) -> bytes:
        """The bytes queued for the peer since the last call."""

    def send_response(self, stream_id: int, status: int, headers: Headers, end_stream: bool) -> None: ...

    def send_informational(self, stream_id: int, status: int, headers: Headers) -> None: ...

    def send_data(self, stream_id: int, data: bytes, end_stream: bool) -> None:
        """Send body bytes; what the peer's window does not take yet is held and sent as it opens."""

    def send_trailers(self, stream_id: int, headers: Headers) -> None: ...

    def has_pending(self, stream_id: int) -> bool:
        """True while body bytes of ``stream_id`` wait for flow-control credit."""

    def reset_stream(self, stream_id: int, error_code: int) -> None: ...

    def acknowledge(self, stream_id: int, length: int) -> None:
        """The app consumed ``length`` request body bytes: give the client that much window back."""

    def goaway(self, error_code: int, last_stream_id: int | None = None) -> None: ...


_SETTINGS_FRAME = 0x4
_HEADER_TABLE_SIZE, _MAX_CONCURRENT_STREAMS = 0x1, 0x3
_MAX_HEADER_LIST_SIZE, _ENABLE_CONNECT_PROTOCOL = 0x6, 0x8


def advertise(first_frames: bytes, ours: LocalSettings) -> bytes:
    """A library's first SETTINGS frame with the server's own values in place of the library's.

    Libraries enforce their settings themselves, in ways the server cannot tune
    (zttp fixes them; h2 answers a stream past the limit with a connection error).
    Their internal values stay as loose as they are; the client is told the
    server's, which the connection enforces (a stream past the limit gets
    REFUSED_STREAM). The HPACK table and header list are only ever made smaller.
    """
    length = int.from_bytes(first_frames[:3], "big")
    if len(first_frames) < 9 + length or first_frames[3] != _SETTINGS_FRAME or first_frames[4] != 0:
        return first_frames  # not the frame expected: leave the library's bytes alone
    payload = first_frames[9 : 9 + length]
    entries = []
    for offset in range(0, len(payload) - 5, 6):
        identifier = int.from_bytes(payload[offset : offset + 2], "big")
        value = int.from_bytes(payload[offset + 2 : offset + 6], "big")
        if identifier == _MAX_CONCURRENT_STREAMS:
            value = ours.max_concurrent_streams
        elif identifier == _MAX_HEADER_LIST_SIZE:
            value = min(value, ours.max_header_list_size)
        elif identifier == _HEADER_TABLE_SIZE:
            value = min(value, ours.header_table_size)
        elif identifier == _ENABLE_CONNECT_PROTOCOL:
            value = int(ours.enable_connect_protocol)
        entries.append(identifier.to_bytes(2, "big") + value.to_bytes(4, "big"))
    rewritten = b"".join(entries)
    return len(rewritten).to_bytes(3, "big") + first_frames[3:9] + rewritten + first_frames[9 + length :]


#: ``http2_engine`` values and the module:class implementing each.
ENGINES: dict[str, str] = {
    "zttp": "uvicorn.protocols.http2.engine_zttp:ZttpEngine",
    "h2": "uvicorn.protocols.http2.engine_h2:H2Engine",
}
# ``auto`` takes zttp when installed: measured ~35x faster per request than h2 (docs/http2.md).
_AUTO_ORDER: Sequence[str] = ("zttp", "h2")


def engine_class(name: str = "auto") -> type[Engine]:
    """The engine named ``name`` (``auto``: zttp if installed, else h2); raises :class:`EngineMissing`."""
    import importlib

    names = _AUTO_ORDER if name == "auto" else (name,)
    missing: list[str] = []
    for candidate in names:
        module_name, _, class_name = ENGINES[candidate].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            missing.append(candidate)
            continue
        engine: type[Engine] = getattr(module, class_name)
        return engine
    raise EngineMissing(" or ".join(missing))
