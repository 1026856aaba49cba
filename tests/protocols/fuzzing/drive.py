"""Serve one connection's worth of bytes through a protocol object, and report what could be seen.

:func:`serve` is the one mechanism every fuzzer uses: a fresh :class:`FuzzLoop`
and ``ServerState``, the protocol class built as the server builds it, the
chunks delivered through a :class:`Connection` (with virtual time between them),
the client's ending, and then the client going away. :class:`Served` holds
everything observable; :func:`assert_clean` the properties every protocol must
have whatever it was fed.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tests.protocols.fuzzing.capture import captured_logs, errors
from tests.protocols.fuzzing.loop import FuzzLoop
from tests.protocols.fuzzing.transport import Connection
from uvicorn.config import Config
from uvicorn.server import ServerState

__all__ = ["DEFAULT_HEADERS", "Served", "assert_clean", "serve"]

# What a real server sends on every response (the date is left out: it would differ between runs).
DEFAULT_HEADERS = [(b"server", b"uvicorn")]


@dataclass
class Served:
    """Everything observable about one connection, once the client has gone."""

    written: bytes
    written_after_close: bytes
    closed_by_server: bool  # before the client went away (or half-closed, to linger)
    half_closed_by_server: bool
    stalled: bool  # the client had more to send, and the server never read again
    loop_errors: list[dict[str, Any]]
    logged_errors: list[str]
    connections_left: int
    tasks_left: int
    loop_tasks_left: int
    protocol: Any = None  # the protocol object the connection began with


def serve(
    protocol_class: type[Any],
    config: Config,
    chunks: Sequence[bytes],
    *,
    app_state: dict[str, Any] | None = None,
    pauses: Sequence[float] = (),
    ending: str = "go-away",
    linger: float = 0.0,
) -> Served:
    """Feed ``chunks`` to a new ``protocol_class`` connection, ``pauses`` (virtual seconds) after them.

    ``ending``: ``"linger"`` (wait ``linger`` virtual seconds), ``"half-close"``
    or ``"go-away"``; then the client goes away in any case.
    """
    loop = FuzzLoop()
    state = ServerState()
    state.default_headers = DEFAULT_HEADERS
    try:
        with captured_logs() as records:
            state_of_app = {} if app_state is None else app_state
            protocol = protocol_class(config=config, server_state=state, app_state=state_of_app, _loop=loop)
            connection = Connection(loop, protocol)
            for chunk, pause in itertools.zip_longest(chunks, pauses[: len(chunks)], fillvalue=0.0):
                if not connection.send(chunk):
                    break
                if pause:
                    loop.advance(pause)
            if ending == "linger":
                loop.advance(linger)
            elif ending == "half-close":
                connection.half_close()
            loop.run_until_idle()
            # A half-close ends the server's side as a close does (a lingering close reads on).
            closed_by_server = connection.closing or connection.eof_written
            connection.go_away()
            loop.run_until_idle()
        return Served(
            written=bytes(connection.written),
            written_after_close=bytes(connection.written_after_close),
            closed_by_server=closed_by_server,
            half_closed_by_server=connection.eof_written,
            stalled=connection.stalled,
            loop_errors=loop.errors,
            logged_errors=errors(records),
            connections_left=len(state.connections),
            tasks_left=len(state.tasks),
            loop_tasks_left=len(loop.pending_tasks()),
            protocol=protocol,
        )
    finally:
        loop.close()


def assert_clean(served: Served) -> None:
    """Whatever the input: nothing raised or logged as an error, nothing left behind, nothing written late."""
    assert not served.loop_errors, f"exception out of a protocol callback or task: {served.loop_errors}"
    assert not served.logged_errors, f"errors logged: {served.logged_errors}"
    assert served.connections_left == 0, "a connection was left in server_state.connections"
    assert served.tasks_left == 0, "a task was left in server_state.tasks"
    assert served.loop_tasks_left == 0, "a task was left running on the loop"
    assert not served.written_after_close, f"written after close(): {served.written_after_close!r}"
