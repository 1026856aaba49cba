"""Resolve ``"package.module:attribute"`` strings, as used for apps, loops and protocols."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ImportFromStringError", "import_from_string"]


class ImportFromStringError(Exception):
    """The import string is malformed, its module does not exist, or the attribute is missing."""


class _PackageNotFoundError(ImportFromStringError, ModuleNotFoundError):
    """A package of the import string's module does not exist (``"no_such_pkg.module:app"``).

    Upstream lets ``ModuleNotFoundError`` through in this case, and programs catch
    it; this is also an ``ImportFromStringError``, with the same message as for a
    missing module.
    """


def import_from_string(import_str: Any) -> Any:
    """Return the object named by ``"module:attr"`` (``attr`` may be dotted: ``"mod:obj.attr"``).

    Anything that is not a string is returned unchanged, so callers can accept
    either an object or its import string. Errors the *user* made (bad format,
    no such module, no such attribute) raise :class:`ImportFromStringError`;
    an ``ImportError`` raised while executing the module's own code (a missing
    dependency, a circular import) propagates untouched so it is not mistaken
    for a typo in the import string.
    """
    if not isinstance(import_str, str):
        return import_str

    module_name, _, attribute_path = import_str.partition(":")
    if not module_name or not attribute_path:
        raise ImportFromStringError(f'Import string "{import_str}" must be in format "<module>:<attribute>".')

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if not _names_the_module_itself(exc, module_name):
            raise
        message = f'Could not import module "{module_name}".'
        if exc.name != module_name:
            raise _PackageNotFoundError(message, name=exc.name) from None
        raise ImportFromStringError(message) from None

    instance: Any = module
    resolved: list[str] = []
    for name in attribute_path.split("."):
        try:
            instance = getattr(instance, name)
        except AttributeError:
            message = f'Attribute "{attribute_path}" not found in module "{module_name}".'
            if resolved:
                # Nested lookup: say which step failed, not only the whole path.
                message += f' ("{".".join(resolved)}" has no attribute "{name}".)'
            raise ImportFromStringError(message) from None
        resolved.append(name)
    return instance


def _names_the_module_itself(exc: ModuleNotFoundError, module_name: str) -> bool:
    """True when the missing module is ``module_name`` or one of its parent packages.

    ``import_module("pkg.mod")`` fails with ``exc.name == "pkg"`` when ``pkg``
    does not exist: that is still the user's import string being wrong. Any
    other missing name was imported by the module's own code.
    """
    missing = exc.name
    if missing is None:
        return False
    return module_name == missing or module_name.startswith(missing + ".")
