"""What broken HTTP/2 input is owed: :class:`Broken` and the answers RFC 9113 (and docs/http2.md) allow.

An answer is one of:

- ``("stream", code)``: RST_STREAM with that code on the broken stream; the
  connection goes on serving the other streams;
- ``("connection", code)``: GOAWAY with that code, then the connection closes;
- ``("status", status)``: a response with that status on the broken stream
  (the server's own limits, as on HTTP/1.1); the connection goes on.

The broken thing never reaches the app, except where :attr:`Broken.app_sees`
says so: ``"head"`` (a request whose body breaks the rules: the app may start,
but never gets a complete body) or ``"request"`` (a valid request, then a frame
breaking its stream's state: it may be answered).

Header blocks are encoded with the client's own HPACK encoder, so that the
server's decoder stays in step with it after a stream error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.protocols.fuzzing.http2_frames import END_HEADERS, END_STREAM, HEADERS, frame
from tests.protocols.fuzzing.http2_requests import Client

__all__ = [
    "BROKEN_PATH",
    "ENGINES",
    "IGNORED",
    "Answer",
    "Broken",
    "Fields",
    "every",
    "header_frame",
    "request",
]

ENGINES = ("h2", "zttp")
Answer = tuple[str, int]
#: The answer of a server that ignores the broken thing (nothing on its stream, the connection goes on).
IGNORED: Answer = ("ignored", 0)
Fields = list[tuple[bytes, bytes]]

#: The path of every request the broken thing makes (the app must never see it, see app_sees).
BROKEN_PATH = b"/broken"


@dataclass
class Broken:
    """One broken thing: how to build its bytes, and the answers each engine may give."""

    name: str
    variant: str
    builder: Callable[[Client, int], bytes]  # (the client, the stream id it may open) -> bytes
    answers: dict[str, set[Answer]]
    app_sees: str = "never"  # "never", "head" or "request"

    stream_id: int | None = None  # the stream id it was given, once built

    def build(self, client: Client, stream_id: int) -> bytes:
        self.stream_id = stream_id
        return self.builder(client, stream_id)

    def allowed(self, engine: str) -> set[Answer]:
        return self.answers[engine]

    @property
    def ends_connection_with_all(self) -> bool:
        """Every engine ends the connection: nothing after it is ever read."""
        return all(all(kind == "connection" for kind, _ in answers) for answers in self.answers.values())

    @property
    def ends_connection_with_some(self) -> bool:
        """Some engine may end the connection, another may go on."""
        may_end = [any(kind == "connection" for kind, _ in answers) for answers in self.answers.values()]
        return any(may_end) and not self.ends_connection_with_all


def every(*answers: Answer) -> dict[str, set[Answer]]:
    return {engine: set(answers) for engine in ENGINES}


def request(path: bytes = BROKEN_PATH, method: bytes = b"GET") -> Fields:
    return [(b":method", method), (b":scheme", b"http"), (b":path", path), (b":authority", b"example.org")]


def header_frame(
    client: Client, stream_id: int, fields: Fields, flags: int = END_STREAM | END_HEADERS
) -> bytes:
    return frame(HEADERS, flags, stream_id, client.encoder.encode(fields))
