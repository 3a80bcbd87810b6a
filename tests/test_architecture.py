"""The import rule (routes -> domain areas' public faces -> cross-cutting modules -> tables, the areas
a downhill stack) is checked by import-linter with the contracts in pyproject.toml, here as well as
in `make lint`, so a wrong import fails CI. An upward import between areas is shown to break the
contracts on a copy of the tree, so the check is known to bite."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
FLAT_LIMIT = 23
# Top to bottom: each area may use the public faces of those below it (README, "Who may import whom").
AREAS_DOWNHILL = [
    "src.exports",
    "src.printing | src.reports",
    "src.connections",
    "src.documents",
    "src.accounts",
]
# Function-local imports of our own modules that are not there to dodge a cycle between areas.
LOCAL_IMPORTS_ALLOWED = {
    "src/cli.py",  # `portal` starts fast: each command imports only what it runs
}
pytestmark = pytest.mark.engine_free  # no database: run once, on SQLite, and not emptied before


def lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_areas_are_separate_layers_in_one_direction() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [layers] = [c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    start = layers.index(AREAS_DOWNHILL[0])
    assert layers[start : start + len(AREAS_DOWNHILL)] == AREAS_DOWNHILL
    assert layers[start - 1].startswith("src.routes | src.demo")


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("accounts", "connections"),
        ("accounts", "documents"),
        ("documents", "connections"),
        ("connections", "printing"),
        ("printing", "reports"),  # side by side: neither uses the other
        ("reports", "exports"),
    ],
)
def test_an_upward_import_between_areas_breaks_the_contracts(
    tmp_path: Path, importer: str, imported: str
) -> None:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "src" / importer / "upward.py").write_text(f"from src import {imported}\n")
    # The copy, not the installed tree, is what import-linter finds as `src`.
    result = lint_imports(tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert result.returncode != 0, result.stdout
    assert f"src.{importer}.upward -> src.{imported} (l.1)" in result.stdout


def _local_imports_of_our_modules(tree: ast.AST) -> list[int]:
    lines = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "src":
                    lines.append(node.lineno)
                elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "src" for a in node.names):
                    lines.append(node.lineno)
    return lines


def test_no_function_imports_one_of_our_modules_to_dodge_a_cycle() -> None:
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "src").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in LOCAL_IMPORTS_ALLOWED
        for line in _local_imports_of_our_modules(ast.parse(path.read_text()))
    }
    assert found == set()
    assert _local_imports_of_our_modules(ast.parse("def f():\n    from src import accounts\n")) == [2]


def test_src_stays_a_tree_of_areas() -> None:
    """Domain code lives in packages; only small cross-cutting modules stay flat in src/."""
    flat = sorted(p.name for p in (ROOT / "src").glob("*.py"))
    assert len(flat) <= FLAT_LIMIT, flat
    for area in ("accounts", "connections", "documents", "mail", "printing", "reports"):
        face = ROOT / "src" / area / "__init__.py"
        assert face.is_file(), area
        assert "__all__" in face.read_text(), f"src/{area}/__init__.py lists its public names"
