"""Key bindings in the person's language: our bindings' descriptions are catalogue keys,
turned into words where Textual reads them (the footer, the key panel, the palette).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from textual.binding import ActiveBinding, Binding

from kaiku_tui.ui.i18n import Texts


def described(binding: Binding, texts: Texts) -> str | None:
    """A binding's words in the person's language; None if they are not ours.

    Our bindings' descriptions are catalogue keys ("bind.filter"); Textual's own
    widgets' (an input's cursor keys) are not, and stay as Textual wrote them.
    """
    key = binding.description
    return texts(key) if key in texts else None


def translated(binding: Binding, texts: Texts) -> Binding:
    """The binding with its words in the person's language (itself if they are not ours)."""
    words = described(binding, texts)
    return binding if words is None else replace(binding, description=words)


def translate_active(active: Mapping[str, ActiveBinding], texts: Texts) -> dict[str, ActiveBinding]:
    """`Screen.active_bindings` with the words in the person's language.

    Textual's footer, key panel and palette read a screen's keys from there
    only; translating where they are read leaves every node's own bindings,
    and the class's, as declared.
    """
    return {
        key: ActiveBinding(
            found.node, translated(found.binding, texts), found.enabled, found.tooltip
        )
        for key, found in active.items()
    }
