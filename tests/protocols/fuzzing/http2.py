"""HTTP/2 conversations for fuzzing: what one client sends on one connection, and what it is owed.

The valid frames come from a real HTTP/2 client, the h2 library (it encodes
HPACK, frames and flow control as a client must), driven by generated choices:
the client's SETTINGS (window sizes, frame size, HPACK table size), requests
with bodies split across DATA frames up to the server's flow-control windows
(padded or not), trailers, header blocks split into CONTINUATION frames,
streams interleaved, and between them PING, SETTINGS, PRIORITY (on open and
idle streams), WINDOW_UPDATE, RST_STREAM by the client and frames of unknown
types (which a server must ignore). A client that gave the server a small window
for its responses opens it at the end.

``http2_broken`` adds one broken thing (hand-built bytes); the conversation is
then split anywhere across ``data_received`` calls and ended (see
:class:`Conversation`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import strategies as st

from tests.protocols.fuzzing.http2_broken import KINDS, Broken, broken_things
from tests.protocols.fuzzing.http2_frames import (
    DEFAULT_WINDOW,
    HEADER_TABLE_SIZE,
    INITIAL_WINDOW_SIZE,
    MAX_FRAME_SIZE,
    ClientLimits,
    frame,
)
from tests.protocols.fuzzing.http2_requests import (
    BODY_BUDGET,
    H2Request,
    RequestSteps,
    body_sizes,
    new_client,
    request,
)

__all__ = ["Conversation", "conversations"]


@dataclass
class Conversation:
    """One connection's worth of client bytes, what the server owes, and how the client ends."""

    parts: list[tuple[str, bytes]]  # (what, bytes) in order: the preface first
    requests: list[H2Request]  # every valid request, in stream order
    broken: Broken | None
    limits: ClientLimits
    pings: list[bytes]
    settings_frames: int  # SETTINGS frames (not ACKs) the client sent
    cuts: list[int]
    ending: str  # "linger" (past the idle timeout), "half-close", "go-away" or "goaway-frame"
    pauses: list[float] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        return b"".join(part for _, part in self.parts)

    def chunks(self) -> list[bytes]:
        data = self.data
        edges = [0, *sorted({c for c in self.cuts if 0 < c < len(data)}), len(data)]
        return [data[a:b] for a, b in zip(edges, edges[1:], strict=False) if b > a]

    def note_events(self, event: Callable[[str], None]) -> None:
        event(f"{len(self.requests)} requests")
        event(f"broken: {self.broken.name if self.broken else None}")
        event(f"ending: {self.ending}")
        event(f"{len(self.chunks())} chunks" if len(self.chunks()) < 3 else "3+ chunks")
        for what in {what for what, _ in self.parts}:
            event(f"sends {what}")


class _Builder:
    """Builds a conversation part by part with one h2 client; the shared state of :func:`conversations`."""

    def __init__(self, rnd: random.Random, settings: dict[int, int]) -> None:
        self.rnd = rnd
        self.client = new_client(settings)
        self.limits = ClientLimits(
            max_frame_size=settings.get(MAX_FRAME_SIZE, 16384),
            header_table_size=settings.get(HEADER_TABLE_SIZE, 4096),
            largest_initial_window=settings[INITIAL_WINDOW_SIZE],
        )
        self.parts: list[tuple[str, bytes]] = [("preface", self.client.data_to_send())]
        self.pings: list[bytes] = []
        self.settings_frames = 1

    def add(self, what: str, data: bytes | None = None) -> None:
        self.parts.append((what, self.client.data_to_send() if data is None else data))

    def connection_credit(self, increment: int) -> None:
        self.client.increment_flow_control_window(increment)
        self.limits.connection_credit += increment

    def something_else(self, open_ids: list[int]) -> None:
        """Sometimes a frame that is no part of a request: PING, SETTINGS, PRIORITY, an unknown type."""
        rnd, client = self.rnd, self.client
        choice = rnd.randrange(12)
        if choice == 0:
            payload = rnd.randbytes(8)
            client.ping(payload)
            self.pings.append(payload)
            self.add("PING")
        elif choice == 1:
            window = rnd.choice([self.limits.largest_initial_window, 2**20])
            self.limits.largest_initial_window = max(self.limits.largest_initial_window, window)
            client.update_settings({INITIAL_WINDOW_SIZE: window})
            self.settings_frames += 1
            self.add("SETTINGS")
        elif choice == 2 and open_ids:
            client.prioritize(rnd.choice(open_ids), weight=rnd.randint(1, 256), depends_on=0)
            self.add("PRIORITY")
        elif choice == 3:  # RFC 9113 5.5: ignored, on any stream (no type an extension registered)
            payload = rnd.randbytes(rnd.randrange(20))
            self.add(
                "unknown frame type",
                frame(rnd.randint(0x0A, 0xFF), rnd.randrange(256), rnd.randrange(8), payload),
            )


