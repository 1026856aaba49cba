"""``lifespan="off"``: the app never receives lifespan events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = ["LifespanOff"]


class LifespanOff:
    """Does nothing at startup and shutdown; request scopes still get an (empty) ``state``."""

    def __init__(self, config: Config) -> None:
        self.should_exit = False
        self.state: dict[str, Any] = {}

    async def startup(self) -> None:
        """Nothing to start."""

    async def shutdown(self) -> None:
        """Nothing to stop."""
