"""Serve a generated WebSocket :class:`~tests.protocols.fuzzing.websocket.Session`, and judge it.

The session starts as a real one does: an HTTP/1.1 protocol (any parser)
reads the upgrade request and hands the connection to the WebSocket
implementation under test (``transport.set_protocol``). :func:`serve_session`
reports everything observable; :func:`check` holds the properties.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any

from tests.protocols.fuzzing.drive import Served, assert_clean, serve
from tests.protocols.fuzzing.http1_checks import PROTOCOLS
from tests.protocols.fuzzing.websocket import (
    BINARY,
    CLOSE,
    MAX_SIZE,
    PONG,
    TEXT,
    Session,
    parse_server_frames,
)
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.protocols.websockets.wsproto_impl import WSProtocol

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the deprecated implementation warns on import
    from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol

__all__ = ["IMPLEMENTATIONS", "WebSocketOutcome", "check", "serve_session"]

# Seconds a close frame waits for the peer's (docs/websockets.md).
CLOSE_TIMEOUT = 10.0

IMPLEMENTATIONS: dict[str, type[Any]] = {
    "websockets-sansio": WebSocketsSansIOProtocol,
    "websockets": WebSocketProtocol,
    "wsproto": WSProtocol,
}


async def echo_app(scope: Any, receive: Any, send: Any) -> None:
    """Accepts, echoes every message, and records what it received in ``scope["state"]["log"]``."""
    log: list[dict[str, Any]] = scope["state"]["log"]
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    echoing = True
    while True:
        message = dict(await receive())
        log.append(message)
        if message["type"] == "websocket.disconnect":
            return
        if echoing:
            reply = {"type": "websocket.send", "bytes": message.get("bytes"), "text": message.get("text")}
            try:
                await send(reply)
            except OSError:  # ClientDisconnected: the close (or a fault) came first
                echoing = False


@functools.cache
def config(parser: str, implementation: str) -> Config:
    built = Config(
        echo_app,
        http=parser,
        ws=IMPLEMENTATIONS[implementation],
        ws_max_size=MAX_SIZE,
        ws_max_queue=4,  # small, so that reading pauses and resumes
        ws_ping_interval=None,
        ws_per_message_deflate=False,
        lifespan="off",
        access_log=False,
        log_config=None,
    )
    built.load()
    return built


def serve_session(
    parser: str, implementation: str, session: Session, chunks: list[bytes]
) -> WebSocketOutcome:
    """Feed ``chunks`` (the session's bytes, split some way) to a fresh HTTP connection, which upgrades."""
    app_state: dict[str, Any] = {"log": []}
    served = serve(
        PROTOCOLS[parser],
        config(parser, implementation),
        chunks,
        app_state=app_state,
        ending=session.ending,
        linger=CLOSE_TIMEOUT + 1,
    )
    return WebSocketOutcome(served, app_state["log"])


@dataclass
class WebSocketOutcome:
    """What the client saw, and what the app received (``echo_app``'s log)."""

    served: Served
    app_log: list[dict[str, Any]]


@dataclass
class Observed:
    """What a client and the app could tell about a session: compared across implementations."""

    messages: list[dict[str, Any]]
    pongs: list[bytes]
    close_code: int | None
    disconnect_code: int


def check(session: Session, outcome: WebSocketOutcome) -> Observed:
    """Assert the properties of one served session; return what was observed."""
    served = outcome.served
    assert_clean(served)
    assert not served.stalled, "the server stopped reading and never resumed"

    output = parse_server_frames(served.written)
    assert output.status == 101, output.head
    assert not output.rest, f"an incomplete frame at the end: {output.rest!r}"
    closes = [frame for frame in output.frames if frame.opcode == CLOSE]
    assert len(closes) <= 1, f"more than one close frame: {closes}"
    if closes:
        assert output.frames[-1].opcode == CLOSE, "frames after the close frame"
    close_code = None
    if closes:
        payload = closes[0].payload
        close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
    pongs = [frame.payload for frame in output.frames if frame.opcode == PONG]
    echoes = [frame for frame in output.frames if frame.opcode in (TEXT, BINARY)]
    assert all(frame.fin and not frame.rsv for frame in output.frames), "a fragmented or reserved-bit frame"

    *messages, disconnect = outcome.app_log
    assert disconnect["type"] == "websocket.disconnect", outcome.app_log
    assert all(m["type"] == "websocket.receive" for m in messages)
    received = [_content(m) for m in messages]
    echoed = [(frame.opcode == TEXT, frame.payload) for frame in echoes]
    assert echoed == [(text, data.encode() if text else data) for text, data in received][: len(echoed)], (
        "the echoes are not the messages received, in order"
    )

    observed = Observed(messages, pongs, close_code, disconnect["code"])
    candidates = [session.expected(strict_lengths=False)]
    if session.lenient is not None:
        candidates.append(session.expected(strict_lengths=True))
    failures = []
    for expected_messages, pings, code, reason in candidates:
        problems = _compare(observed, disconnect, expected_messages, pings, code, reason)
        if not problems:
            break
        failures.append(problems)
    else:
        raise AssertionError("; or ".join(", ".join(problems) for problems in failures))

    if close_code in (1002, 1007, 1009) and session.ending != "go-away":
        # A protocol error: after its close frame the server reads on, for the client's close
        # frame or the end of its stream, and closes the connection then or after the close timeout.
        assert served.closed_by_server, "the connection outlived a failure"
    return observed


def _content(message: dict[str, Any]) -> tuple[bool, Any]:
    text = message.get("text")
    return (True, text) if text is not None else (False, message.get("bytes"))


def _compare(
    observed: Observed,
    disconnect: dict[str, Any],
    messages: list[dict[str, Any]],
    pings: list[bytes],
    code: int | None,
    reason: str,
) -> list[str]:
    problems = []
    got = [_content(m) for m in observed.messages]
    want = [_content(m) for m in messages]
    if got != want:
        problems.append(f"the app received {got!r}, expected {want!r}")
    if observed.pongs != pings:
        problems.append(f"pongs {observed.pongs!r} for pings {pings!r}")
    if observed.close_code != code:
        problems.append(f"close code {observed.close_code}, expected {code}")
    expected_disconnect = 1006 if code is None else code
    if observed.disconnect_code != expected_disconnect:
        problems.append(
            f"the app's disconnect code {observed.disconnect_code}, expected {expected_disconnect}"
        )
    if code is not None and code not in (1002, 1007, 1009) and disconnect.get("reason", "") != reason:
        problems.append(f"disconnect reason {disconnect.get('reason')!r}, expected {reason!r}")
    return problems