@st.composite
def conversations(draw: st.DrawFn, broken_kind: str | None = None) -> Conversation:
    """A connection's worth of HTTP/2, maybe with one broken thing (``broken_kind``: always, that one)."""
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    window = draw(st.sampled_from(["default", "large", "small"]))
    initial = {"default": DEFAULT_WINDOW, "large": 2**31 - 1, "small": rnd.randrange(64)}[window]
    settings = {INITIAL_WINDOW_SIZE: initial}
    if draw(st.booleans()):
        settings[MAX_FRAME_SIZE] = rnd.choice([16384, 16385, 65536, 2**24 - 1])
    if draw(st.booleans()):
        settings[HEADER_TABLE_SIZE] = rnd.choice([0, 64, 4096, 65536])
    built = _Builder(rnd, settings)
    if window != "small":
        built.connection_credit(2**30)
        built.add("WINDOW_UPDATE")

    broken: Broken | None = None
    if broken_kind is not None or draw(st.integers(0, 2)) == 0:
        kind = broken_kind if broken_kind is not None else draw(st.sampled_from(KINDS))
        broken = broken_things(draw, rnd, kind)
    count = draw(st.integers(0, 5))
    # The broken thing may send some DATA of its own: the valid requests leave it room in the window.
    budget = BODY_BUDGET - (1024 if broken is not None else 0)
    sizes = body_sizes(draw, rnd, count, budget)
    requests = [request(rnd, 1 + 2 * index, size) for index, size in enumerate(sizes)]
    for each in requests:
        each.reset_by_client = count > 1 and rnd.randrange(8) == 0
    if draw(st.integers(0, 5)) == 0:
        # Firefox's way: PRIORITY frames on idle streams it never opens, its requests above them.
        for each in requests:
            each.stream_id += 10
        for stream_id in range(3, 11, 2):
            built.client.prioritize(stream_id, weight=rnd.randint(1, 256), depends_on=0)
        built.add("PRIORITY (idle)")

    # A broken thing that some engine answers with a stream error and another with a connection
    # error comes last: the first goes on serving, and must have every request whole by then.
    broken_at = count if broken is not None and broken.ends_connection_with_some else rnd.randint(0, count)

    streams = [RequestSteps(built.client, rnd, each, 16384) for each in requests]
    opened = 0
    while True:
        steps_left = any(each.steps for each in streams)
        due = broken is not None and broken.stream_id is None and opened >= broken_at
        if broken is not None and due and (broken_at < count or not steps_left):
            built.add(f"broken: {broken.name}", broken.build(built.client, _next_stream_id(requests, opened)))
            if broken.ends_connection_with_all:
                del requests[opened:]  # never sent
                break
            for later in requests[opened:]:
                later.stream_id += 2
        if not steps_left:
            break
        next_to_open = streams[opened] if opened < len(streams) else None
        ready = [s for s in streams if s.steps and (s.steps[0][0] != "HEADERS" or s is next_to_open)]
        what, step = rnd.choice(ready).steps.pop(0)
        opened += what == "HEADERS"
        built.add(what, step())
        built.something_else([s.request.stream_id for s in streams[:opened] if not s.request.reset_by_client])

    if window != "large" and not (broken is not None and broken.ends_connection_with_all):
        # The client opens the windows it kept small: the responses can now all go out.
        for each in requests:
            if not each.reset_by_client:
                built.client.increment_flow_control_window(2**24, each.stream_id)
                built.limits.stream_credit[each.stream_id] = 2**24
        if window == "small":
            built.connection_credit(2**30)
        built.add("WINDOW_UPDATE")
    ending = draw(st.sampled_from(["linger", "half-close", "go-away", "goaway-frame"]))
    if ending == "goaway-frame":
        built.client.close_connection()
        built.add("GOAWAY")
    cuts = _cuts(draw, rnd, built.parts)
    return Conversation(
        built.parts, requests, broken, built.limits, built.pings, built.settings_frames, cuts, ending
    )


def _cuts(draw: st.DrawFn, rnd: random.Random, parts: list[tuple[str, bytes]]) -> list[int]:
    """Where the bytes are split between reads: nowhere, every byte, between frames, or anywhere."""
    length = sum(len(part) for _, part in parts)
    split = draw(st.sampled_from(["one", "bytes", "frames", "random"]))
    if split == "one":
        return []
    if split == "bytes":
        return list(range(1, length, 1 + length // 600))  # past 600 bytes, every few bytes
    if split == "frames":
        ends, position = [], 0
        for _, part in parts:
            position += len(part)
            ends.append(position)
        return ends
    return [rnd.randint(1, max(1, length - 1)) for _ in range(draw(st.integers(1, 12)))]


def _next_stream_id(requests: list[H2Request], opened: int) -> int:
    """The stream id a new stream opened now takes."""
    if opened < len(requests):
        return requests[opened].stream_id
    return requests[-1].stream_id + 2 if requests else 1
