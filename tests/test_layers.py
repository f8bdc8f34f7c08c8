"""Imports of simkit modules sit at the top of their modules (README, "Package structure").

import-linter (``make lint``) checks the layers and cycles but cannot tell an import at the
top from one inside a function, which hides a dependency and often a cycle.  There are none
left (annotation-only imports under ``if TYPE_CHECKING:`` are module level, not in a
function); a new one anywhere fails this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import simkit

PACKAGE = Path(simkit.__file__).parent


def _function_level_simkit_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and inner.level == 0 and inner.module:
                names = [inner.module]
            elif isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            else:
                continue
            found.update(n for n in names if n == "simkit" or n.startswith("simkit."))
    return found


def test_no_new_import_of_a_simkit_module_inside_a_function() -> None:
    found = {
        (path.relative_to(PACKAGE).as_posix(), module)
        for path in sorted(PACKAGE.rglob("*.py"))
        for module in _function_level_simkit_imports(path)
    }
    assert sorted(found) == []


def test_the_scan_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from simkit.errors import SimkitError\n"
        "def f():\n"
        "    from simkit.data import load\n"
        "    import simkit.risk\n"
        "    import numpy\n"
    )
    assert _function_level_simkit_imports(source) == {"simkit.data", "simkit.risk"}
