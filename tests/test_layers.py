"""The package's import graph: layers import downward only, no cycle, no private name shared.

Layers, lowest first: the shared base (``errors``, ``fileio``, ``paths``, ``reasons``,
``words``), ``data``, ``analysis``, ``report``, ``build``, then the entry points (``cli``,
``__main__``). Every import counts, including those deferred into a function body: a deferred
import hides a cycle from Python's import machinery, not from a reader.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

import kpianalysis
from kpi_references import kpianalysis_references

PACKAGE = Path(kpianalysis.__file__).resolve().parent
RANK = {"base": 0, "data": 1, "analysis": 2, "report": 3, "build": 4, "entry": 5}
BASE = {"errors", "fileio", "paths", "reasons", "words", "__init__"}
ENTRY = {"cli", "__main__"}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    rel = path.relative_to(package).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(["kpianalysis", *parts])


def layer_of(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts:
        return "base"
    if parts[0] in RANK and len(parts) >= 1 and parts[0] not in ("base", "entry"):
        return parts[0]
    if parts[0] in ENTRY:
        return "entry"
    if parts[0] in BASE:
        return "base"
    raise AssertionError(f"{module} is in no layer: put it in a subpackage or the base")


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every kpianalysis import in the file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [
                (a.name, [], node.lineno) for a in node.names if a.name.startswith("kpianalysis")
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("kpianalysis"):
                continue
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                if sub in known:  # `from kpianalysis.analysis import progress`
                    out.append((sub, [], node.lineno))
                else:
                    out.append((node.module, [a.name], node.lineno))
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for m, path in mods.items():
        for target, _, _ in imports_of(path, known):
            if target != m and target in known and target != "kpianalysis":
                edges[m].add(target)
    return edges


def test_every_module_has_a_layer() -> None:
    names = sorted(modules())
    assert "kpianalysis.analysis.tables" in names and "kpianalysis.build.pipeline" in names
    for m in names:
        layer_of(m)


def upward_imports(package: Path) -> list[str]:
    mods = modules(package)
    bad = []
    for m, path in mods.items():
        for target, _, line in imports_of(path, set(mods)):
            if target == "kpianalysis" or target not in mods:
                continue
            if RANK[layer_of(target)] > RANK[layer_of(m)]:
                bad.append(f"{m}:{line} imports {target} ({layer_of(m)} → {layer_of(target)})")
    return bad


def test_imports_go_downward_only() -> None:
    assert upward_imports(PACKAGE) == []


def test_no_import_cycle() -> None:
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                cycles.append([*stack[stack.index(n) :], n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert cycles == []


def test_no_private_name_crosses_a_module() -> None:
    mods = modules()
    bad = []
    for m, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for module, name, line, imported in kpianalysis_references(tree, mods.__contains__):
            if name.startswith("_") and not name.startswith("__"):
                verb = "imports" if imported else "uses"
                bad.append(f"{m}:{line} {verb} {module}.{name}")
    assert bad == []


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("kpianalysis.data.notation", "data"),
        ("kpianalysis.analysis.measures", "analysis"),
        ("kpianalysis.report.sections", "report"),
        ("kpianalysis.build.archive", "build"),
        ("kpianalysis.fileio", "base"),
        ("kpianalysis.cli", "entry"),
    ],
)
def test_layer_of(module: str, layer: str) -> None:
    assert layer_of(module) == layer


def test_the_check_finds_an_upward_import(tmp_path: Path) -> None:
    """The check is not vacuous: an upward import planted in a copy of the package is reported."""
    copy = tmp_path / "kpianalysis"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert upward_imports(copy) == []
    (copy / "data" / "planted.py").write_text("from kpianalysis.report import sections\n")
    assert upward_imports(copy) == [
        "kpianalysis.data.planted:1 imports kpianalysis.report.sections (data → report)"
    ]
