"""Defects the HTTP/2 fuzzer (test_fuzz_http2.py) found, each pinned by a test, with both engines.

Each runs through the fuzz harness (the protocol class on a virtual-time loop):
the exact frames and splits matter, and the client's side is read as strictly
as the fuzzer reads it (``fuzzing/http2_frames.read_server``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.protocols.fuzzing.drive import Served, assert_clean, serve
from tests.protocols.fuzzing.http2_checks import PROTOCOLS, config
from tests.protocols.fuzzing.http2_frames import (
    COMPRESSION_ERROR,
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    ENHANCE_YOUR_CALM,
    GOAWAY,
    HEADER_TABLE_SIZE,
    HEADERS,
    NO_ERROR,
    PROTOCOL_ERROR,
    ClientLimits,
    ServerOutput,
    frame,
    read_server,
)
from tests.protocols.fuzzing.http2_requests import LIMITS, Client, new_client

ENGINES = ["h2", "zttp"]

REQUEST = [(b":method", b"POST"), (b":scheme", b"http"), (b":path", b"/a"), (b":authority", b"example.org")]


def _exchange(
    engine: str, client: Client, data: bytes, limits: ClientLimits | None = None, split: bool = False
) -> tuple[ServerOutput, Served, list[dict[str, Any]]]:
    """Serve the client's preface and ``data`` (whole, or byte by byte), then the client leaves."""
    whole = client.data_to_send() + data
    chunks = [whole[i : i + 1] for i in range(len(whole))] if split else [whole]
    app_state: dict[str, Any] = {"log": []}
    served = serve(PROTOCOLS[engine], config(engine), chunks, app_state=app_state)
    assert_clean(served)
    return read_server(served.written, limits or ClientLimits()), served, app_state["log"]


def _headers(client: Client, stream_id: int, fields: list[tuple[bytes, bytes]], flags: int) -> bytes:
    return frame(HEADERS, flags, stream_id, client.encoder.encode(fields))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_header_block_hpack_cannot_decode_is_a_compression_error(engine: str) -> None:
    """h2 said PROTOCOL_ERROR; RFC 9113 4.3: a decoding error is a connection error COMPRESSION_ERROR."""
    client = new_client({})
    output, served, log = _exchange(engine, client, frame(HEADERS, END_STREAM | END_HEADERS, 1, b"\x80"))
    assert output.goaway_code == COMPRESSION_ERROR
    assert served.closed_by_server
    assert log == []


@pytest.mark.parametrize("engine", ENGINES)
def test_a_client_goaway_behind_its_requests_raises_nothing(engine: str) -> None:
    """h2 refuses to send once it has the client's GOAWAY: the apps' sends raised out of their tasks.

    zttp answers the streams in flight (RFC 9113 6.8 lets them finish); with h2
    they are abandoned: their apps see a disconnect, and nothing more is sent.
    """
    client = new_client({})
    client.send_headers(1, [*REQUEST[:1], *REQUEST[1:]], end_stream=True)
    client.close_connection()
    output, served, log = _exchange(engine, client, b"")
    assert [entry["path"] for entry in log] == [b"/a"]
    assert served.closed_by_server
    answered = output.streams.get(1)
    if PROTOCOLS[engine].engine_class.answers_after_goaway:
        assert answered is not None and answered.status == 200 and answered.ended
    else:
        assert answered is None


@pytest.mark.parametrize("engine", ENGINES)
def test_trailers_with_a_pseudo_header_reset_the_stream(engine: str) -> None:
    """h2 passed them on; RFC 9113 8.1: a trailer block with a pseudo-header is malformed."""
    client = new_client({})
    head = _headers(client, 1, REQUEST, END_HEADERS) + frame(DATA, 0, 1, b"ab")
    trailers = _headers(client, 1, [(b":path", b"/again")], END_HEADERS | END_STREAM)
    output, _, log = _exchange(engine, client, head + trailers)
    assert output.streams[1].reset == PROTOCOL_ERROR
    assert output.goaway_code in (None, NO_ERROR)
    assert not any(entry["complete"] for entry in log)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("table_size", [0, 64])
def test_responses_decode_with_a_client_hpack_table_smaller_than_the_default(
    engine: str, table_size: int
) -> None:
    """zttp never said its table was smaller than the client's: a strict client refused its headers."""
    client = new_client({HEADER_TABLE_SIZE: table_size})
    request = _headers(client, 1, [(b":method", b"GET"), *REQUEST[1:]], END_HEADERS | END_STREAM)
    output, _, _ = _exchange(engine, client, request, ClientLimits(header_table_size=table_size))
    assert output.streams[1].status == 200
    assert output.streams[1].ended


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("split", [False, True], ids=["whole", "bytes"])
def test_data_past_the_content_length_resets_the_stream_once(engine: str, split: bool) -> None:
    """zttp reset the stream a second time (read_server refuses a stream reset twice)."""
    client = new_client({})
    head = _headers(client, 1, [*REQUEST, (b"content-length", b"2")], END_HEADERS)
    output, _, log = _exchange(engine, client, head + frame(DATA, END_STREAM, 1, b"abc"), split=split)
    if engine == "h2":  # h2 ends the connection instead (RFC 9113 5.4.1 allows it; docs/http2.md)
        assert output.goaway_code == PROTOCOL_ERROR
    else:
        assert output.streams[1].reset == PROTOCOL_ERROR
    assert not any(entry["complete"] for entry in log)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_connect_with_a_path_is_reset(engine: str) -> None:
    """zttp served it; RFC 9113 8.5: a CONNECT (not extended) with :path is malformed."""
    client = new_client({})
    fields = [(b":method", b"CONNECT"), *REQUEST[1:]]
    output, _, log = _exchange(engine, client, _headers(client, 1, fields, END_HEADERS | END_STREAM))
    assert output.streams[1].reset == PROTOCOL_ERROR
    assert log == []


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("frames", [1, 2])
def test_a_header_block_over_the_head_size_in_one_frame_ends_the_connection(engine: str, frames: int) -> None:
    """The frame guard counted only CONTINUATION frames: one HEADERS frame could carry any block."""
    client = new_client({})
    block = client.encoder.encode([*REQUEST, (b"x-fill", bytes(LIMITS["limit_request_head_size"]))])
    if frames == 1:
        data = frame(HEADERS, END_STREAM | END_HEADERS, 1, block)
    else:
        data = frame(HEADERS, END_STREAM, 1, block[:10]) + frame(CONTINUATION, END_HEADERS, 1, block[10:])
    output, _, log = _exchange(engine, client, data)
    assert output.goaway_code == ENHANCE_YOUR_CALM
    assert GOAWAY in output.frame_types
    assert log == []
