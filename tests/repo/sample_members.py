"""The ``members`` sample: classes shown in the docs member for member as a module defines them.

    <!-- sample: members of=uvicorn.protocols.contract -->
    ```python
    class ProtocolConfig(Protocol):
        root_path: str
        ...
    ```

Each class of the block must exist in the module with exactly the members shown:
an annotated name for an attribute or a property (same type, as written), a
``def`` for a method (same parameters). Every ``typing.Protocol`` the module lists
in ``__all__`` must be shown, so the page cannot fall behind the code.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from typing import Any

from tests.repo.doc_samples import Sample


def _normalised(annotation: str) -> str:
    return ast.unparse(ast.parse(annotation, mode="eval"))


def documented_members(node: ast.ClassDef) -> dict[str, str]:
    """``{name: annotation}`` for attributes, ``{name: "(parameters)"}`` for methods."""
    members: dict[str, str] = {}
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            members[item.target.id] = ast.unparse(item.annotation)
        elif isinstance(item, ast.FunctionDef):
            members[item.name] = "(" + ", ".join(argument.arg for argument in item.args.args) + ")"
    return members


def defined_members(cls: type) -> dict[str, str]:
    """The same for a class as defined: its annotations, properties (their return type) and methods."""
    members = {
        name: _normalised(str(annotation))
        for name, annotation in vars(cls).get("__annotations__", {}).items()
    }
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            members[name] = _normalised(str(value.fget.__annotations__["return"]))  # type: ignore[union-attr]
        elif inspect.isfunction(value):
            members[name] = "(" + ", ".join(inspect.signature(value).parameters) + ")"
    return members


def _is_protocol(value: Any) -> bool:
    return isinstance(value, type) and bool(getattr(value, "_is_protocol", False))


def run_members(sample: Sample, workspace: object) -> None:
    module = importlib.import_module(sample.option("of"))
    shown = {node.name: node for node in ast.parse(sample.code).body if isinstance(node, ast.ClassDef)}
    assert shown, "a members sample shows at least one class"
    for name, node in shown.items():
        cls = getattr(module, name, None)
        assert isinstance(cls, type), f"{module.__name__} has no class {name}"
        documented, defined = documented_members(node), defined_members(cls)
        assert documented == defined, f"{name}: the page shows {documented}, the code has {defined}"
    protocols = {name for name in getattr(module, "__all__", ()) if _is_protocol(getattr(module, name))}
    assert protocols <= set(shown), f"not shown: {sorted(protocols - set(shown))}"
