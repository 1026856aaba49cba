"""Every HTTP protocol test runs once per parser: both must give an app the same behaviour."""

from __future__ import annotations

import pytest

HTTP_PARSERS = ["h11", "httptools", "zttp"]


@pytest.fixture(params=HTTP_PARSERS)
def http(request: pytest.FixtureRequest) -> str:
    """The ``http`` option naming the parser under test."""
    return str(request.param)
