"""The fuzzers' properties end to end: generated input through a real server and real sockets.

Fewer examples than the direct fuzzers (``test_fuzz_http1.py``,
``test_fuzz_websockets.py``), with the same generators and the same checks: the
bytes go out in the generated pieces (TCP may join them), the client half-closes
at the end and reads until the server closes, and the server's own task and
connection sets must be empty once every connection is gone.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from typing import Any

import pytest
from hypothesis import given

from tests.protocols.fuzzing.capture import captured_logs, errors
from tests.protocols.fuzzing.drive import Served
from tests.protocols.fuzzing.http1 import Stream, streams
from tests.protocols.fuzzing.http1_checks import check as check_http
from tests.protocols.fuzzing.http1_requests import LIMITS, echo_app
from tests.protocols.fuzzing.profiles import TIMEOUT, fuzz_settings
from tests.protocols.fuzzing.websocket import MAX_SIZE, Session, sessions
from tests.protocols.fuzzing.websocket_checks import WebSocketOutcome
from tests.protocols.fuzzing.websocket_checks import check as check_websocket
from tests.protocols.fuzzing.websocket_checks import echo_app as websocket_echo_app
from tests.serving import RunningServer, serve_in_thread

# Bounds a server that never answers; no assertion is about time.
READ_LIMIT_SECONDS = 30.0

pytestmark = pytest.mark.timeout(TIMEOUT)


def exchange(running: RunningServer, chunks: list[bytes]) -> bytes:
    """Send ``chunks`` one by one, half-close, and read until the server closes."""
    with socket.create_connection((running.host, running.port), timeout=READ_LIMIT_SECONDS) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server closed early (a refusal): read what it said
        received = bytearray()
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    return bytes(received)


def wait_until_idle(running: RunningServer) -> tuple[int, int]:
    """The server's connection and task counts once they reach zero (or after the read limit)."""
    state = running.server.server_state
    deadline = time.monotonic() + READ_LIMIT_SECONDS
    # The server's own loop removes a connection after its socket closes: poll for it (bounded).
    while (state.connections or state.tasks) and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(state.connections), len(state.tasks)


def test_http_streams_over_sockets(http: str) -> None:
    with (
        captured_logs() as records,
        serve_in_thread(echo_app, http=http, lifespan="off", log_config=None, **LIMITS) as running,
    ):

        @fuzz_settings(weight=0.15)
        @given(stream=streams())
        def each_stream(stream: Stream) -> None:
            stream = dataclasses.replace(stream, ending="half-close", pauses=[])
            written = exchange(running, stream.chunks())
            outcome = Served(
                written=written,
                written_after_close=b"",
                closed_by_server=True,  # the read ended: the server closed
                half_closed_by_server=False,
                stalled=False,
                loop_errors=[],
                logged_errors=errors(records),
                connections_left=0,  # checked once every connection is gone, below
                tasks_left=0,
                loop_tasks_left=0,
            )
            check_http(http, stream, outcome)

        each_stream()
        assert wait_until_idle(running) == (0, 0), "a connection or task was left behind"


def test_websocket_sessions_over_sockets(ws: type[Any], http: str) -> None:
    log: list[dict[str, Any]] = []
    finished = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await websocket_echo_app({**scope, "state": {"log": log}}, receive, send)
        finally:
            finished.set()

    options = {
        "ws_max_size": MAX_SIZE,
        "ws_max_queue": 4,
        "ws_ping_interval": None,
        "ws_per_message_deflate": False,
    }
    with (
        captured_logs() as records,
        serve_in_thread(app, http=http, ws=ws, lifespan="off", log_config=None, **options) as running,
    ):

        @fuzz_settings(weight=0.05)
        @given(session=sessions())
        def each_session(session: Session) -> None:
            log.clear()
            finished.clear()
            written = exchange(running, session.chunks())
            assert finished.wait(READ_LIMIT_SECONDS), "the app never ended"
            served = Served(
                written=written,
                written_after_close=b"",
                closed_by_server=True,
                half_closed_by_server=False,
                stalled=False,
                loop_errors=[],
                logged_errors=errors(records),
                connections_left=0,  # checked once every connection is gone, below
                tasks_left=0,
                loop_tasks_left=0,
            )
            outcome = WebSocketOutcome(served, list(log))
            check_websocket(session, outcome)

        each_session()
        assert wait_until_idle(running) == (0, 0), "a connection or task was left behind"
