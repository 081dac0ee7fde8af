"""tests/hygiene.py finds what it should in planted packages, and nothing in a clean one."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from tests import hygiene
from tests.hygiene import LayerRule, Violation

LINE = re.compile(r"^[^:\s]+\.py:\d+: \S.*$")


def plant(tmp_path: Path, files: dict[str, str]) -> Path:
    """Write a package `pkg` (and its subpackages) under tmp_path; return its folder."""
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def rules_of(found: list[Violation]) -> list[str]:
    return [v.rule for v in found]


CLEAN = {
    "a.py": """
        from __future__ import annotations

        from collections import namedtuple
        from typing import TYPE_CHECKING

        from pkg.b import helper
        from pkg import c

        if TYPE_CHECKING:
            from pkg.c import Thing

        Point = namedtuple("Point", "x y")


        class Box:
            _shared = 1

            def __init__(self) -> None:
                self._inside = helper()

            def value(self, other: Box, thing: Thing) -> int:
                p = Point(1, 2)._replace(x=3)
                fields = Point._fields, p._asdict(), Point._make([1, 2])
                return self._inside + other._inside + self._shared + len(self.__dict__)

            def _own(self) -> int:
                return type(self)._shared + c.VALUE
    """,
    "b.py": """
        def helper() -> int:
            from pkg.c import VALUE
            return VALUE
    """,
    "c.py": """
        VALUE = 1

        class Thing:
            pass
    """,
    "sub/__init__.py": "from pkg.sub.mod import run\n",
    "sub/mod.py": """
        from ..c import VALUE
        from . import _impl

        def run() -> int:
            return VALUE + _impl.X
    """,
    "sub/_impl.py": "X = 1\n",
}


def test_a_clean_package_passes(tmp_path: Path) -> None:
    root = plant(tmp_path, CLEAN)
    rules = [LayerRule("no c from sub", ("pkg.sub",), ("pkg.b",))]
    assert hygiene.check(root, rules, regular_packages=["sub"]) == []
    assert len(hygiene.load_package(root)) == 7


# -- cycles -------------------------------------------------------------------------------


def test_a_direct_cycle_is_found(tmp_path: Path) -> None:
    root = plant(tmp_path, {"a.py": "import pkg.b\n", "b.py": "\n\nfrom pkg.a import x\n"})
    found = hygiene.run(root)
    assert rules_of(found) == [hygiene.CYCLE]
    (line,) = hygiene.check(root)
    assert LINE.match(line)
    assert line.startswith("pkg/a.py:1: import cycle: pkg.a -> pkg.b -> pkg.a")
    assert "pkg/b.py:3 imports pkg.a" in line


def test_a_cycle_under_type_checking_counts(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "a.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.b import B\n",
            "b.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    pass\nelse:\n    from pkg.a import A\n",
        },
    )
    (line,) = hygiene.check(root)
    assert "pkg.a -> pkg.b -> pkg.a" in line and "(under TYPE_CHECKING)" in line


def test_a_cycle_through_a_function_import_counts(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "a.py": "from pkg.b import f\n",
            "b.py": "def f() -> None:\n    from pkg.a import g\n",
        },
    )
    (line,) = hygiene.check(root)
    assert "import cycle" in line and "(inside a function)" in line


def test_relative_imports_are_resolved_to_submodules(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "a.py": "from .sub import mod\n",  # mod is a submodule: the edge is to pkg.sub.mod
            "sub/__init__.py": "",
            "sub/mod.py": "from .. import a\n",
        },
    )
    (line,) = hygiene.check(root)
    assert "pkg.a -> pkg.sub.mod -> pkg.a" in line


def test_a_relative_from_a_module_import_a_name_cycles(tmp_path: Path) -> None:
    root = plant(tmp_path, {"a.py": "from . import b\n", "b.py": "from .a import name\n"})
    (line,) = hygiene.check(root)
    assert "pkg.a -> pkg.b -> pkg.a" in line


def test_a_longer_loop_is_one_violation_naming_the_knot(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "a.py": "import pkg.b\n",
            "b.py": "import pkg.c\n",
            "c.py": "import pkg.a\nimport pkg.d\n",
            "d.py": "import pkg.b\n",
        },
    )
    (violation,) = hygiene.run(root)
    assert "pkg.a -> pkg.b -> pkg.c -> pkg.a" in violation.message
    assert "the knot has 4 modules" in violation.message


def test_a_chain_and_a_package_init_are_not_cycles(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "__init__.py": "from pkg.a import f\n",
            "a.py": "from pkg import b\n\ndef f() -> None:\n    b.g()\n",  # b is a submodule
            "b.py": "import os\n\ndef g() -> None:\n    os.getcwd()\n",
        },
    )
    assert hygiene.check(root) == []


# -- private names ------------------------------------------------------------------------


def test_importing_a_private_name_is_found(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "a.py": "from pkg.b import _helper, public\nfrom .b import _other\n",
            "b.py": "def _helper() -> None: ...\ndef _other() -> None: ...\npublic = 1\n",
        },
    )
    lines = hygiene.check(root)
    assert lines == [
        "pkg/a.py:1: imports the private name _helper from pkg.b",
        "pkg/a.py:2: imports the private name _other from pkg.b",
    ]


def test_private_modules_are_private_to_their_package(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "inner/__init__.py": "",
            "inner/_impl.py": "X = 1\n",
            "inner/a.py": "from . import _impl\nfrom pkg.inner._impl import X\n",
            "b.py": "from pkg.inner import _impl\nimport pkg.inner._impl\n"
            "from textual.widgets._data_table import DataTable\n",
        },
    )
    lines = hygiene.check(root)
    assert lines == [
        "pkg/b.py:1: imports the private name _impl from pkg.inner",
        "pkg/b.py:2: imports the private module pkg.inner._impl",
        "pkg/b.py:3: imports from the private module textual.widgets._data_table",
    ]


def test_a_private_attribute_of_another_module_is_found(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "a.py": """
                from pkg import b

                def f(register: b.Register) -> None:
                    register._audit("x")
                    b._helper()
            """,
            "b.py": """
                class Register:
                    def _audit(self, what: str) -> None: ...

                def _helper() -> None: ...

                def own(r: Register) -> None:
                    r._audit("fine: defined here")
            """,
        },
    )
    lines = hygiene.check(root)
    assert lines == [
        "pkg/a.py:5: uses the private attribute register._audit (not defined in this module)",
        "pkg/a.py:6: uses the private attribute b._helper (not defined in this module)",
    ]


def test_an_inherited_private_of_a_framework_is_found(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "app.py": """
                from textual.app import App

                class MyApp(App[None]):
                    def __init__(self) -> None:
                        super().__init__()
                        self._mine = 1

                    def keys(self) -> object:
                        self.__class__  # a dunder is fine
                        return self._bindings, self._mine, super()._compose_stack

                    @classmethod
                    def make(cls) -> object:
                        return cls._registry
            """,
        },
    )
    lines = hygiene.check(root)
    assert lines == [
        "pkg/app.py:11: uses the private attribute self._bindings (not defined in this module)",
        "pkg/app.py:11: uses the private attribute super()._compose_stack "
        "(not defined in this module)",
        "pkg/app.py:15: uses the private attribute cls._registry (not defined in this module)",
    ]


def test_a_compat_module_may_use_framework_internals(tmp_path: Path) -> None:
    source = """
        from textual.app import _private_thing
        from textual.widgets._data_table import DataTable

        def bindings(app: object) -> object:
            return app._bindings, DataTable._cursor
    """
    root = plant(tmp_path, {"textual_compat.py": source, "plain.py": source})
    found = hygiene.run(root)
    assert {str(v.path) for v in found} == {"pkg/plain.py"}
    assert rules_of(found).count(hygiene.PRIVATE_ATTRIBUTE) == 2
    assert rules_of(found).count(hygiene.PRIVATE_IMPORT) == 2


def test_strict_receivers_flags_privates_on_other_objects(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "a.py": """
                class Key:
                    def __init__(self, raw: bytes) -> None:
                        self._raw = raw

                    def same(self, other: "Key") -> bool:
                        return self._raw == other._raw
            """,
        },
    )
    assert hygiene.check(root) == []
    assert hygiene.check(root, strict_receivers=True) == [
        "pkg/a.py:7: uses the private attribute other._raw (on another object than self/cls)"
    ]


# -- layers -------------------------------------------------------------------------------

LAYERED = {
    "faces/__init__.py": "",
    "faces/cli.py": "from pkg.door import Register\nfrom pkg.rooms import vault\n",
    "facesque.py": "from pkg.rooms.vault import KEY\n",  # not under pkg.faces
    "door.py": "from pkg.rooms.vault import KEY\nclass Register: ...\n",
    "rooms/__init__.py": "",
    "rooms/vault.py": "KEY = 1\n",
    "rooms/domain.py": """
        import textual.widgets

        def later() -> None:
            from pkg.faces.cli import Register
    """,
}
LAYER_RULES = [
    LayerRule("faces use the door", ("pkg.faces",), ("pkg.rooms.vault",)),
    LayerRule("rooms never import faces or textual", ("pkg.rooms",), ("pkg.faces", "textual")),
]


def test_layer_rules_are_data(tmp_path: Path) -> None:
    root = plant(tmp_path, LAYERED)
    assert hygiene.check(root, LAYER_RULES) == [
        "pkg/faces/cli.py:2: faces use the door: pkg.faces.cli imports pkg.rooms.vault",
        "pkg/rooms/domain.py:2: rooms never import faces or textual: "
        "pkg.rooms.domain imports textual.widgets",
        "pkg/rooms/domain.py:5: rooms never import faces or textual: "
        "pkg.rooms.domain imports pkg.faces.cli (inside a function)",
    ]
    assert hygiene.check(root) == []  # without rules, the same package is clean


def test_one_import_of_many_names_is_one_violation(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "rooms/__init__.py": "",
            "rooms/a.py": "from pkg.faces import x, y\nfrom pkg.b import _p, _q\n",
            "faces.py": "x = y = 1\n",
            "b.py": "_p = _q = 1\n",
        },
    )
    assert hygiene.check(root, [LayerRule("no faces", ("pkg.rooms",), ("pkg.faces",))]) == [
        "pkg/rooms/a.py:2: imports the private name _p from pkg.b",
        "pkg/rooms/a.py:2: imports the private name _q from pkg.b",
        "pkg/rooms/a.py:1: no faces: pkg.rooms.a imports pkg.faces",
    ]  # by kind: packages, cycles, private names, layers


def test_exact_patterns_and_exceptions(tmp_path: Path) -> None:
    helpers = ("pkg.cli.common", "pkg.cli.main")
    rule = LayerRule(
        "command groups stay apart",
        sources=("pkg.cli",),
        forbidden=("pkg.cli",),
        except_sources=(*helpers, "=pkg.cli"),
        allowed=(*helpers, "=pkg.cli"),
    )
    root = plant(
        tmp_path,
        {
            "cli/__init__.py": "from pkg.cli.main import main\n",
            "cli/common.py": "X = 1\n",
            "cli/main.py": "from pkg.cli import orgs, persons\n",
            "cli/orgs.py": "from pkg.cli.common import X\nfrom pkg.cli import persons\n",
            "cli/persons.py": "from . import common\nimport pkg.cli\n",
        },
    )
    found = hygiene.check_layers(hygiene.load_package(root), [rule])  # (there is a cycle too)
    assert [str(v) for v in found] == [
        "pkg/cli/orgs.py:2: command groups stay apart: pkg.cli.orgs imports pkg.cli.persons"
    ]


def test_a_package_without_init_is_found(tmp_path: Path) -> None:
    root = plant(tmp_path, {"cli/main.py": "X = 1\n", "register/__init__.py": ""})
    found = hygiene.check_regular_packages(root, ["cli", "register", "missing"])
    assert [v.message for v in found] == [
        "regular package: pkg/cli is not a regular package (no __init__.py)",
        "regular package: pkg/missing is not a regular package (no __init__.py)",
    ]


def test_a_private_named_in_a_string_is_found(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "a.py": """
                def f(footer: object, node: object) -> None:
                    getattr(footer, "__watchers", {})
                    hasattr(node, "_closing")
                    getattr(node, "_mine")
                    getattr(node, "__len__")

                class Mine:
                    _mine = 1
            """,
        },
    )
    lines = hygiene.check(root)
    assert lines == [
        "pkg/a.py:3: names the private attribute '__watchers' in a string (not its own)",
        "pkg/a.py:4: names the private attribute '_closing' in a string (not its own)",
    ]
