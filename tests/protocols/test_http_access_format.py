"""``access_log_format``: gunicorn's atoms, each with gunicorn's meaning, on a real server and client.

Access records are caught by a handler on ``uvicorn.access``: each holds the
format as its message and the atoms as its args (as gunicorn logs them), and
the fields every access record carries as attributes.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.protocols.apps import send_response
from tests.protocols.raw_http import RawClient, request
from tests.serving import serve
from uvicorn._startup import InvalidOptionError
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope
from uvicorn.config import Config
from uvicorn.logging import ACCESS_FIELDS

EVERY_ATOM = "|".join(
    [
        *(f"%({atom})s" for atom in "hlutrmUqHsBbfaTMDLp"),
        "%({x-request-id}i)s",
        "%({X-Missing}i)s",
        "%({content-type}o)s",
        "%({server}o)s",
        "%({remote_port}e)s",
        "%({server_name}e)s",
        "%({http_x_request_id}e)s",
    ]
)


class Records(logging.Handler):
    """Every access record, and an event set at each one (awaitable in the server's loop)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.arrived = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.arrived.set()

    @property
    def lines(self) -> list[str]:
        return [record.getMessage() for record in self.records]


@pytest.fixture
def records() -> Iterator[Records]:
    logger = logging.getLogger("uvicorn.access")
    saved = (logger.handlers, logger.propagate, logger.level)
    handler = Records()
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    yield handler
    logger.handlers, logger.propagate = saved[:2]
    logger.setLevel(saved[2])


async def typed(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """200 with a body of 5 bytes and a content type; /empty: a 200 without a body."""
    body = b"" if scope["path"] == "/empty" else b"hello"
    await send_response(send, 200, body, [(b"content-type", b"text/x-test")])


async def test_every_atom_has_gunicorn_s_meaning(http: str, records: Records) -> None:
    credentials = base64.b64encode(b"alice:secret").decode()
    headers = [
        ("Host", "example.org"),
        ("User-Agent", "probe/1.0"),
        ("Referer", "https://example.org/from"),
        ("Authorization", f"Basic {credentials}"),
        ("X-Request-Id", "abc-123"),
    ]
    async with (
        serve(typed, http=http, lifespan="off", log_config=None, access_log_format=EVERY_ATOM) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("GET", "/caf%C3%A9/x?q=1&r=%20", headers=headers))
        assert (await client.read_response()).status == 200
        local_port = client.local_port

    (record,) = records.records
    names = [*"hlutrmUqHsBbfaTMDLp", "xid", "missing", "ctype", "server", "rport", "sname", "xenv"]
    atoms = dict(zip(names, record.getMessage().split("|"), strict=True))
    assert (atoms["h"], atoms["l"], atoms["u"]) == ("127.0.0.1", "-", "alice")
    assert re.fullmatch(r"\[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]", atoms["t"])
    assert atoms["r"] == "GET /caf%C3%A9/x?q=1&r=%20 HTTP/1.1"  # the target as sent
    assert [atoms[name] for name in "mUqHs"] == ["GET", "/café/x", "q=1&r=%20", "HTTP/1.1", "200"]
    assert (atoms["B"], atoms["b"]) == ("5", "5")
    assert (atoms["f"], atoms["a"]) == ("https://example.org/from", "probe/1.0")
    microseconds = int(atoms["D"])
    assert microseconds >= 0 and re.fullmatch(r"\d+\.\d{6}", atoms["L"])
    assert int(atoms["T"]) == microseconds // 1_000_000 and int(atoms["M"]) == microseconds // 1_000
    assert abs(float(atoms["L"]) * 1_000_000 - microseconds) <= 1
    assert atoms["p"] == f"<{os.getpid()}>"
    assert [atoms[name] for name in ("xid", "missing", "ctype", "server")] == [
        "abc-123",
        "-",
        "text/x-test",
        "uvicorn",
    ]
    assert (atoms["rport"], atoms["sname"], atoms["xenv"]) == (str(local_port), "127.0.0.1", "abc-123")
    assert record.args["s"] == 200 and record.args["B"] == 5  # type: ignore[index,call-overload]


async def test_no_body_is_a_dash_for_b_and_zero_for_big_b(http: str, records: Records) -> None:
    async with (
        serve(typed, http=http, lifespan="off", log_config=None, access_log_format="%(b)s %(B)s") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("GET", "/empty"))
        await client.read_response()
        await client.send(request("HEAD", "/"))  # a HEAD response sends no body bytes
        await client.read_response(head_request=True)
    assert records.lines == ["- 0", "- 0"]


async def test_quotes_in_text_atoms_are_escaped_as_gunicorn_does(http: str, records: Records) -> None:
    if http == "zttp":
        pytest.skip("zttp refuses a '\"' in the request target (400), as upstream's zttp does")
    async with (
        serve(
            typed, http=http, lifespan="off", log_config=None, access_log_format='"%(r)s" "%(a)s"'
        ) as running,
        RawClient.connect(running) as client,
    ):
        headers = [("Host", "x"), ("User-Agent", 'say "hi"')]
        await client.send(request("GET", '/a"b', headers=headers))
        await client.read_response()
    assert records.lines == ['"GET /a\\"b HTTP/1.1" "say \\"hi\\""']


class Streaming:
    """Starts a response, sends a first piece, and finishes only when ``release`` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first;", "more_body": True})
        await self.release.wait()
        await send({"type": "http.response.body", "body": b"last"})


async def test_a_format_without_size_or_duration_is_written_as_the_head_goes_out(
    http: str, records: Records
) -> None:
    app = Streaming()
    async with (
        serve(app, http=http, lifespan="off", log_config=None, access_log_format='"%(r)s" %(s)s') as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("GET", "/stream", headers=[("Host", "x"), ("Connection", "close")]))
        await client.read_head()
        await records.arrived.wait()  # while the response is still going on
        assert records.lines == ['"GET /stream HTTP/1.1" 200']
        assert records.records[0].bytes_sent is None  # type: ignore[attr-defined]
        app.release.set()
        assert (await client.read_until_closed()).endswith(b"0\r\n\r\n")  # the response ended
    assert len(records.records) == 1


async def test_a_format_with_size_or_duration_is_written_when_the_response_ends(
    http: str, records: Records
) -> None:
    app = Streaming()
    async with (
        serve(
            app, http=http, lifespan="off", log_config=None, access_log_format="%(s)s %(B)s %(D)s"
        ) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("GET", "/stream"))
        await client.read_head()
        assert records.records == []  # the head went out, the response has not ended
        app.release.set()
        await records.arrived.wait()
    (record,) = records.records
    status, size, _ = record.getMessage().split()
    assert (status, size) == ("200", str(len(b"first;last")))
    assert record.bytes_sent == 10 and record.duration > 0  # type: ignore[attr-defined]


async def test_an_abandoned_response_is_logged_with_what_was_sent(http: str, records: Records) -> None:
    async def fails_midway(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("the app fails after starting its response")

    async with (
        serve(
            fails_midway, http=http, lifespan="off", log_config=None, access_log_format="%(s)s %(B)s"
        ) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("GET", "/"))
        await client.read_until_closed()
        await records.arrived.wait()
    assert records.lines == ["200 7"]


@pytest.mark.parametrize(
    ("log_format", "problem"),
    [
        ("%(h)s %(zz)s", "unknown atom %(zz)s"),
        ("%(h)s %s", "is not an atom"),
        ("%(h)s 100%", "is not an atom"),
        ("%(h)d", "check the conversion"),
        ("%(b)d", "check the conversion"),  # b is "-" for an empty body
    ],
)
def test_an_unusable_format_is_one_line_naming_the_option(log_format: str, problem: str) -> None:
    config = Config(app=typed, log_config=None, access_log_format=log_format)
    with pytest.raises(InvalidOptionError) as raised:
        config.load()
    message = str(raised.value)
    assert message.startswith("Invalid value for 'access_log_format' (--access-log-format): ")
    assert problem in message and "\n" not in message


def test_a_literal_percent_and_numeric_conversions_are_fine() -> None:
    config = Config(app=typed, log_config=None, access_log_format="100%% %(s)d %(D)06d %(B)d %(L)s")
    config.load()
    assert config.access_log_timing == "end"
    assert Config(app=typed, log_config=None, access_log_format="%(s)s %(a)s").access_log_timing == "head"
    assert Config(app=typed, log_config=None).access_log_timing == "head"


async def test_upstream_s_line_carries_the_fields_too(http: str, records: Records) -> None:
    """Logged through logging (here: any handler but a plain stream), the default record has every field."""
    async with (
        serve(typed, http=http, lifespan="off", log_config=None) as running,
        RawClient.connect(running) as client,
    ):
        headers = [("Host", "x"), ("User-Agent", "probe/2"), ("Referer", "https://r.example/")]
        await client.send(request("GET", "/a%2Fb?x=1", headers=headers))
        await client.read_response()
        port = client.local_port
    (record,) = records.records
    assert record.getMessage() == f'127.0.0.1:{port} - "GET /a%2Fb?x=1 HTTP/1.1" 200'
    fields = {name: getattr(record, name) for name in ACCESS_FIELDS}
    assert fields == {
        "client": f"127.0.0.1:{port}",
        "method": "GET",
        "path": "/a%2Fb",
        "query": "x=1",
        "http_version": "1.1",
        "status": 200,
        "bytes_sent": None,  # written as the head goes out, as upstream: not known yet
        "duration": None,
        "user_agent": "probe/2",
        "referer": "https://r.example/",
    }


@pytest.mark.parametrize("engine", ["zttp", "h2"])
async def test_http2_streams_get_the_same_access_lines(engine: str, records: Records) -> None:
    log_format = '"%(r)s" %(H)s %(s)s %(B)s'
    async with (
        serve(
            typed,
            http2=True,
            http2_engine=engine,
            lifespan="off",
            log_config=None,
            access_log_format=log_format,
        ) as running,
        httpx.AsyncClient(base_url=running.url, http1=False, http2=True) as client,  # h2c prior knowledge
    ):
        assert (await client.get("/x?y=1")).http_version == "HTTP/2"
        await records.arrived.wait()
    assert records.lines == ['"GET /x?y=1 HTTP/2" HTTP/2 200 5']
