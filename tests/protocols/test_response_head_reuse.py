"""Response heads built from a header list seen before (response_head.py remembers them) come out
exactly as the first time, whatever the request they answer."""

from __future__ import annotations

import pytest

from uvicorn.protocols.http.response_head import HeaderError, ResponseHead

DEFAULTS = b"server: uvicorn\r\n"


def head(headers: list[tuple[bytes, bytes]], keep_alive: bool = True, *, status: int = 200) -> ResponseHead:
    return ResponseHead(status, headers, DEFAULTS, [(b"server", b"uvicorn")], keep_alive)


def written(response_head: ResponseHead, body: bytes = b"hello") -> bytes:
    return response_head.finish(True, body, True)


def test_a_repeated_head_is_written_the_same() -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
    first = written(head(list(headers)))
    again = written(head(list(headers)))
    assert (
        again
        == first
        == (b"HTTP/1.1 200 OK\r\nserver: uvicorn\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\n")
    )
    assert written(head(list(headers), status=404)).startswith(b"HTTP/1.1 404 Not Found\r\n")


def test_the_apps_connection_close_holds_on_a_keep_alive_request_after_a_closing_one() -> None:
    headers = [(b"content-length", b"5"), (b"connection", b"close")]
    first = head(list(headers), keep_alive=False)
    assert not first.keep_alive
    later = head(list(headers), keep_alive=True)
    assert not later.keep_alive
    assert written(later).count(b"connection") == 1


def test_a_closing_request_does_not_make_the_next_one_close() -> None:
    headers = [(b"x-once", b"seen-while-closing"), (b"content-length", b"5")]
    assert b"connection: close" in written(head(list(headers), keep_alive=False))
    later = head(list(headers), keep_alive=True)
    assert later.keep_alive
    assert b"connection" not in written(later)


def test_a_remembered_head_can_still_turn_chunked() -> None:
    headers = [(b"content-length", b"5"), (b"x-trailers", b"1")]
    head(list(headers))
    again = head(list(headers))
    again.use_chunked()
    data = again.finish(True, None, True)
    assert b"content-length" not in data
    assert b"transfer-encoding: chunked\r\n" in data


def test_headers_as_lists_are_written_every_time() -> None:
    headers = [[b"content-type", b"text/plain"], [b"content-length", b"5"]]
    for _ in range(2):
        data = written(head(headers))  # type: ignore[arg-type]
        assert data.endswith(b"content-type: text/plain\r\ncontent-length: 5\r\n\r\n")


def test_an_unhashable_or_invalid_header_is_still_refused() -> None:
    head([(b"x-value", b"fine")])
    with pytest.raises(HeaderError):
        head([[b"x-value", bytearray(b"fine")]])  # type: ignore[list-item]
    with pytest.raises(HeaderError):
        head([(b"x-value", "fine")])  # type: ignore[list-item]
