"""The layout holds: test modules stand alone, and ``ivr/`` stays a small root with rooms.

A test module that imports another test module (or ``bench``) runs that module's
import-time code, ties two test files together and hides shared helpers where
nobody looks for them: what tests share lives in ``tests/support`` and
``tests/conftest.py``. Every file under ``tests/`` is read with ``ast``, so an
import inside a function, a relative import or ``from tests.x import test_y``
counts as much as a plain ``import``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
IVR = ROOT / "ivr"
MAX_TOP_LEVEL_MODULES = 8
DYNAMIC_IMPORTS = frozenset({"import_module", "__import__"})


def module_of(path: Path) -> tuple[str, bool]:
    """The dotted name of a source file under the repository, and whether it is a package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def is_module(name: str) -> bool:
    """Whether a dotted name is a module or package file of this repository."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def forbidden(name: str) -> bool:
    """``bench`` or anything in it, or a test module (``test_*``) anywhere under ``tests``."""
    parts = name.split(".")
    if parts[0] == "bench":
        return True
    return parts[0] == "tests" and any(part.startswith("test_") for part in parts[1:])


def absolute(node: ast.ImportFrom, package: str) -> str:
    """The module a ``from ... import`` reads, with a relative one resolved against ``package``."""
    if node.level == 0:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """Each module a source file imports, with its line: statements and literal dynamic imports."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = absolute(node, package)
            yield node.lineno, base
            # ``from <package> import test_x`` imports the module test_x by name.
            for alias in node.names:
                if alias.name != "*" and is_module(f"{base}.{alias.name}"):
                    yield node.lineno, f"{base}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if (
                name in DYNAMIC_IMPORTS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                yield node.lineno, first.value


def violations(path: Path, source: str) -> list[str]:
    """``file:line: imports name`` for each import of a test module or of ``bench``."""
    module, is_package = module_of(path)
    where = path.relative_to(ROOT).as_posix()
    return [
        f"{where}:{line}: imports {name}"
        for line, name in sorted(set(imported(source, module, is_package)))
        if forbidden(name)
    ]


def test_no_test_module_imports_another_test_module_or_bench() -> None:
    """No file under tests/ imports a tests.<...>.test_* module or bench; file and line named."""
    files = sorted(TESTS.rglob("*.py"))
    assert Path(__file__).resolve() in files
    assert len(files) > 50, "the scan found the test files"
    found = [v for path in files for v in violations(path, path.read_text(encoding="utf-8"))]
    assert found == [], "\n".join(found)


def test_the_import_check_sees_every_form_of_import() -> None:
    """Plain, from, relative, from-package, local and importlib imports are all reported."""
    path = TESTS / "app" / "test_example.py"
    # Spelled out of parts, so that a grep of tests/ for such imports finds no sample here.
    bench, flows, dialplan = "bench", "tests.flows", "tests.dialplan"
    source = (
        f"import {bench}\n"
        f"from {bench}.load import run_load\n"
        f"from {flows}.test_support_line import played\n"
        f"from {flows} import test_support_line\n"
        "from ..flows.test_hostile import KEYS\n"
        "from . import test_soak\n"
        f"import {dialplan}.test_dialplan as dialplan\n"
        "def helper() -> None:\n"
        "    import importlib\n"
        f"    importlib.import_module('{bench}.common')\n"
        "from tests.support.calls import played\n"
        "from tests.support import dialplan\n"
        "from tests.conftest import settings\n"
    )
    assert violations(path, source) == [
        "tests/app/test_example.py:1: imports bench",
        "tests/app/test_example.py:2: imports bench.load",
        "tests/app/test_example.py:3: imports tests.flows.test_support_line",
        "tests/app/test_example.py:4: imports tests.flows.test_support_line",
        "tests/app/test_example.py:5: imports tests.flows.test_hostile",
        "tests/app/test_example.py:6: imports tests.app.test_soak",
        "tests/app/test_example.py:7: imports tests.dialplan.test_dialplan",
        "tests/app/test_example.py:10: imports bench.common",
    ]


def test_ivr_root_holds_at_most_eight_modules() -> None:
    """ivr/ has at most eight modules of its own (__init__.py counted); the rest live in rooms."""
    modules = sorted(path.name for path in IVR.glob("*.py"))
    assert "__init__.py" in modules
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, modules


def test_every_ivr_package_has_an_init_with_a_docstring() -> None:
    """Every directory of Python code under ivr/ is a package whose __init__.py has a docstring."""
    packages = [
        directory
        for directory in [IVR, *IVR.rglob("*")]
        if directory.is_dir() and directory.name != "__pycache__" and any(directory.rglob("*.py"))
    ]
    assert len(packages) > 1, "the scan found the rooms"
    missing: list[str] = []
    for directory in packages:
        init = directory / "__init__.py"
        where = init.relative_to(ROOT).as_posix()
        if not init.is_file():
            missing.append(f"{where}: missing")
        elif not (ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or "").strip():
            missing.append(f"{where}: no docstring")
    assert missing == [], "\n".join(missing)
