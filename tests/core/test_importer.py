"""import_from_string: what it returns, and which mistakes it names and which errors it lets through."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from uvicorn.importer import ImportFromStringError, import_from_string


@pytest.fixture
def make_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """Write real modules under a temporary sys.path entry; forget them afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(dotted: str, source: str) -> None:
        *packages, name = dotted.split(".")
        folder = tmp_path
        for package in packages:
            folder = folder / package
            folder.mkdir(exist_ok=True)
            (folder / "__init__.py").touch()
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
        created.append(dotted)

    yield make
    top_levels = {dotted.split(".")[0] for dotted in created}
    for name in list(sys.modules):
        if name.split(".")[0] in top_levels:
            del sys.modules[name]


def test_returns_the_named_attribute() -> None:
    from tempfile import TemporaryFile

    assert import_from_string("tempfile:TemporaryFile") is TemporaryFile


def test_nested_attribute_path(make_module: Callable[[str, str], None]) -> None:
    make_module(
        "impnested.mod",
        """
        class Outer:
            class Inner:
                value = 42
        """,
    )
    assert import_from_string("impnested.mod:Outer.Inner.value") == 42


def test_non_strings_are_returned_unchanged() -> None:
    app = object()
    assert import_from_string(app) is app


@pytest.mark.parametrize("import_str", ["example:", ":app", "example", ""])
def test_malformed_string(import_str: str) -> None:
    with pytest.raises(ImportFromStringError) as info:
        import_from_string(import_str)
    assert str(info.value) == f'Import string "{import_str}" must be in format "<module>:<attribute>".'


def test_missing_module() -> None:
    with pytest.raises(ImportFromStringError) as info:
        import_from_string("module_that_does_not_exist:app")
    assert str(info.value) == 'Could not import module "module_that_does_not_exist".'


def test_missing_parent_package_is_also_a_wrong_import_string() -> None:
    with pytest.raises(ImportFromStringError) as info:
        import_from_string("no_such_package.sub:app")
    assert str(info.value) == 'Could not import module "no_such_package.sub".'
    # Upstream lets ModuleNotFoundError through here: programs catching it still do.
    assert isinstance(info.value, ModuleNotFoundError)
    assert info.value.name == "no_such_package"


def test_missing_module_itself_is_not_an_import_error() -> None:
    # As upstream: only ImportFromStringError, so `except ImportError` does not hide the typo.
    with pytest.raises(ImportFromStringError) as info:
        import_from_string("module_that_does_not_exist:app")
    assert not isinstance(info.value, ImportError)


def test_missing_submodule_of_a_real_package(make_module: Callable[[str, str], None]) -> None:
    make_module("imppkg.present", "x = 1\n")
    with pytest.raises(ImportFromStringError) as info:
        import_from_string("imppkg.absent:app")
    assert str(info.value) == 'Could not import module "imppkg.absent".'


def test_missing_attribute() -> None:
    with pytest.raises(ImportFromStringError) as info:
        import_from_string("tempfile:attr_does_not_exist")
    assert str(info.value) == 'Attribute "attr_does_not_exist" not found in module "tempfile".'


def test_missing_nested_attribute_names_the_failing_step(make_module: Callable[[str, str], None]) -> None:
    make_module("impnested2", "class Outer:\n    pass\n")
    with pytest.raises(ImportFromStringError) as info:
        import_from_string("impnested2:Outer.missing")
    message = str(info.value)
    assert message.startswith('Attribute "Outer.missing" not found in module "impnested2".')
    assert '"Outer" has no attribute "missing"' in message


def test_import_error_inside_the_module_propagates(make_module: Callable[[str, str], None]) -> None:
    make_module("impbroken", "import a_dependency_that_is_not_installed\napp = 1\n")
    with pytest.raises(ModuleNotFoundError) as info:
        import_from_string("impbroken:app")
    assert not isinstance(info.value, ImportFromStringError)
    assert info.value.name == "a_dependency_that_is_not_installed"


def test_circular_import_propagates(make_module: Callable[[str, str], None]) -> None:
    make_module("impcircular.a", "from impcircular.b import foo\nbar = 1\n")
    make_module("impcircular.b", "from impcircular.a import bar\nfoo = 1\n")
    with pytest.raises(ImportError) as info:
        import_from_string("impcircular.a:bar")
    assert not isinstance(info.value, ImportFromStringError)
    assert "circular import" in str(info.value)


def test_other_errors_inside_the_module_propagate(make_module: Callable[[str, str], None]) -> None:
    make_module("impraises", "raise RuntimeError('boom at import')\n")
    with pytest.raises(RuntimeError, match="boom at import"):
        import_from_string("impraises:app")
