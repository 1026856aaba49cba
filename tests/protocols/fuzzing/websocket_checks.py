"""Serve a generated WebSocket :class:`~tests.protocols.fuzzing.websocket.Session`, and judge it.

The session starts as a real one does: an HTTP/1.1 protocol (either parser)
reads the upgrade request and hands the connection to the WebSocket
implementation under test (``transport.set_protocol``). :func:`serve_session`
reports everything observable; :func:`check` holds the properties.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any

from tests.protocols.fuzzing.capture import captured_logs, errors
from tests.protocols.fuzzing.http1_checks import DEFAULT_HEADERS, PROTOCOLS
from tests.protocols.fuzzing.loop import FuzzLoop
from tests.protocols.fuzzing.transport import Connection
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
from uvicorn.server import ServerState

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the deprecated implementation warns on import
    from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol

__all__ = ["IMPLEMENTATIONS", "WebSocketOutcome", "check", "serve_session"]

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


@dataclass
class WebSocketOutcome:
    written: bytes
    written_after_close: bytes
    app_log: list[dict[str, Any]]
    closed_by_server: bool
    half_closed_by_server: bool
    stalled: bool
    loop_errors: list[dict[str, Any]]
    logged_errors: list[str]
    connections_left: int
    tasks_left: int
    loop_tasks_left: int


def serve_session(
    parser: str, implementation: str, session: Session, chunks: list[bytes]
) -> WebSocketOutcome:
    loop = FuzzLoop()
    state = ServerState()
    state.default_headers = DEFAULT_HEADERS
    app_state: dict[str, Any] = {"log": []}
    try:
        with captured_logs() as records:
            protocol = PROTOCOLS[parser](
                config=config(parser, implementation), server_state=state, app_state=app_state, _loop=loop
            )
            connection = Connection(loop, protocol)
            for chunk in chunks:
                if not connection.send(chunk):
                    break
            if session.ending == "half-close":
                connection.half_close()
            loop.run_until_idle()
            closed_by_server = connection.closing
            connection.go_away()
            loop.run_until_idle()
        return WebSocketOutcome(
            written=bytes(connection.written),
            written_after_close=bytes(connection.written_after_close),
            app_log=app_state["log"],
            closed_by_server=closed_by_server,
            half_closed_by_server=connection.eof_written,
            stalled=connection.stalled,
            loop_errors=loop.errors,
            logged_errors=errors(records),
            connections_left=len(state.connections),
            tasks_left=len(state.tasks),
            loop_tasks_left=len(loop.pending_tasks()),
        )
    finally:
        loop.close()


@dataclass
class Observed:
    """What a client and the app could tell about a session: compared across implementations."""

    messages: list[dict[str, Any]]
    pongs: list[bytes]
    close_code: int | None
    disconnect_code: int


def check(session: Session, outcome: WebSocketOutcome) -> Observed:
    """Assert the properties of one served session; return what was observed."""
    assert not outcome.loop_errors, f"exception out of a protocol callback or task: {outcome.loop_errors}"
    assert not outcome.logged_errors, f"errors logged: {outcome.logged_errors}"
    assert not outcome.stalled, "the server stopped reading and never resumed"
    assert outcome.connections_left == 0, "a connection was left in server_state.connections"
    assert outcome.tasks_left == 0, "a task was left in server_state.tasks"
    assert outcome.loop_tasks_left == 0, "a task was left running on the loop"
    assert not outcome.written_after_close, f"written after close(): {outcome.written_after_close!r}"

    output = parse_server_frames(outcome.written)
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

    if close_code is not None and close_code in (1002, 1007, 1009):
        # A protocol error: the server ends the stream after its close frame (RFC 6455 7.1.7).
        assert outcome.closed_by_server or outcome.half_closed_by_server, "no end of stream after a failure"
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
