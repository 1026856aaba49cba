"""Fuzzing every WebSocket implementation with generated frame sequences (see tests/protocols/fuzzing/).

Each generated session goes through all three implementations, behind either
HTTP parser, split anywhere across ``data_received`` calls. Properties (see
``fuzzing/websocket_checks.py``): no exception out of a protocol callback or
task and no error logged; valid messages reach the app intact and in order; each
ping gets its pong; the close code is the one RFC 6455 gives (1002, 1007, 1009,
or the echo of the client's) and the app's ``websocket.disconnect`` carries it;
the implementations agree; no task or connection is left behind.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.protocols.fuzzing.profiles import TIMEOUT, fuzz_settings
from tests.protocols.fuzzing.websocket import (
    BINARY,
    CLOSE,
    CONT,
    FAULTS,
    MAX_SIZE,
    PING,
    PONG,
    TEXT,
    Frame,
    Message,
    Session,
    sessions,
)
from tests.protocols.fuzzing.websocket_checks import IMPLEMENTATIONS, check, serve_session

pytestmark = pytest.mark.timeout(TIMEOUT)


@fuzz_settings(weight=0.5)
@given(session=sessions())
def test_every_implementation_gives_the_rfc_answer(http: str, session: Session) -> None:
    session.note_events(event)
    check_every_implementation(http, session)


@pytest.mark.parametrize("fault", FAULTS)
@fuzz_settings(weight=0.05)
@given(data=st.data())
def test_each_fault_gets_its_close_code(http: str, fault: str, data: st.DataObject) -> None:
    """Every fault, each tried a few times in CI (the test above draws them at random)."""
    check_every_implementation(http, data.draw(sessions(fault_kind=fault)))


def _session(items: list[Message | Frame], close_code: int, reason: bytes = b"") -> Session:
    session = Session(items, None, Frame(CLOSE, struct.pack("!H", close_code) + reason), b"", [], "linger")
    session.cuts = list(range(1, len(session.data)))  # byte by byte: control frames cut everywhere
    return session


_FULL = b"a" * MAX_SIZE
_NEARLY_FULL = "é".encode() * ((MAX_SIZE - 10) // 2)

#: What the fuzzers found the implementations disagreeing on (test_fuzz_findings.py), tried every run.
FOUND = {
    # The websockets library counted a control frame against what was left of ws_max_size.
    "ping-inside-a-message-of-max-size": _session(
        [Message(False, _FULL, [Frame(BINARY, _FULL, fin=False), Frame(PING, b"ping"), Frame(CONT)])], 1000
    ),
    "long-pong-inside-a-text-message": _session(
        [
            Message(
                True,
                _NEARLY_FULL,
                [
                    Frame(TEXT, _NEARLY_FULL[:-3], fin=False),
                    Frame(PONG, b"p" * 125),
                    Frame(CONT, _NEARLY_FULL[-3:]),
                ],
            )
        ],
        1001,
    ),
    # wsproto refused the registered close code 1014 (Bad Gateway) with 1002.
    "close-code-1014": _session([Frame(PING, b"first")], 1014, "bad gateway ü".encode()),
}


@pytest.mark.parametrize("session", list(FOUND.values()), ids=list(FOUND))
def test_every_implementation_agrees_on_what_the_fuzzers_found(http: str, session: Session) -> None:
    check_every_implementation(http, session)


def check_every_implementation(http: str, session: Session) -> None:
    observed = {}
    for name in IMPLEMENTATIONS:
        try:
            split = check(session, serve_session(http, name, session, session.chunks()))
            whole = check(session, serve_session(http, name, session, [session.data]))
        except AssertionError as failure:
            raise AssertionError(f"--ws {name}: {failure}") from None
        assert split == whole, f"--ws {name}: {split} split, {whole} whole"
        observed[name] = split
    if session.lenient is None:  # where the RFC fixes the answer, every implementation gives it
        assert len({repr(o) for o in observed.values()}) == 1, observed
