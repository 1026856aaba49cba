"""gunicorn's access log format (``access_log_format``): its atoms, with gunicorn's meanings.

A format is a ``%``-style string of named atoms, ``%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s``
(gunicorn's ``--access-logformat``). :func:`compile_access_format` checks one once and
says which atoms it uses; for each access line only those are computed, into the dict a
log record carries as its args (as gunicorn logs them: ``logger.info(format, atoms)``).

=============  ==============================================================
``h``          client address (the scope's, so after proxy headers), ``-`` if none
``l``          ``-``
``u``          user name of HTTP Basic authentication, ``-`` without
``t``          time of logging, ``[10/Oct/2000:13:55:36 -0700]``
``r``          request line, ``GET /a%20b?q=1 HTTP/1.1`` (the target as sent)
``m``          method
``U``          path, percent-decoded, without the query
``q``          query string, without ``?``
``H``          protocol, ``HTTP/1.1``
``s``          status code
``B``          response body bytes sent
``b``          the same, or ``-`` for none (Common Log Format)
``f``          ``Referer`` header, ``-`` without
``a``          ``User-Agent`` header, ``-`` without
``T``          duration in whole seconds
``M``          duration in milliseconds
``D``          duration in microseconds
``L``          duration in decimal seconds, ``0.001234``
``p``          process id, ``<12345>``
``{name}i``    request header ``name`` (several: joined with ``,``), ``-`` without
``{name}o``    response header ``name``, ``-`` without
``{name}e``    the request's CGI/WSGI variable ``name`` (``REMOTE_PORT``, ``SERVER_NAME``...)
=============  ==============================================================

Names in braces are case-insensitive. As gunicorn does, ``"`` in a text value is
written ``\\"``. The atoms ``B b T M D L`` need the end of the response: a format that
uses one is logged when the response ends, others when its head goes out.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import HTTPScope

__all__ = ["END_ATOMS", "AccessEntry", "AccessFormat", "AccessFormatError", "compile_access_format"]

#: The atoms that need the response to have ended (its size or its duration).
END_ATOMS = frozenset("BbTMDL")
_PLAIN_ATOMS = frozenset("hlutrmUqHspfa") | END_ATOMS
# A %-directive naming an atom: %(name) then flags, width, precision and a conversion.
_DIRECTIVE = re.compile(r"%\((?P<name>[^)]*)\)[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
_BRACED = re.compile(r"\{(?P<name>[^{}]+)\}(?P<kind>[ioe])")
_ATOM_LIST = "h l u t r m U q H s B b f a T M D L p, {header}i, {header}o, {variable}e"


class AccessFormatError(ValueError):
    """A format that cannot be used; the message says which part and why."""


@dataclass
class AccessEntry:
    """What an access line may show about one response."""

    scope: HTTPScope
    status: int
    #: The response headers: the app's, then the server's defaults.
    response_headers: Iterable[tuple[bytes, bytes]]
    #: Body bytes sent, and seconds since the request head arrived; None before the response ended.
    sent: int | None = None
    duration: float | None = None


_Getter = Callable[[AccessEntry], Any]


class AccessFormat:
    """A checked format: :meth:`atoms` computes the values of the atoms it uses for one response."""

    def __init__(self, text: str, getters: dict[str, _Getter]) -> None:
        self.text = text
        self._getters = getters
        #: Whether a line needs the end of the response (it shows a size or a duration).
        self.needs_end = any(name in END_ATOMS for name in getters)

    def atoms(self, entry: AccessEntry) -> dict[str, Any]:
        """The atoms of this format for ``entry``: a log record's args for :attr:`text`."""
        values = {}
        for name, getter in self._getters.items():
            value = getter(entry)
            values[name] = value.replace('"', '\\"') if isinstance(value, str) else value
        # Never empty: logging would then not %-format the message at all ("%%" would stay).
        values.setdefault("s", entry.status)
        return values


@functools.lru_cache(maxsize=16)
def compile_access_format(text: str) -> AccessFormat:
    """Check ``text`` and make its :class:`AccessFormat`; raise :class:`AccessFormatError` if unusable."""
    if not isinstance(text, str):
        raise AccessFormatError(f"{text!r} is not a string.")
    getters: dict[str, _Getter] = {}
    for match in _DIRECTIVE.finditer(text):
        name = match["name"]
        getters[name] = _getter(name)
    leftover = _DIRECTIVE.sub("", text).replace("%%", "")
    if "%" in leftover:
        at = leftover.index("%")
        raise AccessFormatError(
            f"{leftover[at : at + 6]!r} is not an atom: write each as %(name)s, e.g. %(h)s, and a "
            "literal % as %%."
        )
    compiled = AccessFormat(text, getters)
    try:
        text % compiled.atoms(_SAMPLE)  # conversions that do not fit their atom: %(h)d
    except (TypeError, ValueError) as exc:
        raise AccessFormatError(f"{exc}: check the conversion of each atom (%(s)s, %(D)d...).") from None
    return compiled


