"""Checks of the logging-format, metrics and health options, run by ``Config.load``.

``log_format``, ``access_log_format``, ``admin_port`` and ``admin_host``: a value
that cannot work is one :class:`InvalidOptionError` naming the option and the fix;
``admin_port`` without prometheus-client is a :class:`MissingDependencyError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from uvicorn._log_setup import LOG_FORMATS
from uvicorn._option_checks import flag_of
from uvicorn._startup import InvalidOptionError, MissingDependencyError
from uvicorn.protocols.http.access_format import AccessFormatError, compile_access_format

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = ["check_observability_options"]

_MAX_PORT = 65535


def _fail(option: str, value: object, requirement: str) -> NoReturn:
    raise InvalidOptionError(f"Invalid value for '{option}' ({flag_of(option)}): {value!r}. {requirement}")


def check_observability_options(config: Config) -> None:
    """Raise for the first of these options whose value cannot work."""
    if config.log_format not in LOG_FORMATS:
        _fail("log_format", config.log_format, "Use 'text' or 'json'.")
    if config.access_log_format is not None:
        try:
            compile_access_format(config.access_log_format)
        except AccessFormatError as exc:
            _fail("access_log_format", config.access_log_format, str(exc))
    if config.admin_port is None:
        return
    port = config.admin_port
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= _MAX_PORT:
        _fail("admin_port", port, f"Use a port number from 0 to {_MAX_PORT} (0 picks a free port).")
    if not isinstance(config.admin_host, str) or not config.admin_host:
        _fail("admin_host", config.admin_host, "Give a host name or an IP address, e.g. 127.0.0.1.")
    shares_app_port = config.bind is None and config.uds is None and config.fd is None
    if shares_app_port and port != 0 and port == config.port:
        _fail("admin_port", port, f"The app listens on port {port}: give the admin endpoints another port.")
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "'admin_port' (--admin-port) needs prometheus-client: pip install prometheus-client "
            "(or 'uvicorn[metrics]').",
            name="prometheus_client",
        ) from None
