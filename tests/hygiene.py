"""An import-hygiene checker for a Python package, on the standard library's `ast` alone.

Three kinds of finding, each a `Violation` that prints as `path:line: message`:

* **cycles** (`find_cycles`): modules of the package that import each other, directly or
  round a longer loop. Every import counts: at module level, under `if TYPE_CHECKING:`,
  inside a function, absolute or relative (`from . import x`, `from .a import b`, where
  `b` may be a submodule of `a`). An edge goes to the most specific module named (the
  submodule when `from pkg import sub` names one, else `pkg` itself); the package
  `__init__`s that Python runs on the way are not counted as edges. One violation per
  strongly connected knot of modules, naming one concrete loop in it.
* **private names** (`find_private_uses`): a name starting with one underscore (not a
  dunder) used outside the module that defines it:
  - `from pkg.mod import _x`, `import pkg._mod` (a private submodule may be imported from
    inside its own package);
  - `obj._x` where `_x` is not defined anywhere in this module (a `def`, a `class`, an
    assignment to a name or attribute, a parameter, an import alias). With
    `strict_receivers=True`, `obj._x` on anything but `self`, `cls` or `super()` is a
    violation even when `_x` is defined here;
  - `self._x` / `cls._x` / `super()._x` where `_x` is not defined in this module: a
    private of a base class from elsewhere (say Textual's `self._bindings`).
  Dunders are fine, and so are namedtuple's `_fields`, `_replace`, `_asdict`, `_make` and
  `_field_defaults`. A module whose file name ends in `_compat.py` is exempt: that is where
  a framework's internals are confined.
* **layers** (`check_layers`): rules as data (`LayerRule`). A pattern `a.b` matches the
  module `a.b` and everything below it; `=a.b` matches `a.b` only. Imports of modules
  outside the package (say `textual.widgets`) are matched by their dotted name too.

`check(root, rules)` runs all three and returns the human-readable lines.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

NAMEDTUPLE_API = frozenset({"_fields", "_replace", "_asdict", "_make", "_field_defaults"})
COMPAT_SUFFIX = "_compat.py"
RECEIVERS = frozenset({"self", "cls"})
ATTRIBUTE_CALLS = frozenset({"getattr", "hasattr", "setattr", "delattr"})
MANGLED = re.compile(r"__[A-Za-z]\w*(?<!__)")  # a name-mangled attribute, never a dunder

CYCLE = "import cycle"
PRIVATE_IMPORT = "private import"
PRIVATE_ATTRIBUTE = "private attribute"
REGULAR_PACKAGE = "regular package"


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Import:
    """One imported module, as resolved: `target` is dotted, inside the package or not."""

    target: str
    line: int
    type_checking: bool
    in_function: bool

    def where(self) -> str:
        notes = []
        if self.type_checking:
            notes.append("under TYPE_CHECKING")
        if self.in_function:
            notes.append("inside a function")
        return f" ({', '.join(notes)})" if notes else ""


@dataclass
class Module:
    name: str
    path: Path  # as shown in messages
    is_package: bool
    tree: ast.Module
    imports: list[Import] = field(default_factory=list)

    @property
    def package(self) -> str:
        """The package relative imports start from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]

    @property
    def is_compat(self) -> bool:
        return self.path.name.endswith(COMPAT_SUFFIX)


@dataclass(frozen=True)
class LayerRule:
    """Modules matching `sources` (less `except_sources`) must not import modules matching
    `forbidden` (less `allowed`). Patterns: `a.b` is `a.b` and below, `=a.b` only `a.b`."""

    name: str
    sources: tuple[str, ...]
    forbidden: tuple[str, ...]
    except_sources: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()

    def applies_to(self, module: str) -> bool:
        return matches_any(module, self.sources) and not matches_any(module, self.except_sources)

    def forbids(self, target: str) -> bool:
        return matches_any(target, self.forbidden) and not matches_any(target, self.allowed)


def matches(name: str, pattern: str) -> bool:
    if pattern.startswith("="):
        return name == pattern[1:]
    return name == pattern or name.startswith(pattern + ".")


def matches_any(name: str, patterns: Iterable[str]) -> bool:
    return any(matches(name, p) for p in patterns)


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


# -- reading a package ----------------------------------------------------------------


def load_package(root: Path) -> dict[str, Module]:
    """Every module under the package directory `root`, by dotted name, imports resolved."""
    root = Path(root)
    shown_from = root.parent
    modules: dict[str, Module] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(shown_from).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules[name] = Module(name, path.relative_to(shown_from), is_package, tree)
    for module in modules.values():
        module.imports = _Imports(module, modules).collect()
    return modules


