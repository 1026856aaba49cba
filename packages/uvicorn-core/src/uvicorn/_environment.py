"""What ``Config`` reads from the environment: ``env_file``, and integers such as ``WEB_CONCURRENCY``."""

from __future__ import annotations

import logging
import os

from uvicorn._startup import InvalidOptionError, MissingDependencyError

__all__ = ["int_from_environment", "load_env_file"]

logger = logging.getLogger("uvicorn.error")


def load_env_file(env_file: str | os.PathLike[str]) -> None:
    """Load ``env_file`` into ``os.environ`` with python-dotenv (as upstream), logging that it does."""
    if not os.path.isfile(env_file):
        raise InvalidOptionError(
            f"Invalid value for 'env_file' (--env-file): no such file: {os.fspath(env_file)!r}."
        )
    try:
        from dotenv import load_dotenv
    except ImportError:
        raise MissingDependencyError(
            f"env_file={os.fspath(env_file)!r} needs python-dotenv: "
            "pip install python-dotenv (or 'uvicorn[standard]').",
            name="dotenv",
        ) from None
    logger.info("Loading environment from '%s'", env_file)
    load_dotenv(dotenv_path=env_file)


def int_from_environment(variable: str, option: str) -> int:
    """The integer in environment variable ``variable``, which sets ``option``; one line if it is not one."""
    value = os.environ[variable]
    try:
        return int(value)
    except ValueError:
        raise InvalidOptionError(
            f"Invalid value for environment variable {variable}: {value!r}. "
            f"It sets '{option}' and must be an integer."
        ) from None
