"""The import rule (routes -> domain areas' public faces -> cross-cutting modules -> tables) is
checked by import-linter with the contracts in pyproject.toml, here as well as in `make lint`, so
a wrong import fails CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAT_LIMIT = 22


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_src_stays_a_tree_of_areas() -> None:
    """Domain code lives in packages; only small cross-cutting modules stay flat in src/."""
    flat = sorted(p.name for p in (ROOT / "src").glob("*.py"))
    assert len(flat) <= FLAT_LIMIT, flat
    for area in ("accounts", "connections", "documents", "mail", "printing", "reports"):
        face = ROOT / "src" / area / "__init__.py"
        assert face.is_file(), area
        assert "__all__" in face.read_text(), f"src/{area}/__init__.py lists its public names"