class _Imports(ast.NodeVisitor):
    def __init__(self, module: Module, modules: dict[str, Module]) -> None:
        self.module = module
        self.known = modules
        self.found: list[Import] = []
        self.type_checking = 0
        self.functions = 0

    def collect(self) -> list[Import]:
        self.visit(self.module.tree)
        return self.found

    def _add(self, target: str, node: ast.stmt) -> None:
        found = Import(target, node.lineno, self.type_checking > 0, self.functions > 0)
        if found not in self.found:  # `from m import a, b` is one import of m
            self.found.append(found)

    def visit_If(self, node: ast.If) -> None:
        guarded = _is_type_checking(node.test)
        self.type_checking += guarded
        for child in node.body:
            self.visit(child)
        self.type_checking -= guarded
        for child in node.orelse:
            self.visit(child)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.functions += 1
        self.generic_visit(node)
        self.functions -= 1

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions += 1
        self.generic_visit(node)
        self.functions -= 1

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._base(node)
        if base is None:
            return
        for alias in node.names:
            sub = f"{base}.{alias.name}" if base else alias.name
            self._add(sub if sub in self.known else base, node)

    def _base(self, node: ast.ImportFrom) -> str | None:
        if not node.level:
            return node.module or ""
        parts = self.module.package.split(".")
        if node.level - 1 >= len(parts):
            return None  # beyond the top of the package: Python refuses it too
        base = ".".join(parts[: len(parts) - (node.level - 1)])
        return f"{base}.{node.module}" if node.module else base


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


# -- cycles -------------------------------------------------------------------------------


def find_cycles(modules: dict[str, Module]) -> list[Violation]:
    graph: dict[str, dict[str, Import]] = {}
    for name, module in modules.items():
        edges: dict[str, Import] = {}
        for imp in module.imports:
            if imp.target in modules and imp.target != name:
                edges.setdefault(imp.target, imp)
        graph[name] = edges
    violations = []
    for knot in _strongly_connected(graph):
        if len(knot) < 2:
            continue
        start = min(knot)
        loop = _shortest_loop(graph, start, knot)
        first = graph[loop[0]][loop[1]]
        hops = []
        for a, b in zip(loop, loop[1:], strict=False):
            edge = graph[a][b]
            hops.append(f"{modules[a].path}:{edge.line} imports {b}{edge.where()}")
        more = ""
        if len(knot) > len(loop) - 1:
            more = f"; the knot has {len(knot)} modules: {', '.join(sorted(knot))}"
        message = f"{CYCLE}: {' -> '.join(loop)} ({'; '.join(hops)}){more}"
        violations.append(Violation(modules[start].path, first.line, CYCLE, message))
    return violations


