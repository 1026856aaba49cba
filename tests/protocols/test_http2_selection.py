"""Which protocol classes ``--http2`` selects, and a clear startup error when no HTTP/2 library is there."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.protocols.apps import hello
from uvicorn.config import Config
from uvicorn.protocols.http.h2_impl import H2Protocol
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.negotiate import VersionNegotiator

zttp = pytest.importorskip("zttp")

from uvicorn.protocols.http.auto_zttp_impl import AutoZttpProtocol  # noqa: E402
from uvicorn.protocols.http.zttp_h2_impl import ZttpH2Protocol  # noqa: E402
from uvicorn.protocols.http.zttp_impl import ZttpProtocol  # noqa: E402


def loaded(**options: object) -> Config:
    config = Config(hello, lifespan="off", **options)  # type: ignore[arg-type]
    config.load()
    return config


def test_upstream_zttp_classes() -> None:
    assert loaded(http="zttp").http_protocol_class is ZttpProtocol
    config = loaded(http="zttp", http2=True)
    assert config.http_protocol_class is AutoZttpProtocol
    assert AutoZttpProtocol.alpn_protocols == ["h2", "http/1.1"]
    assert ZttpH2Protocol.alpn_protocols == ["h2"]


@pytest.mark.parametrize(
    ("engine", "expected"), [("auto", ZttpH2Protocol), ("zttp", ZttpH2Protocol), ("h2", H2Protocol)]
)
def test_http2_on_another_parser_negotiates(engine: str, expected: type) -> None:
    config = loaded(http="h11", http2=True, http2_engine=engine)
    assert config.http_protocol_class is VersionNegotiator
    assert config.http1_protocol_class is H11Protocol
    assert config.http2_protocol_class is expected


def test_without_http2_nothing_changes() -> None:
    config = loaded(http="h11")
    assert config.http_protocol_class is H11Protocol
    assert config.http2_protocol_class is None


def _startup(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


BLOCK = "import sys\nfor name in {names}: sys.modules[name] = None\n"


def test_without_zttp_auto_takes_h2() -> None:
    result = _startup(
        BLOCK.format(names=["zttp"])
        + "from uvicorn.config import Config\n"
        + "config = Config('tests.protocols.apps:hello', http2=True, lifespan='off')\n"
        + "config.load()\nprint(config.http2_protocol_class.__name__)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "H2Protocol"


@pytest.mark.parametrize(
    ("blocked", "options", "hint"),
    [
        (["zttp", "h2"], "", "HTTP/2 (--http2) needs the zttp or h2 library"),
        (["zttp"], ", http2_engine='zttp'", "'http2_engine=zttp' (--http2-engine) needs the zttp library"),
    ],
    ids=["no-library", "zttp-asked-for"],
)
def test_missing_library_stops_startup_with_one_line(blocked: list[str], options: str, hint: str) -> None:
    result = _startup(
        BLOCK.format(names=blocked)
        + "import uvicorn\n"
        + f"uvicorn.run('tests.protocols.apps:hello', http2=True, lifespan='off'{options})\n"
    )
    assert result.returncode == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and hint in errors[0], result.stderr
    assert "Traceback" not in result.stderr
