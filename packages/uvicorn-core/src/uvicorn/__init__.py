"""uvicorn: the ASGI web server.

This ``__init__`` belongs to uvicorn-core and is the only one of the ``uvicorn``
namespace: the other distributions (protocols, middleware, cli, worker) add
subpackages and modules to it. Extending ``__path__`` first lets an editable
workspace, where each distribution has its own source folder, see them all.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

import sys
import types
from typing import Any

from uvicorn._run import run
from uvicorn.config import Config
from uvicorn.server import Server

__version__ = "0.60.0"
__all__ = ["Config", "Server", "main", "run"]


def __getattr__(name: str) -> Any:
    # ``uvicorn.main`` (the CLI) lives in uvicorn-cli and needs click: load it only when asked.
    if name == "main":
        try:
            from uvicorn.main import main
        except ImportError as exc:
            if exc.name != "uvicorn.main":
                raise
            raise AttributeError(
                "uvicorn.main (the command line) is in the uvicorn-cli package: pip install uvicorn-cli"
            ) from exc
        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _UvicornModule(types.ModuleType):
    """Keeps ``uvicorn.main`` the CLI function, as upstream has it.

    Importing the submodule ``uvicorn.main`` makes the import system set the
    attribute ``uvicorn.main`` to that module; upstream's eager
    ``from uvicorn.main import main`` then rebinds it to the function. Being
    lazy, we replace the module by its ``main`` function as it is assigned.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "main" and isinstance(value, types.ModuleType) and hasattr(value, "main"):
            value = value.main
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _UvicornModule
