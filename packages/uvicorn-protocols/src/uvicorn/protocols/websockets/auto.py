"""``--ws auto``: the best WebSocket implementation installed, or None."""

from __future__ import annotations

import asyncio

# Until the WebSocket implementations land, no library is selected.
AutoWebSocketsProtocol: type[asyncio.Protocol] | None = None
