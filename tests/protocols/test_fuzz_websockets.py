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

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.protocols.fuzzing.profiles import TIMEOUT, fuzz_settings
from tests.protocols.fuzzing.websocket import FAULTS, Session, sessions
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
