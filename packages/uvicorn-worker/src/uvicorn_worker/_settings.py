"""Translate what gunicorn parsed (its settings and its loggers) into uvicorn's ``Config`` terms.

The worker is built by the arbiter before the fork, from gunicorn's ``Config``
object; everything here only reads it. Settings gunicorn has and uvicorn has
not (``graceful_timeout``, ``worker_connections``, ``threads``...) are left to
gunicorn, which enforces them from the arbiter's side.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from typing import Any

__all__ = ["adopt_gunicorn_loggers", "config_kwargs_from_gunicorn"]

# gunicorn request limits and the Config option each one maps to.
_REQUEST_LIMITS = {
    "limit_request_line": "limit_request_line",
    "limit_request_fields": "limit_request_fields",
}


def adopt_gunicorn_loggers(gunicorn_log: Any) -> bool:
    """Send uvicorn's error and access logs to gunicorn's handlers; say whether access logging is on.

    gunicorn writes where ``--error-logfile`` / ``--access-logfile`` / syslog
    say, and reopens those files on SIGUSR1; sharing its handler objects keeps
    both true for uvicorn's records. Access logging counts as on only when
    gunicorn has somewhere to write it, so the protocols skip building a log
    line per request that would be dropped anyway.
    """
    error_log = getattr(gunicorn_log, "error_log", None)
    access_log = getattr(gunicorn_log, "access_log", None)
    if isinstance(error_log, logging.Logger):
        _mirror(logging.getLogger("uvicorn.error"), error_log)
    if not isinstance(access_log, logging.Logger):
        # A custom --logger-class without gunicorn's loggers: nothing to write access lines to.
        return False
    _mirror(logging.getLogger("uvicorn.access"), access_log)
    return bool(access_log.handlers)


def _mirror(ours: logging.Logger, theirs: logging.Logger) -> None:
    ours.handlers = list(theirs.handlers)
    ours.setLevel(theirs.level)
    # Our records must not reach the root logger as well (a second copy in an app's own logging).
    ours.propagate = False


def config_kwargs_from_gunicorn(cfg: Any, *, timeout: float, max_requests: int) -> dict[str, Any]:
    """``Config`` keyword arguments for gunicorn's settings ``cfg``.

    ``timeout`` and ``max_requests`` are the worker's own values: gunicorn
    gives each worker half of ``--timeout`` as its heartbeat period, and adds
    ``--max-requests-jitter`` to ``--max-requests`` once per worker.
    """
    kwargs: dict[str, Any] = {
        "timeout_keep_alive": cfg.keepalive,
        # The server checks whether to notify once a second, and needs a period of 1 s or more.
        "timeout_notify": max(1, int(timeout)),
        # gunicorn disables the limit with 0 and then gives the worker sys.maxsize.
        "limit_max_requests": max_requests if cfg.max_requests > 0 else None,
        "forwarded_allow_ips": cfg.forwarded_allow_ips,
    }
    backlog = cfg.settings["backlog"].get()
    if backlog:
        # Pre-bound sockets are listened on again by the server, with this backlog.
        kwargs["backlog"] = backlog
    kwargs.update(_request_limits(cfg))
    access_log_format = _access_log_format(cfg)
    if access_log_format is not None:
        kwargs["access_log_format"] = access_log_format
    if cfg.is_ssl:
        kwargs.update(_tls_kwargs(cfg))
    return kwargs


def _request_limits(cfg: Any) -> dict[str, int]:
    """gunicorn's request-head limits, when set to something other than gunicorn's default.

    Left at gunicorn's default, uvicorn's own (larger) defaults apply, so a
    move from ``uvicorn`` to ``gunicorn -k uvicorn_worker.UvicornWorker`` does
    not start refusing requests. gunicorn's 0 ("unlimited") also keeps
    uvicorn's default: uvicorn always bounds what a client may send.
    """
    limits: dict[str, int] = {}
    for setting_name, option in _REQUEST_LIMITS.items():
        setting = cfg.settings.get(setting_name)
        if setting is None:
            continue
        value = setting.get()
        if value != setting.default and isinstance(value, int) and value > 0:
            limits[option] = value
    return limits


def _access_log_format(cfg: Any) -> str | None:
    """gunicorn's ``--access-logformat``, when given: uvicorn writes its access lines in it.

    Left at gunicorn's default, the lines stay uvicorn's own, as with upstream's
    worker (gunicorn's handlers write them either way).
    """
    setting = cfg.settings.get("access_log_format")
    if setting is None:
        return None
    value = setting.get()
    return value if isinstance(value, str) and value != setting.default else None


def _tls_kwargs(cfg: Any) -> dict[str, Any]:
    """TLS from gunicorn's ``--certfile/--keyfile/--ca-certs/--cert-reqs/--ciphers`` and its hook.

    gunicorn's ``--ssl-version`` is deprecated and ignored by gunicorn itself,
    so uvicorn's default (a TLS server context) is kept rather than passing it on.
    """
    options = cfg.ssl_options
    kwargs: dict[str, Any] = {
        "ssl_certfile": options.get("certfile"),
        "ssl_keyfile": options.get("keyfile"),
        "ssl_cert_reqs": options.get("cert_reqs", ssl.CERT_NONE),
        "ssl_ca_certs": options.get("ca_certs"),
        "ssl_ciphers": options.get("ciphers"),
    }
    hook = cfg.settings.get("ssl_context")
    if hook is not None:
        kwargs["ssl_context_factory"] = _context_factory_calling(hook.get(), cfg)
    return kwargs


def _context_factory_calling(
    gunicorn_hook: Callable[[Any, Callable[[], ssl.SSLContext]], ssl.SSLContext], cfg: Any
) -> Callable[[Any, Callable[[], ssl.SSLContext]], ssl.SSLContext]:
    """A ``Config.ssl_context_factory`` running gunicorn's ``ssl_context(config, factory)`` server hook.

    The hook gets gunicorn's config, as gunicorn documents, and uvicorn's
    default context factory; gunicorn's default hook just calls the factory.
    """

    def factory(_config: Any, default_factory: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        return gunicorn_hook(cfg, default_factory)

    return factory
