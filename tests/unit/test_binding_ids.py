"""Every key of ours can be remapped through Textual's keymap (`App.set_keymap`).

The keymap finds a binding by its `id`, so each `Binding` in each screen or
widget class under kaiku_tui/ui has one: dotted, named for where it acts
("browse.filter", "player.play_pause"), and used by no other binding.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

from textual.binding import Binding
from textual.dom import DOMNode

import kaiku_tui.ui

DOTTED = re.compile(r"[a-z][a-z_]*\.[a-z][a-z0-9_]*")


def ui_classes() -> list[type[DOMNode]]:
    found = []
    for info in pkgutil.iter_modules(kaiku_tui.ui.__path__, "kaiku_tui.ui."):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == info.name:
                found.append(cls)
    return found


def declared(cls: type[DOMNode]) -> list[tuple[str, Binding]]:
    """(class, binding) for each binding declared by the class or a kaiku_tui base."""
    return [
        (base.__qualname__, binding)
        for base in cls.mro()
        if base.__module__.startswith("kaiku_tui.")
        for binding in vars(base).get("BINDINGS", [])
    ]


def test_the_ui_has_classes_with_bindings() -> None:
    names = {cls.__name__ for cls in ui_classes() if declared(cls)}
    assert {"KaikuApp", "BrowseScreen", "ConversationScreen", "PlayerBar"} <= names, names


def test_every_binding_has_a_dotted_id_unique_in_its_class() -> None:
    for cls in ui_classes():
        ids: dict[str, Binding] = {}
        for where, binding in declared(cls):
            assert isinstance(binding, Binding), f"{where}: {binding!r} is not a Binding"
            assert binding.id, f"{where}: the binding of {binding.key!r} has no id"
            assert DOTTED.fullmatch(binding.id), f"{where}: id {binding.id!r} is not dotted"
            other = ids.setdefault(binding.id, binding)
            assert other is binding, f"{cls.__name__}: {binding.id!r} names two bindings"


def test_no_two_classes_share_an_id() -> None:
    owner: dict[str, str] = {}
    for cls in ui_classes():
        for where, binding in declared(cls):
            assert binding.id is not None
            first = owner.setdefault(binding.id, where)
            assert first == where, f"{binding.id!r} is declared by {first} and {where}"
