"""The import hygiene of the layout: faces, the door, the rooms, and one-way arrows.

    kaiku_tui/
      cli/ ui/                                  faces
      register/                                 the door
      domain/ index/ vault/ audit/ audio/ ingest/ maintenance/ service/   rooms
      errors.py config.py __init__.py __main__.py

Checked with tests/hygiene.py (stdlib ast): no import cycles anywhere (TYPE_CHECKING and
function-level imports count), no private name used outside the module that defines it
(framework internals only in *_compat.py), the layer rules below, and cli/ and register/
being regular packages.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import hygiene
from tests.hygiene import LayerRule

PACKAGE = Path(__file__).resolve().parents[2] / "kaiku_tui"

FACES = ("kaiku_tui.cli", "kaiku_tui.ui")
DOOR = "kaiku_tui.register"
ROOM_NAMES = ("domain", "index", "vault", "audit", "audio", "ingest", "maintenance", "service")
ROOMS = tuple(f"kaiku_tui.{name}" for name in ROOM_NAMES)
TOP_LEVEL_FILES = frozenset({"errors.py", "config.py", "__init__.py", "__main__.py", "py.typed"})
TOP_LEVEL_PACKAGES = frozenset({"cli", "ui", "register", *ROOM_NAMES})
REGULAR_PACKAGES = ("cli", "register")

# The modules of kaiku_tui.cli every command group may import (and that may import the
# groups); any other module of cli is a command group and imports no other group.
CLI_SHARED = frozenset({"common", "main", "output"})
_CLI_SHARED = tuple(f"kaiku_tui.cli.{name}" for name in sorted(CLI_SHARED))

_OPENERS = (f"={DOOR}.upkeep.diagnose", f"={DOOR}.upkeep.restore")

RULES = (
    LayerRule(
        "faces never reach past the register",
        sources=FACES,
        forbidden=("kaiku_tui.index", "kaiku_tui.vault", "kaiku_tui.audit"),
    ),
    LayerRule(
        "rooms never import faces, the register or textual",
        sources=ROOMS,
        forbidden=(*FACES, DOOR, "textual"),
    ),
    LayerRule("the index never imports ingest", ("kaiku_tui.index",), ("kaiku_tui.ingest",)),
    LayerRule("maintenance never imports the register", ("kaiku_tui.maintenance",), (DOOR,)),
    LayerRule(
        "a facet takes the gate, never the door",
        sources=(DOOR,),
        forbidden=(f"={DOOR}", f"={DOOR}.door"),
        # The door itself, and the two procedures that open a register of their own.
        except_sources=(f"={DOOR}", f"={DOOR}.door", *_OPENERS),
    ),
    LayerRule(
        "a cli command group imports no other command group",
        sources=("kaiku_tui.cli",),
        forbidden=("kaiku_tui.cli",),
        except_sources=(*_CLI_SHARED, "=kaiku_tui.cli"),
        allowed=(*_CLI_SHARED, "=kaiku_tui.cli"),
    ),
)


@pytest.fixture(scope="module")
def modules() -> dict[str, hygiene.Module]:
    return hygiene.load_package(PACKAGE)


def report(found: list[hygiene.Violation]) -> str:
    return f"{len(found)} violation(s):\n" + "\n".join(str(v) for v in found)


def test_the_checker_sees_the_package(modules: dict[str, hygiene.Module]) -> None:
    assert len(modules) > 100
    assert any(name.startswith("kaiku_tui.cli.") for name in modules)
    assert any(name.startswith("kaiku_tui.register.") for name in modules)


def test_the_top_level_holds_faces_door_rooms_and_four_files() -> None:
    entries = {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    stray = entries - TOP_LEVEL_FILES - TOP_LEVEL_PACKAGES
    assert not stray, f"not in the layout: {sorted(stray)}"
    missing = TOP_LEVEL_PACKAGES - {p.name for p in PACKAGE.iterdir() if p.is_dir()}
    assert not missing, f"missing packages: {sorted(missing)}"


def test_cli_and_register_are_regular_packages() -> None:
    found = hygiene.check_regular_packages(PACKAGE, REGULAR_PACKAGES)
    assert not found, report(found)


def test_no_import_cycles(modules: dict[str, hygiene.Module]) -> None:
    found = hygiene.find_cycles(modules)
    assert not found, report(found)


def test_no_private_name_is_used_outside_its_module(modules: dict[str, hygiene.Module]) -> None:
    found = hygiene.find_private_uses(modules)
    assert not found, report(found)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_layer_rule(modules: dict[str, hygiene.Module], rule: LayerRule) -> None:
    found = hygiene.check_layers(modules, [rule])
    assert not found, report(found)


def test_every_rule_names_modules_that_exist(modules: dict[str, hygiene.Module]) -> None:
    """A rule about a package that is not there passes vacuously: catch a renamed package."""
    for rule in RULES:
        for pattern in rule.sources:
            name = pattern.lstrip("=")
            assert any(hygiene.matches(m, pattern) for m in modules), f"{rule.name}: {name}"
    for helper in _CLI_SHARED:
        assert helper in modules, f"CLI_SHARED names {helper}, which does not exist"
