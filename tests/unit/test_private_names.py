"""No code in kaiku_tui/ui reaches for another module's private names.

A name beginning with `_` (not a dunder) read as an attribute, or named in a
string to getattr/hasattr/setattr, must be one kaiku_tui defines itself: a
function, class, parameter or attribute it assigns. Textual's private insides
are allowed in kaiku_tui/ui/textual_compat.py alone.

(Outside ui/, the command line's `argparse._SubParsersAction` annotations and
ingest's `NamedTuple._fields` are the standard library's; not checked here.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import kaiku_tui

PACKAGE = Path(kaiku_tui.__file__).parent
ALLOWED = {PACKAGE / "ui" / "textual_compat.py"}
MANGLED = re.compile(r"__[A-Za-z]\w*(?<!__)")
ATTRIBUTE_CALLS = {"getattr", "hasattr", "setattr", "delattr"}


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def defined(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
    return names


def used(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and private(node.attr):
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if MANGLED.fullmatch(node.value):  # another class's name-mangled attribute
                found.append((node.lineno, node.value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ATTRIBUTE_CALLS
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and node.args[1].value.startswith("_")
        ):
            found.append((node.lineno, node.args[1].value))
    return found


def strays(path: Path, tree: ast.AST, ours: set[str]) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {name}"
        for line, name in used(tree)
        if name not in ours or MANGLED.fullmatch(name)
    ]


def test_no_private_name_of_another_module_is_used_in_the_ui() -> None:
    trees = {path: ast.parse(path.read_text(), str(path)) for path in PACKAGE.rglob("*.py")}
    ours = set().union(*(defined(tree) for tree in trees.values()))
    found = [
        stray
        for path, tree in sorted(trees.items())
        if path.parent == PACKAGE / "ui" and path not in ALLOWED
        for stray in strays(path, tree, ours)
    ]
    assert not found, "private names of other modules (Textual's go in textual_compat.py):\n" + (
        "\n".join(found)
    )
    # The check sees what the compat module is there for.
    compat = PACKAGE / "ui" / "textual_compat.py"
    seen = {stray.rsplit(": ", 1)[1] for stray in strays(compat, trees[compat], ours)}
    assert {"_bindings", "__watchers", "_closing"} <= seen, seen
