"""Reject ``Config`` values that cannot work, before anything is imported or bound.

Each check names the option (as ``Config`` calls it, and its CLI flag) and
what would work instead, in an :class:`InvalidOptionError` (a ``ValueError``);
``Config.load`` runs them first.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, NoReturn

from uvicorn._bind_addresses import bind_addresses
from uvicorn._startup import InvalidOptionError

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = ["check_option_values", "flag_of"]

_INTERFACES = ("auto", "asgi3", "asgi2", "wsgi")
_MAX_PORT = 65535


def flag_of(option: str) -> str:
    """The command-line flag of a ``Config`` option: ``limit_concurrency`` → ``--limit-concurrency``."""
    return "--" + option.replace("_", "-")


def _fail(option: str, value: object, requirement: str) -> NoReturn:
    raise InvalidOptionError(f"Invalid value for '{option}' ({flag_of(option)}): {value!r}. {requirement}")


def check_option_values(config: Config) -> None:
    """Raise :class:`InvalidOptionError` for the first option whose value cannot work."""
    if not isinstance(config.port, int) or not 0 <= config.port <= _MAX_PORT:
        _fail("port", config.port, f"Use a port number from 0 to {_MAX_PORT} (0 picks a free port).")

    must_be_positive = {
        "limit_concurrency": config.limit_concurrency,
        "limit_max_requests": config.limit_max_requests,
        "backlog": config.backlog,
        "ws_max_size": config.ws_max_size,
        "ws_max_queue": config.ws_max_queue,
        "timeout_notify": config.timeout_notify,
        "limit_request_line": config.limit_request_line,
        "limit_request_fields": config.limit_request_fields,
        "limit_request_head_size": config.limit_request_head_size,
        "timeout_request_head": config.timeout_request_head,
        "limit_request_body": config.limit_request_body,
        "timeout_request_body": config.timeout_request_body,
        "limit_keep_alive_requests": config.limit_keep_alive_requests,
        "timeout_response_send": config.timeout_response_send,
        "timeout_lifespan_startup": config.timeout_lifespan_startup,
        "timeout_lifespan_shutdown": config.timeout_lifespan_shutdown,
        "http2_max_concurrent_streams": config.http2_max_concurrent_streams,
        "http2_max_resets": config.http2_max_resets,
        "http2_max_control_frames": config.http2_max_control_frames,
        "limit_max_memory": config.limit_max_memory,
        "max_worker_lifetime": config.max_worker_lifetime,
    }
    for option, value in must_be_positive.items():
        if value is not None and (not _is_number(value) or value <= 0):
            _fail(option, value, "It must be a number greater than 0.")

    must_not_be_negative = {
        "timeout_keep_alive": config.timeout_keep_alive,
        "timeout_graceful_shutdown": config.timeout_graceful_shutdown,
        "timeout_worker_healthcheck": config.timeout_worker_healthcheck,
        "limit_max_requests_jitter": config.limit_max_requests_jitter,
        "reload_delay": config.reload_delay,
        "ws_ping_interval": config.ws_ping_interval,
        "ws_ping_timeout": config.ws_ping_timeout,
        "http2_header_table_size": config.http2_header_table_size,
        "max_worker_lifetime_jitter": config.max_worker_lifetime_jitter,
        "shutdown_delay": config.shutdown_delay,
    }
    for option, value in must_not_be_negative.items():
        if value is not None and (not _is_number(value) or value < 0):
            _fail(option, value, "It must be a number, 0 or more.")

    if config.interface not in _INTERFACES:
        _fail(
            "interface", config.interface, "Use one of " + ", ".join(repr(name) for name in _INTERFACES) + "."
        )
    if config.uds is not None and config.fd is not None:
        _fail("fd", config.fd, "Give either 'uds' (--uds) or 'fd' (--fd), not both.")
    bind_addresses(config)  # raises on an address that does not parse or a conflict
    if config.reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        _fail("reuse_port", config.reuse_port, "This platform has no SO_REUSEPORT: remove the option.")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
