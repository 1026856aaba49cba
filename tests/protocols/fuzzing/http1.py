"""HTTP/1.1 request streams for fuzzing, and what the server owes each one.

A generated :class:`Stream` is what one client sends on one connection: valid
requests (``http1_requests``), optionally followed by one broken request
(``http1_broken``) and anything after it, or by a request cut short. It says how
the bytes are split across ``data_received`` calls (whole, byte by byte, fixed
or random pieces), how much (virtual) time passes between pieces, and how the
client ends the connection. It knows what the server owes: which requests are
answered, which one is refused, and whether the connection must be closed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from tests.protocols.fuzzing.http1_broken import Broken, broken_requests
from tests.protocols.fuzzing.http1_requests import LIMITS, Request, requests

__all__ = ["Stream", "streams"]

# ---------------------------------------------------------------- streams


@dataclass
class Stream:
    """What one client sends on one connection, and how it ends."""

    requests: list[Request]
    broken: Broken | None  # after the requests
    trailing: bytes  # after the broken request (never read), or a request cut short
    cut: Request | None  # the request ``trailing`` is a prefix of, when no broken one precedes it
    cuts: list[int]  # where the byte stream is split between data_received calls
    ending: str  # "linger" (wait out the timeouts), "half-close" or "go-away"
    pauses: list[float]  # virtual seconds between chunks

    @property
    def data(self) -> bytes:
        broken = self.broken.data if self.broken is not None else b""
        return b"".join(r.encode() for r in self.requests) + broken + self.trailing

    def chunks(self) -> list[bytes]:
        data = self.data
        edges = [0, *sorted({c for c in self.cuts if 0 < c < len(data)}), len(data)]
        return [data[a:b] for a, b in zip(edges, edges[1:], strict=False) if b > a]

    def note_events(self, event: Callable[[str], None]) -> None:
        """Report the stream's kind to hypothesis (``--hypothesis-show-statistics``)."""
        event(f"{len(self.requests)} valid requests")
        event(f"broken: {self.broken.name if self.broken else None}")
        event(f"cut in {'head' if self.cut_in_head else 'body' if self.cut_in_body else None}")
        event(f"{len(self.chunks())} chunks" if len(self.chunks()) < 3 else "3+ chunks")
        event(f"ending: {self.ending}")

    # ------------------------------------------------------------ what the server owes

    def answered(self) -> list[Request]:
        """The requests that get a response, in order (up to one that closes the connection)."""
        answered = []
        for request in self.requests:
            answered.append(request)
            if request.closes:
                break
        return answered

    @property
    def closed_by_request(self) -> bool:
        return any(r.closes for r in self.requests)

    @property
    def refused(self) -> Broken | None:
        """The broken request, if the server reads that far."""
        return None if self.closed_by_request else self.broken

    def seen_by_app(self) -> list[Request]:
        seen = self.answered()
        if self.closed_by_request:
            return seen
        if self.broken is not None:
            return seen + ([self.broken.request] if self.broken.app_sees_it and self.broken.request else [])
        if self.cut is not None and self.cut_in_body:
            return [*seen, self.cut]
        return seen

    @property
    def cut_in_head(self) -> bool:
        return self.cut is not None and 0 < len(self.trailing) < len(self.cut.head())

    @property
    def cut_in_body(self) -> bool:
        return self.cut is not None and len(self.trailing) >= len(self.cut.head())


_SPLITS = ["one", "bytes", "fixed", "random"]
_BYTEWISE_LIMIT = 600


@st.composite
def streams(draw: st.DrawFn, broken_kind: str | None = None) -> Stream:
    """A connection's worth of requests, split into chunks, and how the client ends it.

    ``broken_kind``: always a broken request, broken that way (see ``http1_broken.KINDS``).
    """
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    count = draw(st.integers(0, 4))
    reqs = [requests(draw, rnd, last=i == count - 1) for i in range(count)]
    broken = None
    if broken_kind is not None or draw(st.integers(0, 2)):
        broken = broken_requests(draw, rnd, broken_kind)
    trailing, cut = b"", None
    if broken is not None:
        if draw(st.booleans()):
            trailing = requests(draw, rnd).encode()
    elif draw(st.integers(0, 3)) == 0:
        cut = requests(draw, rnd)
        whole = cut.encode()
        # Cut inside the head or the body (never at the very end: that is a whole request).
        trailing = whole[: draw(st.integers(1, len(whole) - 1))]
    data_length = sum(len(r.encode()) for r in reqs) + len(broken.data if broken else b"") + len(trailing)
    split = draw(st.sampled_from(_SPLITS))
    if split == "one":
        cuts: list[int] = []
    elif split == "bytes":
        # Every byte apart (bounded: past _BYTEWISE_LIMIT, every few bytes).
        cuts = list(range(1, data_length, 1 + data_length // _BYTEWISE_LIMIT))
    elif split == "fixed":
        size = draw(st.integers(2, 64))
        cuts = list(range(size, data_length, size))
    else:
        cuts = [rnd.randint(1, max(1, data_length - 1)) for _ in range(draw(st.integers(1, 12)))]
    pauses: list[float] = []
    if split != "bytes" and draw(st.booleans()):
        # Time passes between chunks, in all less than either timeout: none may fire.
        budget = min(LIMITS["timeout_keep_alive"], LIMITS["timeout_request_head"]) * 0.9
        weights = [rnd.random() for _ in range(len(cuts) + 1)]
        pauses = [budget * weight / sum(weights) for weight in weights]
    ending = draw(st.sampled_from(["linger", "half-close", "go-away"]))
    return Stream(reqs, broken, trailing, cut, cuts, ending, pauses)
