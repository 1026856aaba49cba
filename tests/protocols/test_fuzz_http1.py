"""Fuzzing every HTTP/1.1 parser (h11, httptools, zttp) with generated request streams (see fuzzing/).

Properties, for every generated stream, split anywhere across ``data_received``
calls and ended in any way (see ``fuzzing/http1_checks.py``): no exception out of
a protocol callback or task and no error logged; every complete valid request
gets exactly one response, the echo of what it sent, the same as when the stream
arrives whole; a broken request gets its documented status and the connection
is closed; no task or connection is left behind.
"""

from __future__ import annotations

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.protocols.fuzzing.http1 import Stream, streams
from tests.protocols.fuzzing.http1_broken import KINDS
from tests.protocols.fuzzing.http1_checks import check, serve_stream
from tests.protocols.fuzzing.http1_parser_limits import ZTTP_BOUNDS, streams_near_zttp_bounds
from tests.protocols.fuzzing.profiles import TIMEOUT, fuzz_settings

pytestmark = pytest.mark.timeout(TIMEOUT)


@fuzz_settings()
@given(stream=streams())
def test_any_split_gets_the_answers_of_the_whole_stream(http: str, stream: Stream) -> None:
    stream.note_events(event)  # shown by --hypothesis-show-statistics
    split = check(http, stream, serve_stream(http, stream, stream.chunks()))
    whole = check(http, stream, serve_stream(http, stream, [stream.data]))
    assert [r.raw for r in split] == [r.raw for r in whole]


@pytest.mark.parametrize("kind", KINDS)
@fuzz_settings(weight=0.1)
@given(data=st.data())
def test_each_kind_of_broken_request_gets_its_answer(http: str, kind: str, data: st.DataObject) -> None:
    """Every way of breaking a request, each tried a few times in CI (the test above draws them at random)."""
    stream = data.draw(streams(broken_kind=kind))
    split = check(http, stream, serve_stream(http, stream, stream.chunks()))
    whole = check(http, stream, serve_stream(http, stream, [stream.data]))
    assert [r.raw for r in split] == [r.raw for r in whole]


@pytest.mark.parametrize("offset", [-1, 0, 1], ids=["under", "at", "over"])
@pytest.mark.parametrize("bound", sorted(ZTTP_BOUNDS))
@fuzz_settings(weight=0.02)
@given(data=st.data())
def test_only_zttp_keeps_bounds_of_its_own(http: str, bound: str, offset: int, data: st.DataObject) -> None:
    """zttp refuses heads past its own bounds with 431 whatever the options; the others follow the options."""
    stream, as_zttp_sees_it = data.draw(streams_near_zttp_bounds(bound, offset))
    if http == "zttp":
        stream = as_zttp_sees_it
    split = check(http, stream, serve_stream(http, stream, stream.chunks(), wide=True))
    whole = check(http, stream, serve_stream(http, stream, [stream.data], wide=True))
    assert [r.raw for r in split] == [r.raw for r in whole]
