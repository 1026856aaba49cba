"""The life of a WebSocket session: one enum of states, and every transition in one table.

A :class:`~uvicorn.protocols.websockets.session.WebSocketSession` never sets its
state directly: it reports what happened (an :class:`Event`) and takes the state
:func:`advance` gives back. A pair missing from :data:`TRANSITIONS` is a bug in
the session, not something a peer or an app can cause, so it raises.

.. code-block:: text

    AWAITING_REQUEST --request_checked--> HANDSHAKE --app_accepted--> OPEN
    HANDSHAKE --app_denied--> DENYING --denial_sent--> REJECTED
    HANDSHAKE --app_refused (403)--> REJECTED
    OPEN --app_closed--> CLOSING              (the app's close frame is out)
    OPEN --server_closed--> SERVER_CLOSING    (shutdown's 1012, or a drain's 1001, is out)
    OPEN --protocol_error--> FAILING          (our close frame is out; skipping frames to the peer's close)
    OPEN / CLOSING / SERVER_CLOSING / FAILING --peer_closed--> CLOSED
    any --ended / connection_lost--> CLOSED   (a response ended it, a timer, or the transport is gone)

What the session does in each state:

============== =================================================== ================================
state          bytes that arrive                                   the app's ``send()``
============== =================================================== ================================
AWAITING       the request head (raw-bytes entry only)             (no app yet)
HANDSHAKE      held until the accept (bounded)                     accept, close (403), denial start
DENYING        held, then dropped                                  denial body
OPEN           frames: messages for the app                        send, close
CLOSING        frames: waiting for the close reply                 ``RuntimeError`` (app closed)
SERVER_CLOSING frames: waiting for the close reply                 ``ClientDisconnected``
FAILING        skipped until the peer's close frame                ``ClientDisconnected``
REJECTED       discarded                                           ``RuntimeError`` (app answered)
CLOSED         discarded                                           ``ClientDisconnected``
============== =================================================== ================================
"""

from __future__ import annotations

import enum

__all__ = ["TRANSITIONS", "Event", "SessionState", "advance"]


class SessionState(enum.Enum):
    AWAITING_REQUEST = "awaiting request"
    HANDSHAKE = "handshake"
    DENYING = "denying"
    OPEN = "open"
    CLOSING = "closing"
    SERVER_CLOSING = "server closing"
    FAILING = "failing"
    REJECTED = "rejected"
    CLOSED = "closed"


class Event(enum.Enum):
    REQUEST_CHECKED = "a valid handshake request arrived"
    APP_ACCEPTED = "the app sent websocket.accept"
    APP_REFUSED = "the app sent websocket.close before accepting (403)"
    APP_DENIED = "the app sent websocket.http.response.start"
    DENIAL_SENT = "the app's denial response is complete"
    APP_CLOSED = "the app sent websocket.close"
    SERVER_CLOSED = "graceful shutdown sent 1012 (or 1001)"
    PEER_CLOSED = "the peer's close frame arrived"
    PROTOCOL_ERROR = "the peer broke RFC 6455; our close frame is out"
    ENDED = "the server ended the connection (an error response, a timer, the app returned)"
    CONNECTION_LOST = "the transport is gone"


_S, _E = SessionState, Event

#: ``(state, event) -> next state``; every legal transition, and only those.
TRANSITIONS: dict[tuple[SessionState, Event], SessionState] = {
    (_S.AWAITING_REQUEST, _E.REQUEST_CHECKED): _S.HANDSHAKE,
    (_S.HANDSHAKE, _E.APP_ACCEPTED): _S.OPEN,
    (_S.HANDSHAKE, _E.APP_REFUSED): _S.REJECTED,
    (_S.HANDSHAKE, _E.APP_DENIED): _S.DENYING,
    (_S.DENYING, _E.DENIAL_SENT): _S.REJECTED,
    (_S.OPEN, _E.APP_CLOSED): _S.CLOSING,
    (_S.OPEN, _E.SERVER_CLOSED): _S.SERVER_CLOSING,
    (_S.OPEN, _E.PEER_CLOSED): _S.CLOSED,
    (_S.CLOSING, _E.PEER_CLOSED): _S.CLOSED,
    (_S.SERVER_CLOSING, _E.PEER_CLOSED): _S.CLOSED,
    (_S.FAILING, _E.PEER_CLOSED): _S.CLOSED,
    (_S.OPEN, _E.PROTOCOL_ERROR): _S.FAILING,
    # A protocol error while our close waits for its reply: nothing more to say, just end.
    (_S.CLOSING, _E.PROTOCOL_ERROR): _S.CLOSED,
    (_S.SERVER_CLOSING, _E.PROTOCOL_ERROR): _S.CLOSED,
}
# Ending and losing the connection are legal everywhere. Ending keeps REJECTED, so a late
# send() tells the app it had answered already; once the transport is gone it is CLOSED.
for _state in SessionState:
    TRANSITIONS[(_state, _E.ENDED)] = _S.REJECTED if _state is _S.REJECTED else _S.CLOSED
    TRANSITIONS[(_state, _E.CONNECTION_LOST)] = _S.CLOSED


def advance(state: SessionState, event: Event) -> SessionState:
    """The state after ``event`` in ``state``; ``RuntimeError`` for a transition the table lacks."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise RuntimeError(
            f"WebSocket session: {event.value!r} cannot happen in state {state.value!r}."
        ) from None
