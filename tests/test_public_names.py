"""The notebooks call the library through public names only, and every module says which.

A notebook is the thin, visible end of the package (a partner copies it to start a new analysis):
a name it uses must be one the module promises to keep, i.e. listed in the module's ``__all__``.
"""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import pytest

import kpianalysis
from kpi_references import kpianalysis_references

PACKAGE = Path(kpianalysis.__file__).resolve().parent
NOTEBOOKS = PACKAGE.parents[1] / "notebooks"
#: Every module of the package (``__main__`` aside: importing it runs the command line).
MODULES = sorted(
    ".".join(("kpianalysis", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
        ".__init__"
    )
    for p in PACKAGE.rglob("*.py")
    if p.name != "__main__.py"
)


def notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def _public(module: str) -> set[str] | None:
    names = getattr(importlib.import_module(module), "__all__", None)
    return None if names is None else set(names)


def _is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        return False
    return True


def non_public_uses(code: str, where: str) -> list[str]:
    """Every ``kpianalysis`` name ``code`` imports or reaches as ``module.attr`` that its module
    does not list in ``__all__`` (or a module without ``__all__``), as ``"where: module.name"``."""
    tree = ast.parse(code)
    bad: list[str] = []

    def check(module: str, name: str) -> None:
        public = _public(module)
        if public is None:
            bad.append(f"{where}: {module} has no __all__ (uses {name})")
        elif name not in public:
            bad.append(f"{where}: {module}.{name}")

    for module, name, _, imported in kpianalysis_references(tree, _is_module):
        if not (imported and _is_module(f"{module}.{name}")):
            check(module, name)
    return sorted(set(bad))


def test_every_module_is_checked() -> None:
    # The layers' modules and the shared base, not only the report layer's (issue 20.3, 20.7).
    assert {"kpianalysis", "kpianalysis.errors", "kpianalysis.build.plan"} <= set(MODULES)
    assert {"kpianalysis.data.dataset", "kpianalysis.report.present"} <= set(MODULES)
    main = (PACKAGE / "__main__.py").read_text(encoding="utf-8")
    assert "__all__: list[str] = []" in main  # no public names: it only runs the CLI


@pytest.mark.parametrize("module", MODULES)
def test_every_module_declares_its_public_names(module: str) -> None:
    mod = importlib.import_module(module)
    assert isinstance(getattr(mod, "__all__", None), list), f"{module} has no __all__"
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert missing == []
    # Every public function and class defined at the top of the module is listed: a public name
    # left out would be used by notebooks without the module promising to keep it.
    tree = ast.parse(Path(str(mod.__file__)).read_text(encoding="utf-8"))
    defined = {
        n.name
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")
    }
    assert sorted(defined - set(mod.__all__)) == []


def test_the_notebooks_use_public_names_only() -> None:
    found = sorted(NOTEBOOKS.glob("*.ipynb"))
    # The shipped notebooks; a new one is checked as soon as it is added.
    assert {p.stem for p in found} >= {"attainment", "trends", "panel"}
    bad = [b for p in found for b in non_public_uses(notebook_code(p), p.name)]
    assert bad == []


def test_the_check_finds_private_and_unlisted_names() -> None:
    """Not vacuous: a private helper, an unlisted name and an unlisted attribute are reported."""
    code = (
        "from kpianalysis.report.labels import percent_text, _flag\n"
        "from kpianalysis.report import trends_views\n"
        "import kpianalysis.report.labels as L\n"
        "trends_views._sig(1.0, False)\n"
        "trends_views.trend_view\n"
        "L.pd\n"
    )
    assert non_public_uses(code, "x.ipynb") == [
        "x.ipynb: kpianalysis.report.labels._flag",
        "x.ipynb: kpianalysis.report.labels.pd",
        "x.ipynb: kpianalysis.report.trends_views._sig",
    ]
