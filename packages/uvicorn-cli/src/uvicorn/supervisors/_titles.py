"""Process titles (``ps``, ``top``): ``uvicorn: master`` and ``uvicorn: worker N``.

Only when the optional ``setproctitle`` package is installed; without it the
titles stay as they are and nothing fails.
"""

from __future__ import annotations

__all__ = ["MASTER_TITLE", "set_process_title", "worker_title"]

MASTER_TITLE = "uvicorn: master"


def worker_title(number: int) -> str:
    return f"uvicorn: worker {number}"


def set_process_title(title: str) -> None:
    """Set this process's title when ``setproctitle`` is available."""
    try:
        from setproctitle import setproctitle
    except ImportError:
        return
    setproctitle(title)