def _getter(name: str) -> _Getter:
    if name in _PLAIN_ATOMS:
        return _ATOMS[name]
    braced = _BRACED.fullmatch(name)
    if braced is None:
        raise AccessFormatError(f"unknown atom %({name})s. Use {_ATOM_LIST}.")
    key = braced["name"].lower()
    if braced["kind"] == "i":
        wanted = key.encode("latin-1", "replace")
        return lambda entry: _header(entry.scope["headers"], wanted)
    if braced["kind"] == "o":
        wanted = key.encode("latin-1", "replace")
        return lambda entry: _header(entry.response_headers, wanted)
    return lambda entry: _cgi_variable(entry.scope, key)


def _header(headers: Iterable[tuple[bytes, bytes]], wanted: bytes) -> str:
    values = [value for name, value in headers if name.lower() == wanted]
    return b",".join(values).decode("latin-1") if values else "-"


def _client_host(entry: AccessEntry) -> str:
    client = entry.scope.get("client")
    return str(client[0]) if client else "-"


def _basic_auth_user(entry: AccessEntry) -> str:
    authorization = _header(entry.scope["headers"], b"authorization")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic":
        return "-"
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "-"
    return decoded.partition(":")[0] or "-"


def _target(scope: HTTPScope) -> str:
    """The request target as the client sent it (gunicorn's ``RAW_URI``)."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path is not None else scope["path"]
    query = scope["query_string"]
    return f"{path}?{query.decode('latin-1')}" if query else path


def _request_line(entry: AccessEntry) -> str:
    scope = entry.scope
    return f"{scope['method']} {_target(scope)} HTTP/{scope['http_version']}"


def _sent(entry: AccessEntry) -> int:
    return entry.sent or 0


def _duration(entry: AccessEntry) -> float:
    return entry.duration or 0.0


_ATOMS: dict[str, _Getter] = {
    "h": _client_host,
    "l": lambda entry: "-",
    "u": _basic_auth_user,
    "t": lambda entry: time.strftime("[%d/%b/%Y:%H:%M:%S %z]"),
    "r": _request_line,
    "m": lambda entry: entry.scope["method"],
    "U": lambda entry: entry.scope["path"],
    "q": lambda entry: entry.scope["query_string"].decode("latin-1"),
    "H": lambda entry: f"HTTP/{entry.scope['http_version']}",
    "s": lambda entry: entry.status,
    "B": _sent,
    "b": lambda entry: str(entry.sent) if entry.sent else "-",
    "f": lambda entry: _header(entry.scope["headers"], b"referer"),
    "a": lambda entry: _header(entry.scope["headers"], b"user-agent"),
    "T": lambda entry: int(_duration(entry)),
    "M": lambda entry: int(_duration(entry) * 1_000),
    "D": lambda entry: int(_duration(entry) * 1_000_000),
    "L": lambda entry: "%.6f" % _duration(entry),
    "p": lambda entry: f"<{os.getpid()}>",
}


def _cgi_variable(scope: HTTPScope, name: str) -> str:
    """A CGI/WSGI environ variable of the request, by lower-case name (gunicorn's ``{name}e``)."""
    if name.startswith("http_"):
        return _header(scope["headers"], name[5:].replace("_", "-").encode("latin-1", "replace"))
    if name in ("content_type", "content_length"):
        return _header(scope["headers"], name.replace("_", "-").encode("latin-1"))
    server = scope.get("server") or ("", None)
    client = scope.get("client") or ("", None)
    root_path = scope.get("root_path", "")
    path = scope["path"]
    variables: dict[str, object] = {
        "request_method": scope["method"],
        "script_name": root_path,
        "path_info": path[len(root_path) :] if path.startswith(root_path) else path,
        "query_string": scope["query_string"].decode("latin-1"),
        "raw_uri": _target(scope),
        "server_protocol": f"HTTP/{scope['http_version']}",
        "server_name": server[0],
        "server_port": server[1],
        "remote_addr": client[0],
        "remote_port": client[1],
        "wsgi.url_scheme": scope.get("scheme", "http"),
    }
    value = variables.get(name)
    return "-" if value is None or value == "" else str(value)


_SAMPLE = AccessEntry(
    scope={  # type: ignore[typeddict-item]
        "type": "http",
        "method": "GET",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "http_version": "1.1",
        "headers": [],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "root_path": "",
        "scheme": "http",
    },
    status=200,
    response_headers=[],
    sent=0,
    duration=0.0,
)
