"""Build the PEP 3333 ``environ`` for an ASGI HTTP scope."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from typing import IO, Any

from uvicorn.middleware._types import Environ, Scope

__all__ = ["FileWrapper", "build_environ"]

_DEFAULT_PORTS = {"http": "80", "https": "443"}


class FileWrapper:
    """``wsgi.file_wrapper``: iterate a file-like object in blocks, closing it with the response."""

    def __init__(self, filelike: IO[bytes], blksize: int = 8192) -> None:
        self.filelike = filelike
        self.blksize = blksize
        close = getattr(filelike, "close", None)
        if close is not None:
            self.close = close

    def __iter__(self) -> Iterator[bytes]:
        while block := self.filelike.read(self.blksize):
            yield block


@functools.lru_cache(maxsize=512)
def _environ_key(name: bytes) -> str:
    # Header names repeat across requests; compute each key once.
    if name == b"content-type":
        return "CONTENT_TYPE"
    if name == b"content-length":
        return "CONTENT_LENGTH"
    return "HTTP_" + name.decode("latin-1").upper().replace("-", "_")


def _latin1(text: str) -> str:
    """PEP 3333 "bytes as native strings": the UTF-8 bytes of ``text``, read as latin-1."""
    return text.encode("utf-8").decode("latin-1")


def build_environ(scope: Scope, message: Any, body: Any) -> Environ:
    """The WSGI environ for an ASGI ``http`` scope, reading the request body from ``body``.

    ``message`` is unused; it is accepted for compatibility with code written
    against upstream uvicorn, which passed the first ``http.request`` message.
    """
    script_name = _latin1(scope.get("root_path", ""))
    path_info = _latin1(scope["path"])
    # ASGI paths include the root path; WSGI splits it off into SCRIPT_NAME.
    if script_name and path_info.startswith(script_name):
        path_info = path_info[len(script_name) :]
    scheme = scope.get("scheme", "http")
    server = scope.get("server") or ("localhost", None)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server[0],
        # PEP 3333 wants a string; a UNIX socket server has no port at all.
        "SERVER_PORT": _DEFAULT_PORTS.get(scheme, "80") if server[1] is None else str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        # The stream ends with the body, so apps may read chunked requests to EOF.
        "wsgi.input_terminated": True,
        "wsgi.file_wrapper": FileWrapper,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])

    for name, value in scope.get("headers", ()):
        key = _environ_key(bytes(name))
        text = value.decode("latin-1")
        if key in environ:
            # PEP 3333 / RFC 9110: repeated fields combine into one comma-separated value.
            text = environ[key] + "," + text
        environ[key] = text
    return environ
