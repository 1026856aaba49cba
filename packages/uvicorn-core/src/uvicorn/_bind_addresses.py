"""Where a server listens: ``--bind`` addresses, or the upstream ``--host/--port/--uds/--fd``.

Both spell the same thing, a list of :class:`BindAddress`; everything that
binds or logs works from that list. A mistake (an address that does not
parse, ``--bind`` combined with the older options) raises :class:`InvalidOptionError`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from uvicorn._startup import InvalidOptionError

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = ["BIND_FORMS", "BindAddress", "bind_addresses", "parse_bind_address"]

#: The forms ``--bind`` accepts, for error messages and ``--help``.
BIND_FORMS = "HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N"
_MAX_PORT = 65535
# The upstream options' defaults: ``bind`` may only be combined with these values.
_DEFAULT_HOST = "127.0.0.1"
_DEFAULT_PORT = 8000


@dataclass(frozen=True)
class BindAddress:
    """One place to listen: a TCP host and port, a UNIX socket path, or an open file descriptor."""

    kind: Literal["tcp", "unix", "fd"]
    host: str = ""
    port: int = 0
    path: str = ""
    fd: int = -1


def parse_bind_address(text: str) -> BindAddress | None:
    """``text`` as a :class:`BindAddress`, or None when it is none of :data:`BIND_FORMS`."""
    if text.startswith("unix:"):
        path = text[len("unix:") :]
        return BindAddress("unix", path=path) if path else None
    if text.startswith("fd://"):
        number = text[len("fd://") :]
        return BindAddress("fd", fd=int(number)) if number.isdigit() else None
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or int(port) > _MAX_PORT or not host:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        if not _is_ipv6(host):
            return None
    elif ":" in host:
        return None  # an IPv6 address needs brackets: [::1]:8000
    return BindAddress("tcp", host=host, port=int(port))


def _is_ipv6(host: str) -> bool:
    try:
        ipaddress.IPv6Address(host.partition("%")[0])  # a zone (fe80::1%eth0) is fine
    except ValueError:
        return False
    return True


def bind_addresses(config: Config) -> list[BindAddress]:
    """Where ``config`` listens, in order; raises :class:`InvalidOptionError` on a mistake."""
    bind = _bind_list(config)
    if not bind:
        if config.uds is not None:
            return [BindAddress("unix", path=config.uds)]
        if config.fd is not None:
            return [BindAddress("fd", fd=config.fd)]
        return [BindAddress("tcp", host=config.host, port=config.port)]
    conflicting = _conflicting_options(config)
    if conflicting:
        raise InvalidOptionError(
            f"Invalid value for 'bind' (--bind): it cannot be combined with {' or '.join(conflicting)}. "
            "Give every address with --bind instead."
        )
    addresses = []
    for text in bind:
        address = parse_bind_address(text) if isinstance(text, str) else None
        if address is None:
            raise InvalidOptionError(f"Invalid value for 'bind' (--bind): {text!r}. Use {BIND_FORMS}.")
        addresses.append(address)
    return addresses


def _bind_list(config: Config) -> list[object]:
    bind = getattr(config, "bind", None)
    if bind is None:
        return []
    if isinstance(bind, str):
        return [bind]
    return list(bind)


def _conflicting_options(config: Config) -> list[str]:
    given = {
        "--host": config.host != _DEFAULT_HOST,
        "--port": config.port != _DEFAULT_PORT,
        "--uds": config.uds is not None,
        "--fd": config.fd is not None,
    }
    return [flag for flag, is_given in given.items() if is_given]
