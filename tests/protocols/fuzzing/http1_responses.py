"""Reading the bytes a server wrote back as HTTP/1.1 responses, strictly."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Response", "ResponseSyntaxError", "parse_responses"]

_HEX = b"0123456789abcdefABCDEF"

# ---------------------------------------------------------------- reading the answers


@dataclass
class Response:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    raw: bytes

    def header(self, name: bytes) -> bytes | None:
        values = [v for n, v in self.headers if n.lower() == name]
        return values[0] if values else None


class ResponseSyntaxError(AssertionError):
    """The server wrote bytes that are not a valid HTTP/1.1 response."""


def parse_responses(data: bytes, methods: list[str]) -> tuple[list[Response], bytes]:
    """The responses in ``data``, for requests with these ``methods`` in order (``HEAD`` has no body).

    Interim ``100 Continue`` responses are returned too. Whatever follows the last
    complete response is returned as the rest.
    """
    responses: list[Response] = []
    position = 0
    index = 0
    while position < len(data):
        end = data.find(b"\r\n\r\n", position)
        if end == -1:
            break
        head = data[position:end]
        status_line, *lines = head.split(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or parts[0] != b"HTTP/1.1" or not parts[1].isdigit():
            raise ResponseSyntaxError(f"not a status line: {status_line!r}")
        status = int(parts[1])
        headers = []
        for line in lines:
            name, colon, value = line.partition(b":")
            if not colon:
                raise ResponseSyntaxError(f"not a header line: {line!r}")
            headers.append((name.lower(), value.strip()))
        body_start = end + 4
        method = methods[index] if index < len(methods) else "GET"
        response = Response(status, headers, b"", b"")
        if status < 200:
            response.raw = data[position:body_start]
            responses.append(response)
            position = body_start
            continue
        length = response.header(b"content-length")
        chunked = response.header(b"transfer-encoding") == b"chunked"
        if method == "HEAD" or status in (204, 304):
            body_end = body_start
        elif chunked:
            body, body_end = _dechunk(data, body_start)
            if body_end < 0:
                break
            response.body = body
        elif length is not None:
            body_end = body_start + int(length)
            if body_end > len(data):
                break
            response.body = data[body_start:body_end]
        else:
            body_end = len(data)  # the end of the connection ends the body
            response.body = data[body_start:]
        response.raw = data[position:body_end]
        responses.append(response)
        position = body_end
        index += 1
    return responses, data[position:]


def _dechunk(data: bytes, position: int) -> tuple[bytes, int]:
    """The body of a chunked response at ``position`` and where it ends; (b"", -1) if incomplete."""
    body = []
    while True:
        line_end = data.find(b"\r\n", position)
        if line_end == -1:
            return b"", -1
        size_text = data[position:line_end]
        if not size_text or any(c not in _HEX for c in size_text):
            raise ResponseSyntaxError(f"bad chunk size {size_text!r}")
        size = int(size_text, 16)
        position = line_end + 2
        if size == 0:
            if data[position : position + 2] != b"\r\n":
                return b"", -1
            return b"".join(body), position + 2
        if position + size + 2 > len(data):
            return b"", -1
        body.append(data[position : position + size])
        if data[position + size : position + size + 2] != b"\r\n":
            raise ResponseSyntaxError("chunk data not followed by CRLF")
        position += size + 2
