"""WSGIMiddleware: the PEP 3333 environ and the ``wsgi.input`` stream."""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from collections.abc import Iterable
from typing import Any

import pytest

from tests.middleware.harness import RequestFeed, ResponseRecorder, http_scope
from uvicorn.middleware import wsgi
from uvicorn.middleware.wsgi import FileWrapper, WSGIMiddleware, build_environ


async def run_wsgi(
    app: Any, scope: dict[str, Any] | None = None, chunks: Iterable[bytes] = ()
) -> ResponseRecorder:
    recorder = ResponseRecorder()
    await WSGIMiddleware(app)(scope or http_scope(), RequestFeed(chunks), recorder)
    return recorder


def capture_environ(seen: dict[str, Any]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        start_response("204 No Content", [])
        return []

    return app


async def test_environ_from_an_http_scope() -> None:
    seen: dict[str, Any] = {}
    scope = http_scope(
        "/mount/caf\u00e9/x",
        method="PUT",
        root_path="/mount",
        query_string=b"q=a%20b&r=\xe9",
        scheme="https",
        server=("198.51.100.5", 8443),
        client=("203.0.113.9", 51234),
        headers=[
            (b"host", b"example.com"),
            (b"content-type", b"application/json"),
            (b"content-length", b"2"),
            (b"accept", b"text/html"),
            (b"x-multi", b"a"),
            (b"x-multi", b"b"),
            (b"x-latin", b"caf\xe9"),
        ],
    )
    recorder = await run_wsgi(capture_environ(seen), scope, [b"{}"])
    assert recorder.status == 204
    assert {key: value for key, value in seen.items() if not key.startswith("wsgi.")} == {
        "REQUEST_METHOD": "PUT",
        "SCRIPT_NAME": "/mount",
        "PATH_INFO": "/caf\u00c3\u00a9/x",  # UTF-8 bytes seen as latin-1, as PEP 3333 says
        "QUERY_STRING": "q=a%20b&r=\xe9",
        "SERVER_NAME": "198.51.100.5",
        "SERVER_PORT": "8443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "REMOTE_PORT": "51234",
        "HTTP_HOST": "example.com",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "2",
        "HTTP_ACCEPT": "text/html",
        "HTTP_X_MULTI": "a,b",
        "HTTP_X_LATIN": "caf\xe9",
    }
    assert seen["wsgi.version"] == (1, 0)
    assert seen["wsgi.url_scheme"] == "https"
    assert seen["wsgi.errors"] is sys.stderr
    assert seen["wsgi.multithread"] is True
    assert seen["wsgi.multiprocess"] is True
    assert seen["wsgi.run_once"] is False
    assert seen["wsgi.input_terminated"] is True
    assert seen["wsgi.file_wrapper"] is FileWrapper


@pytest.mark.parametrize(
    ("server", "scheme", "name", "port"),
    [
        (None, "http", "localhost", "80"),
        (("/run/app.sock", None), "https", "/run/app.sock", "443"),
        (("::1", 8000), "http", "::1", "8000"),
    ],
)
async def test_server_name_and_port_are_always_strings(
    server: tuple[str, int | None] | None, scheme: str, name: str, port: str
) -> None:
    seen: dict[str, Any] = {}
    await run_wsgi(capture_environ(seen), http_scope(server=server, scheme=scheme, client=None))
    assert (seen["SERVER_NAME"], seen["SERVER_PORT"]) == (name, port)
    assert "REMOTE_ADDR" not in seen


async def test_a_path_outside_the_root_path_is_kept_whole() -> None:
    seen: dict[str, Any] = {}
    await run_wsgi(capture_environ(seen), http_scope("/other", root_path="/mount"))
    assert (seen["SCRIPT_NAME"], seen["PATH_INFO"]) == ("/mount", "/other")


def test_build_environ_keeps_the_upstream_signature() -> None:
    body = io.BytesIO(b"")
    environ = build_environ(http_scope("/a", root_path=""), {"type": "http.request"}, body)
    assert environ["PATH_INFO"] == "/a"
    assert environ["wsgi.input"] is body
    assert wsgi._WSGIMiddleware is WSGIMiddleware


# ---------------------------------------------------------------- wsgi.input


def reading_app(read: Any) -> Any:
    """A WSGI app answering with whatever ``read(wsgi.input)`` returns (a list of bytes)."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        parts = read(environ["wsgi.input"])
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [b"|".join(parts)]

    return app


CHUNKS = [b"first li", b"ne\nsecond", b" line\nthi", b"rd"]


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        (lambda stream: [stream.read()], b"first line\nsecond line\nthird"),
        (lambda stream: [stream.read(None)], b"first line\nsecond line\nthird"),
        (
            lambda stream: [stream.read(5), stream.read(7), stream.read(100), stream.read(1)],
            b"first| line\ns|econd line\nthird|",
        ),
        (lambda stream: [stream.read(0), stream.read(3)], b"|fir"),
        (
            lambda stream: [stream.readline(), stream.readline(), stream.readline(), stream.readline()],
            b"first line\n|second line\n|third|",
        ),
        (lambda stream: [stream.readline(4), stream.readline(100)], b"firs|t line\n"),
        (lambda stream: [stream.readline(None)], b"first line\n"),
        (lambda stream: stream.readlines(), b"first line\n|second line\n|third"),
        (lambda stream: stream.readlines(3), b"first line\n"),
        (list, b"first line\n|second line\n|third"),
    ],
)
async def test_wsgi_input_reads_across_chunks(read: Any, expected: bytes) -> None:
    recorder = await run_wsgi(reading_app(read), chunks=CHUNKS)
    assert recorder.body == expected


async def test_an_empty_body_reads_as_eof() -> None:
    recorder = await run_wsgi(reading_app(lambda stream: [stream.read(), stream.readline(), stream.read(9)]))
    assert recorder.body == b"||"


async def test_the_body_is_pulled_only_as_far_as_the_app_reads() -> None:
    feed = RequestFeed([b"x" * 1024] * 100)
    calls_after_read: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read(1500)
        calls_after_read.append(feed.calls)
        start_response("200 OK", [])
        return [b""]

    recorder = ResponseRecorder()
    await WSGIMiddleware(app)(http_scope(method="POST"), feed, recorder)
    assert recorder.status == 200
    assert calls_after_read == [2]
    assert feed.calls == 2  # the other 98 KiB were never asked for


async def test_an_app_that_never_reads_the_body_never_asks_for_it() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    feed = RequestFeed([b"unread"])
    recorder = ResponseRecorder()
    await WSGIMiddleware(app)(http_scope(method="POST"), feed, recorder)
    assert recorder.body == b"ok"
    assert feed.calls == 0


async def test_a_client_gone_mid_body_is_not_a_complete_body() -> None:
    outcome: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        try:
            stream.read()
        except OSError as exc:
            outcome.append(type(exc).__name__)
        try:
            stream.read()  # and it stays broken
        except OSError as exc:
            outcome.append(type(exc).__name__)
        raise OSError("the app gives up") from None

    feed = RequestFeed([b"part one", b"part two", b"never sent"], cut_after=2)
    recorder = ResponseRecorder()
    with pytest.raises(OSError, match="the app gives up"):
        await WSGIMiddleware(app)(http_scope(method="POST"), feed, recorder)
    assert outcome == ["ClientDisconnected", "ClientDisconnected"]
    assert recorder.messages == []


async def test_a_disconnect_the_app_does_not_handle_ends_the_request_quietly() -> None:
    feed = RequestFeed([b"part one", b"never sent"], cut_after=1)
    recorder = ResponseRecorder()
    app = reading_app(lambda stream: [stream.read()])
    await WSGIMiddleware(app)(http_scope(method="POST"), feed, recorder)
    assert recorder.messages == []


async def test_cancelling_the_request_stops_a_reading_app() -> None:
    waiting = asyncio.Event()
    outcome: list[BaseException] = []
    finished = threading.Event()

    async def receive_nothing() -> dict[str, Any]:
        waiting.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            environ["wsgi.input"].read()
        except BaseException as exc:
            outcome.append(exc)
            raise
        finally:
            finished.set()
        return []

    task = asyncio.create_task(
        WSGIMiddleware(app)(http_scope(method="POST"), receive_nothing, ResponseRecorder())
    )
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(finished.wait, 30)
    assert [type(exc).__name__ for exc in outcome] == ["ClientDisconnected"]
