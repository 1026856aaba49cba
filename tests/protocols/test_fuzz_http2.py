"""Fuzzing HTTP/2 with both engines (h2, zttp) with generated frame sequences (see tests/protocols/fuzzing/).

Properties, for every generated conversation, split anywhere across
``data_received`` calls and ended in any way (see ``fuzzing/http2_checks.py``):
no exception out of a protocol callback or task and no error logged; every
valid request gets exactly one response, the echo of what it sent, the same as
when the conversation arrives whole; broken input gets the RFC 9113 stream or
connection error docs/http2.md gives (or the server's own 4xx) and never
reaches the app; the engines agree where RFC 9113 fixes the answer; no task,
stream or connection is left behind.
"""

from __future__ import annotations

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.protocols.fuzzing.http2 import Conversation, conversations
from tests.protocols.fuzzing.http2_broken import KINDS
from tests.protocols.fuzzing.http2_checks import Observed, check, serve_conversation
from tests.protocols.fuzzing.profiles import TIMEOUT, fuzz_settings

pytestmark = pytest.mark.timeout(TIMEOUT)

ENGINES = ("h2", "zttp")


def check_both_engines(conversation: Conversation) -> None:
    """The properties with each engine, split and whole; the runs agree on what does not depend on timing."""
    runs: dict[str, list[Observed]] = {}
    for engine in ENGINES:
        try:
            split = check(
                engine, conversation, serve_conversation(engine, conversation, conversation.chunks())
            )
            whole = check(engine, conversation, serve_conversation(engine, conversation, [conversation.data]))
        except AssertionError as failure:
            raise AssertionError(f"--http2-engine {engine}: {failure}") from None
        runs[engine] = [split, whole]
    broken = conversation.broken
    # Where RFC 9113 leaves a choice, each engine answers as http2_broken.py says: not the same.
    same_rules = broken is None or broken.allowed("h2") == broken.allowed("zttp")
    for compared in [list(runs.values())] if same_rules else [[each] for each in runs.values()]:
        observed = [run for pair in compared for run in pair]
        answers = {run.broken for run in observed if run.answered}
        # Where more than one answer is allowed, which one may depend on timing: h2 answers
        # HEADERS after trailers with a stream error while its response is still going out,
        # and with a connection error once the stream is closed (RFC 9113 5.1 allows both).
        if broken is None or all(len(broken.allowed(engine)) == 1 for engine in ENGINES):
            assert len(answers) <= 1, f"different answers: {runs}"
        # What was in flight when the connection ended depends on where the bytes were split.
        if not any(run.cut for run in observed):
            assert all(run.responses == observed[0].responses for run in observed), (
                f"different responses: {runs}"
            )
            assert all(run.pings == observed[0].pings for run in observed), f"different PING answers: {runs}"


@fuzz_settings(weight=0.5)
@given(conversation=conversations())
def test_both_engines_give_the_rfc_answers_however_the_bytes_arrive(conversation: Conversation) -> None:
    conversation.note_events(event)
    check_both_engines(conversation)


@pytest.mark.parametrize("kind", KINDS)
@fuzz_settings(weight=0.05)
@given(data=st.data())
def test_each_kind_of_broken_input_gets_its_answer(kind: str, data: st.DataObject) -> None:
    """Every kind of broken input, each tried a few times in CI (the test above draws them at random)."""
    check_both_engines(data.draw(conversations(broken_kind=kind)))