def _strongly_connected(graph: dict[str, dict[str, Import]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative, so no package is too deep for the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    knots: list[set[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                knot: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    knot.add(member)
                    if member == node:
                        break
                knots.append(knot)
    return knots


def _shortest_loop(graph: dict[str, dict[str, Import]], start: str, knot: set[str]) -> list[str]:
    """start -> ... -> start, by breadth-first search inside the knot."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in sorted(graph[node]):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if nxt in knot and nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"{start} is in a knot but on no loop")  # pragma: no cover


# -- private names ------------------------------------------------------------------------


def find_private_uses(
    modules: dict[str, Module], *, strict_receivers: bool = False
) -> list[Violation]:
    violations: list[Violation] = []
    for module in modules.values():
        if module.is_compat:
            continue
        violations += _private_imports(module, modules)
        violations += _private_attributes(module, strict_receivers)
    return sorted(set(violations), key=lambda v: (str(v.path), v.line, v.message))


def _private_imports(module: Module, modules: dict[str, Module]) -> list[Violation]:
    found: list[Violation] = []

    def report(node: ast.stmt, what: str) -> None:
        found.append(Violation(module.path, node.lineno, PRIVATE_IMPORT, what))

    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _private_module_outside(alias.name, module):
                    report(node, f"imports the private module {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            base = _Imports(module, modules)._base(node) if node.level else node.module
            if base is None:
                continue
            if _private_module_outside(base, module):
                report(node, f"imports from the private module {base}")
                continue
            for alias in node.names:
                if not is_private(alias.name):
                    continue
                sub = f"{base}.{alias.name}"
                if sub in modules and _inside(module, sub.rpartition(".")[0]):
                    continue  # a private submodule, from inside its own package
                report(node, f"imports the private name {alias.name} from {base}")
    return found


def _private_module_outside(dotted: str, module: Module) -> bool:
    """Whether a dotted module name has a private part that `module` is not inside of."""
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if is_private(part) and not _inside(module, ".".join(parts[:i])):
            return True
    return False


def _inside(module: Module, package: str) -> bool:
    return bool(package) and matches(module.package, package)


def _private_attributes(module: Module, strict_receivers: bool) -> list[Violation]:
    defined = _defined_names(module.tree)
    found: list[Violation] = []
    for node in ast.walk(module.tree):
        named = _named_by_string(node)
        if named is not None and (named not in defined or MANGLED.fullmatch(named)):
            message = f"names the private attribute {named!r} in a string (not its own)"
            found.append(Violation(module.path, node.lineno, PRIVATE_ATTRIBUTE, message))
            continue
        if not isinstance(node, ast.Attribute) or not is_private(node.attr):
            continue
        if node.attr in NAMEDTUPLE_API:
            continue
        own = _is_own_receiver(node.value)
        if node.attr in defined and (own or not strict_receivers):
            continue
        if isinstance(node.ctx, ast.Store) and own:
            continue  # assigning it defines it (counted in `defined` anyway)
        receiver = ast.unparse(node.value)
        if len(receiver) > 40:
            receiver = receiver[:37] + "..."
        why = (
            "not defined in this module"
            if node.attr not in defined
            else "on another object than self/cls"
        )
        found.append(
            Violation(
                module.path,
                node.lineno,
                PRIVATE_ATTRIBUTE,
                f"uses the private attribute {receiver}.{node.attr} ({why})",
            )
        )
    return found


def _named_by_string(node: ast.AST) -> str | None:
    """A private attribute reached by its name in a string: `getattr(x, "_y")` (and
    hasattr, setattr, delattr), or another class's name-mangled `"__y"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if MANGLED.fullmatch(node.value) else None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ATTRIBUTE_CALLS
        and len(node.args) > 1
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
        and is_private(node.args[1].value)
        and not MANGLED.fullmatch(node.args[1].value)  # reported once, as the constant
    ):
        return node.args[1].value
    return None


def _is_own_receiver(value: ast.expr) -> bool:
    if isinstance(value, ast.Name):
        return value.id in RECEIVERS
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "super"
    )


def _defined_names(tree: ast.Module) -> set[str]:
    """Every name this module defines or assigns, anywhere, by any means."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
    return names


# -- layers -------------------------------------------------------------------------------


def check_layers(modules: dict[str, Module], rules: Sequence[LayerRule]) -> list[Violation]:
    violations: list[Violation] = []
    for module in modules.values():
        for rule in rules:
            if not rule.applies_to(module.name):
                continue
            for imp in module.imports:
                if imp.target != module.name and rule.forbids(imp.target):
                    violations.append(
                        Violation(
                            module.path,
                            imp.line,
                            rule.name,
                            f"{rule.name}: {module.name} imports {imp.target}{imp.where()}",
                        )
                    )
    return sorted(violations, key=lambda v: (str(v.path), v.line, v.message))


def check_regular_packages(root: Path, packages: Iterable[str]) -> list[Violation]:
    """Each named folder under `root` exists and has an `__init__.py`."""
    root = Path(root)
    found = []
    for name in packages:
        folder = root / name.replace(".", "/")
        if not (folder / "__init__.py").is_file():
            shown = folder.relative_to(root.parent)
            message = f"{REGULAR_PACKAGE}: {shown} is not a regular package (no __init__.py)"
            found.append(Violation(shown, 0, REGULAR_PACKAGE, message))
    return found


def check(
    root: Path,
    rules: Sequence[LayerRule] = (),
    *,
    regular_packages: Iterable[str] = (),
    strict_receivers: bool = False,
) -> list[str]:
    """Every finding for the package directory `root`, as `path:line: message` lines."""
    violations = run(
        root, rules, regular_packages=regular_packages, strict_receivers=strict_receivers
    )
    return [str(v) for v in violations]


def run(
    root: Path,
    rules: Sequence[LayerRule] = (),
    *,
    regular_packages: Iterable[str] = (),
    strict_receivers: bool = False,
) -> list[Violation]:
    modules = load_package(root)
    return [
        *check_regular_packages(root, regular_packages),
        *find_cycles(modules),
        *find_private_uses(modules, strict_receivers=strict_receivers),
        *check_layers(modules, rules),
    ]
