"""The WebSocket session's state table: every transition in one place, and nothing else allowed."""

from __future__ import annotations

import pytest

from uvicorn.protocols.websockets.state import TRANSITIONS, Event, SessionState, advance


@pytest.mark.parametrize("state", list(SessionState))
def test_a_connection_can_always_end_or_be_lost(state: SessionState) -> None:
    assert advance(state, Event.CONNECTION_LOST) is SessionState.CLOSED
    ended = advance(state, Event.ENDED)
    assert ended is (SessionState.REJECTED if state is SessionState.REJECTED else SessionState.CLOSED)


def test_the_opening_handshake_paths() -> None:
    state = advance(SessionState.AWAITING_REQUEST, Event.REQUEST_CHECKED)
    assert state is SessionState.HANDSHAKE
    assert advance(state, Event.APP_ACCEPTED) is SessionState.OPEN
    assert advance(state, Event.APP_REFUSED) is SessionState.REJECTED
    assert advance(advance(state, Event.APP_DENIED), Event.DENIAL_SENT) is SessionState.REJECTED


def test_every_close_of_an_open_session_waits_for_or_takes_the_peers_close() -> None:
    for event, waiting in [
        (Event.APP_CLOSED, SessionState.CLOSING),
        (Event.SERVER_CLOSED, SessionState.SERVER_CLOSING),
        (Event.PROTOCOL_ERROR, SessionState.FAILING),
    ]:
        assert advance(SessionState.OPEN, event) is waiting
        assert advance(waiting, Event.PEER_CLOSED) is SessionState.CLOSED
    assert advance(SessionState.OPEN, Event.PEER_CLOSED) is SessionState.CLOSED


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (SessionState.OPEN, Event.APP_ACCEPTED),  # a second accept
        (SessionState.HANDSHAKE, Event.APP_CLOSED),  # a close before accepting is a refusal
        (SessionState.REJECTED, Event.APP_ACCEPTED),
        (SessionState.CLOSED, Event.PEER_CLOSED),
        (SessionState.AWAITING_REQUEST, Event.APP_ACCEPTED),
    ],
)
def test_anything_else_is_refused(state: SessionState, event: Event) -> None:
    assert (state, event) not in TRANSITIONS
    with pytest.raises(RuntimeError, match="cannot happen"):
        advance(state, event)
