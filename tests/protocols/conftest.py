"""Every HTTP protocol test runs once per parser, every WebSocket test once per implementation too.

Every parser (h11, httptools, zttp) and all three WebSocket implementations must give an app
the same behaviour.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.protocols.test_websocket_support import IMPLEMENTATIONS

HTTP_PARSERS = ["h11", "httptools", "zttp"]


@pytest.fixture(params=HTTP_PARSERS)
def http(request: pytest.FixtureRequest) -> str:
    """The ``http`` option naming the parser under test."""
    return str(request.param)


@pytest.fixture(params=list(IMPLEMENTATIONS))
def ws(request: pytest.FixtureRequest) -> type[Any]:
    """The WebSocket implementation under test (a class, so no import warning fires mid-test)."""
    return IMPLEMENTATIONS[str(request.param)]
