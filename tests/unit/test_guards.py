"""The guards of `make lint` see the whole installed package and fail on a planted violation.

`serasan.operators`, `serasan.warehouse` and `serasan.expectations` live in top-level folders;
`tools/lint_tree.py` builds the installed layout for mypy and import-linter. These tests plant a
violation in a remapped folder and in the core, and check that each tool fails on it, so a guard
that silently stopped looking would be noticed.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_TREE = ROOT / "tools" / "lint_tree.py"


def _run(tmp_path: Path, tool: str, plant: dict[str, str], *extra: str) -> tuple[int, str]:
    args = [sys.executable, str(LINT_TREE), tool, "--tree", str(tmp_path / "tree")]
    for rel, source in plant.items():
        src = tmp_path / rel.replace("/", "_")
        src.write_text(source, encoding="utf-8")
        args += ["--plant", f"{src}={rel}"]
    proc = subprocess.run([*args, *extra], capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def test_the_installed_layout_holds_every_module(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import lint_tree
    finally:
        sys.path.pop(0)
    tree = lint_tree.build(tmp_path / "tree")
    for name, folder in lint_tree.package_dirs().items():
        for src in folder.glob("*.py"):
            assert (tree.joinpath(*name.split(".")) / src.name).resolve() == src.resolve()


def test_import_contracts_hold_on_the_real_tree(tmp_path: Path) -> None:
    code, out = _run(tmp_path, "imports", {})
    assert code == 0, out
    assert "BROKEN" not in out


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        (  # a remapped folder importing upwards
            "serasan/warehouse/_planted.py",
            "from serasan.operators import tasks\n",
            "serasan.warehouse._planted -> serasan.operators.tasks",
        ),
        (  # the core importing Airflow
            "serasan/parse/_planted.py",
            "import airflow.sdk\n",
            "serasan.parse._planted -> airflow",
        ),
        (  # a lower stage importing a higher one
            "serasan/config/_planted.py",
            "from serasan.quality import rules\n",
            "serasan.config._planted -> serasan.quality.rules",
        ),
    ],
)
def test_import_linter_fails_on_a_planted_violation(
    tmp_path: Path, where: str, source: str, expected: str
) -> None:
    code, out = _run(tmp_path, "imports", {where: source})
    assert code != 0
    assert expected in out


@pytest.mark.parametrize(
    ("where", "module"),
    [
        ("serasan/operators/_planted.py", "serasan.operators._planted"),
        ("serasan/warehouse/_planted.py", "serasan.warehouse._planted"),
        ("serasan/quality/_planted.py", "serasan.quality._planted"),
    ],
)
def test_mypy_fails_on_a_planted_type_error(tmp_path: Path, where: str, module: str) -> None:
    source = (
        "from serasan.common.clock import JAKARTA\n\n\ndef f() -> int:\n    return str(JAKARTA)\n"
    )
    code, out = _run(tmp_path, "mypy", {where: source}, "-m", module)
    assert code != 0
    assert "[return-value]" in out
    assert where.replace("/", "_") in out  # reported at the planted file's real path


def test_pyproject_lists_every_package() -> None:
    """A package missing from pyproject's list would vanish from a non-editable install."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = set()
    for name, folder in config["tool"]["setuptools"]["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            if "__pycache__" not in rel.parts:
                found.add(".".join([name, *rel.parts]))
    assert found == listed
