"""From ``Config.app`` to the ASGI3 callable the protocols run (``Config.load``'s app half).

Import it (when given as a string), call it when it is a factory, tell ASGI3
from ASGI2, and wrap it in the middleware the options ask for.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any, Literal

from uvicorn._compat import iscoroutinefunction
from uvicorn._startup import InvalidOptionError, StartupError, startup_failure
from uvicorn.importer import ImportFromStringError, import_from_string
from uvicorn.logging import TRACE_LOG_LEVEL

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = ["AppImportError", "call_factory", "detect_interface", "import_app", "wrap_app"]

logger = logging.getLogger("uvicorn.error")


class AppImportError(StartupError, ModuleNotFoundError):
    """The app's import string names a package that does not exist (upstream raises ImportError here)."""


def import_app(app: Any) -> Any:
    """``app`` itself, or the object its import string names.

    As upstream: an import string naming no module or attribute is one error line
    and exit 3, but a missing package of the module raises (``AppImportError``,
    a ``ModuleNotFoundError``), and so does an ``ImportError`` of the app's own code.
    """
    try:
        return import_from_string(app)
    except ImportFromStringError as exc:
        if isinstance(exc, ModuleNotFoundError):
            raise AppImportError(f"Error loading ASGI app. {exc}", name=exc.name) from None
        startup_failure("Error loading ASGI app. %s", exc)


def call_factory(app: Any, factory: bool) -> Any:
    """The app a factory builds, or ``app`` itself when it is not a factory.

    As upstream: anything callable without arguments counts as a factory (with
    a warning unless ``factory`` says so); an ASGI app needs (scope, receive,
    send), so calling it without them raises ``TypeError``.
    """
    try:
        built = app()
    except TypeError as exc:
        if factory:
            startup_failure("Error loading ASGI app factory: %s", exc)
        return app
    if not factory:
        logger.warning(
            "ASGI app factory detected. Using it, but please consider setting the --factory flag explicitly."
        )
    return built


def detect_interface(app: Any) -> Literal["asgi2", "asgi3"]:
    """ASGI3 for a coroutine function (or an object whose ``__call__`` is one), else ASGI2."""
    if inspect.isclass(app):
        asgi3 = hasattr(app, "__await__")
    elif inspect.isfunction(app):
        asgi3 = iscoroutinefunction(app)
    else:
        asgi3 = iscoroutinefunction(getattr(app, "__call__", None))  # noqa: B004
    return "asgi3" if asgi3 else "asgi2"


def wrap_app(app: Any, config: Config) -> Any:
    """``app`` adapted to ASGI3, with message tracing (at TRACE level) and proxy headers."""
    # Each middleware is imported only when the options need it, which keeps
    # ``import uvicorn`` light (the WSGI adapter brings a thread pool).
    if config.interface == "wsgi":
        from uvicorn.middleware.wsgi import WSGIMiddleware

        app = WSGIMiddleware(app)
    elif config.interface == "asgi2":
        from uvicorn.middleware.asgi2 import ASGI2Middleware

        app = ASGI2Middleware(app)
    if logger.getEffectiveLevel() <= TRACE_LOG_LEVEL:
        from uvicorn.middleware.message_logger import MessageLoggerMiddleware

        app = MessageLoggerMiddleware(app)
    if config.proxy_headers:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware, invalid_trusted_hosts

        invalid = invalid_trusted_hosts(config.forwarded_allow_ips)
        if invalid:
            raise InvalidOptionError(
                "Invalid value for 'forwarded_allow_ips' (--forwarded-allow-ips): "
                f"{', '.join(repr(item) for item in invalid)} {'is' if len(invalid) == 1 else 'are'} "
                "not a valid IP address or network. Fix the address, or use '*' to trust every client."
            )
        app = ProxyHeadersMiddleware(
            app,
            trusted_hosts=config.forwarded_allow_ips,
            forwarded=config.proxy_forwarded,
            x_forwarded_host=config.proxy_x_forwarded_host,
        )
    return app
