"""Run mypy and import-linter on the package as it is installed, remapped folders included.

`serasan.operators`, `serasan.warehouse` and `serasan.expectations` live in top-level folders
(`operators/`, `warehouse/`, `expectations/`) mapped by pyproject's `package-dir`. Neither mypy
nor import-linter follows that mapping, so this builds the installed layout as a tree of real
folders and symlinked files under `.serasan/lint-tree/` (rebuilt on every run, so a new module
is never missed), runs the tool there, and maps the paths in its output back to the real files.

    python tools/lint_tree.py mypy            # mypy -p serasan, config from pyproject.toml
    python tools/lint_tree.py imports         # lint-imports, contracts from pyproject.toml
    python tools/lint_tree.py mypy --plant FILE=serasan/operators/_planted.py \\
        -m serasan.operators._planted        # the guard tests plant a violation
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / ".serasan" / "lint-tree"


def package_dirs(root: Path = ROOT) -> dict[str, Path]:
    """Package name -> the folder that holds it, as pyproject's package-dir maps them."""
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = config["tool"]["setuptools"]["package-dir"]
    return {name: root / folder for name, folder in mapping.items()}


def build(dest: Path = TREE, root: Path = ROOT, plant: dict[str, Path] | None = None) -> Path:
    """The installed layout under `dest`: real folders, symlinked files; returns `dest`."""
    if dest.exists():
        shutil.rmtree(dest)
    mapped = package_dirs(root)
    for name, folder in sorted(mapped.items(), key=lambda kv: kv[0].count(".")):
        target = dest.joinpath(*name.split("."))
        others = [f for n, f in mapped.items() if n != name and n.startswith(name + ".")]
        for src in folder.rglob("*.py"):
            if any(src.is_relative_to(o) for o in others) or "__pycache__" in src.parts:
                continue
            link = target / src.relative_to(folder)
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(src)
    for rel, src in (plant or {}).items():
        link = dest / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(src.resolve())
    return dest


def _real(line: str, tree: Path, root: Path) -> str:
    """A path in the tree's output, as the real file it links to."""
    prefix = str(tree) + os.sep
    out = []
    for word in line.split(" "):
        head, sep, tail = word.partition(":")
        candidate = head if head.startswith(prefix) else str(tree / head)
        if head.endswith(".py") and os.path.islink(candidate):
            real = Path(os.readlink(candidate))
            word = str(real.relative_to(root)) if real.is_relative_to(root) else str(real)
            word += sep + tail
        out.append(word)
    return " ".join(out)


def run(tool: str, tree: Path, root: Path = ROOT, modules: list[str] | None = None) -> int:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PYTHONPATH": str(tree), "MYPYPATH": str(tree)}
    if tool == "mypy":
        cmd = [
            str(bin_dir / "mypy"),
            "--config-file",
            str(root / "pyproject.toml"),
            "--cache-dir",
            str(root / ".serasan" / "mypy-cache"),
        ]
        cmd += [a for m in modules for a in ("-m", m)] if modules else ["-p", "serasan"]
    else:
        cmd = [
            str(bin_dir / "lint-imports"),
            "--config",
            str(root / "pyproject.toml"),
            "--no-cache",
        ]
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    for stream, target in ((proc.stdout, sys.stdout), (proc.stderr, sys.stderr)):
        for line in stream.splitlines():
            print(_real(line, tree, root), file=target)
    return proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tool", choices=["mypy", "imports"], help="the checker to run")
    parser.add_argument("--tree", type=Path, default=TREE, help="where to build the layout")
    parser.add_argument(
        "--plant",
        action="append",
        default=[],
        metavar="FILE=REL",
        help="add FILE to the tree at REL (the guard tests plant violations)",
    )
    parser.add_argument(
        "-m",
        "--module",
        action="append",
        default=[],
        help="mypy: check only these modules (default: the whole package)",
    )
    args = parser.parse_args(argv)
    plant = {}
    for item in args.plant:
        src, _, rel = item.partition("=")
        plant[rel] = Path(src)
    tree = build(args.tree, ROOT, plant)
    return run(args.tool, tree, ROOT, args.module)


if __name__ == "__main__":
    sys.exit(main())
