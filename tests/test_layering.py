"""The layering contract theory ← solvers ← properties ← pamdp (import-linter, pyproject.toml).

``./run test`` runs ``lint-imports`` on the tree; this test shows that the contract has teeth:
a copy of the four packages passes, and the same copy with one planted upward import (theory
importing solvers) fails, naming the offending import.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("theory", "solvers", "properties", "pamdp")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    config = tree / "pyproject.toml"
    config.write_text(
        f"[tool.importlinter]\nroot_packages = {list(PACKAGES)!r}\n".replace("'", '"')
        + "\n[[tool.importlinter.contracts]]\n"
        'name = "layers"\ntype = "layers"\n'
        'layers = ["pamdp", "properties", "solvers", "theory"]\n'
    )
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint), "--config", str(config), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )


def test_contract_passes_and_fails_on_a_planted_upward_import(tmp_path):
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    clean = _lint(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (tmp_path / "theory" / "planted.py").write_text("import solvers.solve  # upward\n")
    planted = _lint(tmp_path)
    assert planted.returncode != 0
    assert "theory.planted -> solvers.solve" in planted.stdout
