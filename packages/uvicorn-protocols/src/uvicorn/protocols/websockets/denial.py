"""The HTTP response an app sends instead of accepting a WebSocket (ASGI ``websocket.http.response``).

It is framed like an HTTP response from the HTTP protocols, with their head
writer. When the app states the framing itself (``content-length``, or
``transfer-encoding: chunked``) the head goes out at once. Otherwise the body is
chunked (as wsproto frames it upstream), and the head waits for the first body
message, so a failure before it still leaves room for a 500. The connection
always closes afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable

from uvicorn.protocols.http.response_head import BodyFraming, ResponseHead, serialize_default_headers
from uvicorn.protocols.http.rules import NO_CONTENT_STATUSES

__all__ = ["DenialResponse"]


class DenialResponse:
    """One denial response, from ``websocket.http.response.start`` to its last body message."""

    __slots__ = ("_framing", "_head", "status")

    def __init__(
        self,
        status: object,
        headers: Iterable[tuple[bytes, bytes]],
        default_headers: list[tuple[bytes, bytes]],
    ) -> None:
        # 1xx would read as an interim answer (101 as a completed upgrade!), not a denial.
        if type(status) is not int or not 200 <= status < 600:
            raise RuntimeError(f"Invalid HTTP status code '{status}' in response.")
        self.status = status
        self._head: ResponseHead | None = ResponseHead(
            status, headers, serialize_default_headers(default_headers), default_headers, keep_alive=False
        )
        self._framing: BodyFraming | None = None  # once the head is written

    def start(self) -> bytes:
        """The head, if the app's headers already fix the framing; else ``b""`` (it waits)."""
        head = self._head
        if head is None or (head.content_length is None and not head.chunked):
            return b""
        self._head = None
        data = head.finish(True, None, True)
        self._framing = BodyFraming(head)
        return data

    @property
    def head_written(self) -> bool:
        """True once bytes of this response may have reached the client."""
        return self._head is None

    def body(self, body: bytes, more_body: bool) -> bytes:
        """The bytes to write for one ``websocket.http.response.body`` message."""
        head = self._head
        if head is not None:
            self._head = None
            data = head.finish(head.status not in NO_CONTENT_STATUSES, None, True)
            self._framing = BodyFraming(head)
        else:
            data = b""
        data += self._framing.frame(body, more_body)  # type: ignore[union-attr]
        if not more_body:
            self._framing.check_complete()  # type: ignore[union-attr]
        return data
