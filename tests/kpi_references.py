"""What a source takes from ``kpianalysis``, read from its syntax tree.

Two architecture tests need it: ``test_layers`` (no private name crosses a module) and
``test_public_names`` (notebooks use only names in ``__all__``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator


def kpianalysis_references(
    tree: ast.AST, is_module: Callable[[str], bool]
) -> Iterator[tuple[str, str, int, bool]]:
    """``(module, name, line, imported)`` for each name ``tree`` takes from ``kpianalysis``.

    ``from kpianalysis.x import n`` gives ``("kpianalysis.x", "n", line, True)``; when
    ``kpianalysis.x.n`` is itself a module (``is_module``), the local name stands for it, and
    ``n.attr`` later gives ``("kpianalysis.x.n", "attr", line, False)``; so does ``y.attr`` after
    ``import kpianalysis.y as y``.
    """
    aliases: dict[str, str] = {}  # local name → kpianalysis module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kpianalysis"):
            for a in node.names:
                yield str(node.module), a.name, node.lineno, True
                if is_module(f"{node.module}.{a.name}"):
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("kpianalysis") and a.asname:
                    aliases[a.asname] = a.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            yield aliases[node.value.id], node.attr, node.lineno, False
