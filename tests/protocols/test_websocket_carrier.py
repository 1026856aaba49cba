"""A second carrier: the same WebSocket session over something that is not HTTP/1.1.

``StreamCarrier`` stands in for an HTTP/2 stream opened by an extended CONNECT
(RFC 8441): the request is checked by ``check_extended_connect`` (no key), the
accept is a ``200`` with headers (no ``101``, no ``Sec-WebSocket-Accept``), and
frames are bytes on the stream. Each library codec runs under the unchanged
session, with a real app task; only the carrier is in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pytest

from tests.protocols.test_websocket_support import OP_CLOSE, OP_TEXT, close_payload, frame
from uvicorn.config import Config
from uvicorn.protocols.websockets.carrier import Carrier
from uvicorn.protocols.websockets.handshake import HandshakeError, check_extended_connect
from uvicorn.protocols.websockets.session import WebSocketSession
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.protocols.websockets.wsproto_impl import WSProtocol
from uvicorn.server import ServerState

CODECS = {"websockets-sansio": WebSocketsSansIOProtocol.make_codec, "wsproto": WSProtocol.make_codec}


class StreamCarrier:
    """An in-memory stream: records what the session sends; ``close`` ends the stream."""

    scheme = "wss"
    server = ("127.0.0.1", 443)
    client = ("127.0.0.1", 50000)
    tls = None  # the tls scope extension of a real connection (tests/protocols/test_tls_extension.py)

    def __init__(self) -> None:
        self.sent = bytearray()
        self.write = self.sent.extend
        self.accepted: list[tuple[bytes, bytes]] | None = None
        self.status: int | None = None
        self.body = b""
        self.reading = True
        self.closed = asyncio.Event()
        self.session: WebSocketSession | None = None

    def send_accept(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.accepted = headers  # HEADERS :status 200 on a real stream

    def send_error(self, status: int, message: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
        self.status, self.body = status, message.encode()

    def start_response(self, status: int, headers: Iterable[tuple[bytes, bytes]]) -> None:
        self.status = status

    def send_response_body(self, body: bytes, more_body: bool) -> None:
        self.body += body

    @property
    def response_started(self) -> bool:
        return bool(self.body)

    def is_closing(self) -> bool:
        return self.closed.is_set()

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def close(self) -> None:
        self.closed.set()
        assert self.session is not None
        asyncio.get_running_loop().call_soon(self.session.connection_lost)  # the stream is gone

    def log_prefix(self) -> str:
        return ""


def open_session(app: Any, codec_name: str, carrier: StreamCarrier) -> WebSocketSession:
    config = Config(app, lifespan="off")
    config.load()
    codec = CODECS[codec_name](config)
    session = WebSocketSession(config, ServerState(), {}, asyncio.get_running_loop(), carrier, codec)
    carrier.session = session
    return session


@pytest.mark.parametrize("codec_name", list(CODECS))
async def test_a_session_runs_over_a_stream_carrier(codec_name: str) -> None:
    accepted, echoed, done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["scope"] = scope
        await receive()
        await send({"type": "websocket.accept", "subprotocol": "chat"})
        accepted.set()
        message = await receive()
        await send({"type": "websocket.send", "text": "echo " + message["text"]})
        echoed.set()
        seen["disconnect"] = await receive()
        done.set()

    carrier = StreamCarrier()
    session = open_session(app, codec_name, carrier)
    request = check_extended_connect(
        "CONNECT",
        "websocket",
        b"/chat?room=1",
        [(b"sec-websocket-version", b"13"), (b"sec-websocket-protocol", b"chat, other")],
    )
    session.start(request)
    await asyncio.wait_for(accepted.wait(), 10)
    assert carrier.accepted is not None
    names = [name for name, _ in carrier.accepted]
    assert (b"sec-websocket-protocol", b"chat") in carrier.accepted
    assert b"sec-websocket-accept" not in names and b"upgrade" not in names  # no HTTP/1.1 upgrade

    session.receive_data(frame(OP_TEXT, b"hi"))
    await asyncio.wait_for(echoed.wait(), 10)
    session.receive_data(frame(OP_CLOSE, close_payload(1000, b"bye")))
    await asyncio.wait_for(done.wait(), 10)
    await asyncio.wait_for(carrier.closed.wait(), 10)
    scope = seen["scope"]
    assert (scope["http_version"], scope["scheme"], scope["path"], scope["query_string"]) == (
        "2",
        "wss",
        "/chat",
        b"room=1",
    )
    assert scope["subprotocols"] == ["chat", "other"]
    text, close = bytes([0x81, 7]) + b"echo hi", bytes([0x88, 5]) + close_payload(1000, b"bye")
    assert bytes(carrier.sent) == text + close  # the echo, then the echo of the close frame
    assert seen["disconnect"] == {"type": "websocket.disconnect", "code": 1000, "reason": "bye"}


@pytest.mark.parametrize("codec_name", list(CODECS))
async def test_a_denial_goes_through_the_carrier(codec_name: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        await send({"type": "websocket.http.response.body", "body": b"members only"})

    carrier = StreamCarrier()
    session = open_session(app, codec_name, carrier)
    session.start(check_extended_connect("CONNECT", "websocket", b"/", [(b"sec-websocket-version", b"13")]))
    await asyncio.wait_for(carrier.closed.wait(), 10)
    assert (carrier.status, carrier.body) == (403, b"members only")
    assert carrier.sent == b""


def test_an_extended_connect_is_checked() -> None:
    with pytest.raises(HandshakeError) as wrong_protocol:
        check_extended_connect("CONNECT", "h2c", b"/", [(b"sec-websocket-version", b"13")])
    assert wrong_protocol.value.status == 400
    with pytest.raises(HandshakeError) as wrong_version:
        check_extended_connect("CONNECT", "websocket", b"/", [(b"sec-websocket-version", b"8")])
    assert wrong_version.value.status == 426


def test_the_stream_carrier_implements_the_whole_interface() -> None:
    members = {name for name in vars(Carrier) if not name.startswith("_")} | set(Carrier.__annotations__)
    missing = {name for name in members if not hasattr(StreamCarrier(), name)}
    assert not missing
