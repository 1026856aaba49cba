"""The contract between uvicorn-core and the protocols (``uvicorn.protocols.contract``), held both ways.

The protocols read only what ``ProtocolConfig`` and ``ProtocolServerState`` list,
never load a config and never reach for uvicorn-core; they serve with plain objects
that fit those types, and with an unloaded ``Config`` (as upstream's tests build them).
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.processes import run_python
from uvicorn.config import Config
from uvicorn.protocols.contract import ProtocolConfig, ProtocolServerState
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.http.zttp_impl import ZttpProtocol
from uvicorn.server import ServerState

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS_SOURCE = REPO_ROOT / "packages" / "uvicorn-protocols" / "src" / "uvicorn"
SMOKE_SCRIPTS = REPO_ROOT / "scripts" / "smoke"
HTTP_CLASSES = {"h11": H11Protocol, "httptools": HttpToolsProtocol, "zttp": ZttpProtocol}


def protocol_members(protocol: type) -> set[str]:
    """The attribute and method names a ``typing.Protocol`` declares."""
    names = set(getattr(protocol, "__annotations__", {}))
    names |= {name for name in vars(protocol) if not name.startswith("_")}
    return names


def protocols_modules() -> list[tuple[str, ast.Module]]:
    return [
        (str(path.relative_to(PROTOCOLS_SOURCE)), ast.parse(path.read_text(), str(path)))
        for path in sorted(PROTOCOLS_SOURCE.rglob("*.py"))
    ]


# ---------------------------------------------------------------- what the code may touch


def _outside_the_protocols(module: str) -> bool:
    return module == "uvicorn" or (
        module.startswith("uvicorn.") and not module.startswith("uvicorn.protocols")
    )


def test_no_protocol_module_imports_or_looks_up_uvicorn_core() -> None:
    found = []
    for name, tree in protocols_modules():
        for node in ast.walk(tree):
            imported: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module == "uvicorn":
                imported = [f"uvicorn.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module is not None:
                imported = [node.module]
            elif isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            # Even under TYPE_CHECKING: what the protocols rely on is in their own contract module.
            found += [
                f"{name}:{node.lineno}: {module}" for module in imported if _outside_the_protocols(module)
            ]
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "modules"
                and getattr(node.value, "id", "") == "sys"
            ):
                found.append(f"{name}:{node.lineno}: sys.modules")
    assert found == []


def test_no_protocol_module_loads_a_config() -> None:
    calls = [
        f"{name}:{node.lineno}"
        for name, tree in protocols_modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load"
    ]
    assert calls == []


def _attributes_read_from(variable: str) -> dict[str, set[str]]:
    """``{attribute: {module, ...}}`` for every ``<variable>.attribute`` or ``self.<variable>.attribute``."""
    read: dict[str, set[str]] = {}
    for name, tree in protocols_modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id == variable) or (
                isinstance(owner, ast.Attribute) and owner.attr == variable
            ):
                read.setdefault(node.attr, set()).add(name)
    return read


def test_the_protocols_read_only_settings_the_contract_lists() -> None:
    read = _attributes_read_from("config")
    assert read, "the scan found no config reads at all"
    unlisted = {
        attribute: modules
        for attribute, modules in read.items()
        if attribute not in protocol_members(ProtocolConfig)
    }
    assert unlisted == {}


def test_the_protocols_touch_only_the_server_state_the_contract_lists() -> None:
    read = _attributes_read_from("server_state")
    assert read, "the scan found no server_state use at all"
    unlisted = {
        attribute: modules
        for attribute, modules in read.items()
        if attribute not in protocol_members(ProtocolServerState)
    }
    assert unlisted == {}


def test_every_protocols_module_imports_and_serves_without_the_rest_of_uvicorn() -> None:
    # ``uvicorn`` narrowed to uvicorn-protocols' own folder, as when it is installed alone: a
    # namespace package in which no other part of uvicorn can be found.
    result = run_python(
        f"""
        import sys, types
        namespace = types.ModuleType("uvicorn")
        namespace.__path__ = [{str(PROTOCOLS_SOURCE)!r}]
        sys.modules["uvicorn"] = namespace
        sys.path.insert(0, {str(SMOKE_SCRIPTS)!r})
        import protocols_alone
        print("served:", protocols_alone.check_alone())
        """
    )
    assert result.returncode == 0, result.stderr
    assert "served: H11Protocol+WebSocketsSansIOProtocol" in result.stdout
    assert "HttpToolsProtocol+WSProtocol" in result.stdout


# ---------------------------------------------------------------- built directly, as upstream's tests do


async def hello(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": f"hello {scope['path']}"})
        await send({"type": "websocket.close"})
        return
    body = f"hello {scope['path']}".encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]}
    )
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def listening(
    http_class: type[Any], config: ProtocolConfig, state: ProtocolServerState
) -> AsyncIterator[str]:
    """A plain asyncio server of ``http_class`` built with these keywords; yields its address."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: http_class(config=config, server_state=state, app_state={}), "127.0.0.1", 0
    )
    try:
        yield "127.0.0.1:%d" % server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for connection in list(state.connections):
            connection.shutdown()
        await server.wait_closed()


async def test_protocols_built_with_an_unloaded_config_load_it_on_first_use(http: str, ws: type[Any]) -> None:
    config = Config(app=hello, ws=ws, lifespan="off", log_config=None)
    assert not config.loaded
    async with listening(HTTP_CLASSES[http], config, ServerState()) as address:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://{address}/a")
        async with connect(f"ws://{address}/b") as websocket:
            message = await websocket.recv()
    assert config.loaded
    assert config.ws_protocol_class is ws
    assert (response.status_code, response.text, message) == (200, "hello /a", "hello /b")


def test_an_unloaded_config_loads_only_for_what_load_makes() -> None:
    config = Config(app=hello, log_config=None)
    assert not hasattr(config, "no_such_setting")
    assert not config.loaded  # an unknown name did not load it
    assert config.lifespan_class.__name__ == "LifespanOn"
    assert config.loaded


def test_core_hands_protocols_objects_that_fit_the_contract() -> None:
    config = Config(app=hello, log_config=None)
    config.load()
    state = ServerState()
    assert {name for name in protocol_members(ProtocolConfig) if not hasattr(config, name)} == set()
    assert {name for name in protocol_members(ProtocolServerState) if not hasattr(state, name)} == set()


def test_uvicorn_types_are_the_protocols_asgi_types() -> None:
    import uvicorn._types
    import uvicorn.protocols.asgi_types

    types, asgi_types = uvicorn._types, uvicorn.protocols.asgi_types
    # Every ASGI type is importable from core too, as the very same object.
    assert [
        name for name in asgi_types.__all__ if getattr(types, name, None) is not getattr(asgi_types, name)
    ] == []
    assert {"Environ", "ExcInfo", "StartResponse", "WSGIApp"} <= set(types.__all__)


def test_the_deprecation_warning_is_one_class_for_core_and_protocols() -> None:
    import uvicorn.config
    import uvicorn.protocols.contract

    assert uvicorn.config.UvicornDeprecationWarning is uvicorn.protocols.contract.UvicornDeprecationWarning
    assert issubclass(uvicorn.config.UvicornDeprecationWarning, UserWarning)
