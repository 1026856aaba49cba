"""The ``uvicorn`` command: ``uvicorn [OPTIONS] APP``, and ``uvicorn.main.run`` (core's ``uvicorn.run``).

The command only turns options into a call to :func:`run`; every option is
also read from a ``UVICORN_<NAME>`` environment variable, and ``APP`` from
``UVICORN_APP``. ``--workers`` defaults to ``$WEB_CONCURRENCY`` and
``--forwarded-allow-ips`` to ``$FORWARDED_ALLOW_IPS`` (``Config`` reads those,
after ``--env-file`` is loaded).

``from uvicorn import main`` is the click command; once this module has been
imported, ``uvicorn.main`` may also be the module itself, which is callable
for that reason: ``uvicorn.main(...)`` runs the command either way.
"""

from __future__ import annotations

import platform
import sys
import types
import warnings
from typing import Any

import click

import uvicorn
from uvicorn._cli_operations import check_bind_alone
from uvicorn._cli_options import server_options
from uvicorn._run import run
from uvicorn._startup import STARTUP_FAILURE
from uvicorn.config import INTERFACES, LIFESPAN, LOG_LEVELS, LOGGING_CONFIG, Config
from uvicorn.server import Server

# Config, Server and STARTUP_FAILURE: importable from here, as upstream has them.
__all__ = ["STARTUP_FAILURE", "Config", "Server", "main", "run"]

# Upstream's names for the choices of --log-level, --lifespan and --interface.
LEVEL_CHOICES = click.Choice(list(LOG_LEVELS))
LIFESPAN_CHOICES = click.Choice(list(LIFESPAN))
INTERFACE_CHOICES = click.Choice(INTERFACES)


def print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--version``: print what runs (uvicorn, Python implementation and version, OS) and exit."""
    if not value or ctx.resilient_parsing:
        return
    click.echo(
        f"Running uvicorn {uvicorn.__version__} with {platform.python_implementation()} "
        f"{platform.python_version()} on {platform.system()}"
    )
    ctx.exit()


_version_option = click.option(
    "--version",
    is_flag=True,
    callback=print_version,
    expose_value=False,
    is_eager=True,
    help="Display the uvicorn version and exit.",
)


@click.command(context_settings={"auto_envvar_prefix": "UVICORN"})
@click.argument("app", envvar="UVICORN_APP")
@server_options(_version_option)
def main(app: str, **options: Any) -> None:
    """Serve the ASGI application APP, given as "module:attribute" (e.g. "main:app")."""
    check_bind_alone(click.get_current_context())
    options["bind"] = list(options["bind"]) or None
    if options["log_config"] is None:
        options["log_config"] = LOGGING_CONFIG
    for name in ("reload_dirs", "reload_includes", "reload_excludes"):
        options[name] = list(options[name]) or None
    # A list of (name, value) tuples, as upstream 0.55 hands them over.
    options["headers"] = list(options["headers"])
    run(app, **options)


class _CallableModule(types.ModuleType):
    """This module's type: calling the module runs the command (``uvicorn.main(...)``)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return main(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule


def __getattr__(name: str) -> Any:
    # Names upstream's module had, resolved on use: the supervisors import watchfiles.
    if name in ("ChangeReload", "Multiprocess"):
        from uvicorn import supervisors

        return getattr(supervisors, name)
    if name == "ServerState":
        warnings.warn(
            "uvicorn.main.ServerState is deprecated, use uvicorn.server.ServerState instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        from uvicorn.server import ServerState

        return ServerState
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    main()
