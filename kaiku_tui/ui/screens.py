"""The bases of our screens: their keys read in the person's language.

Bindings are declared with catalogue keys for descriptions ("bind.filter").
Textual's footer, key panel and command palette read a screen's keys from
`Screen.active_bindings` and nowhere else, so that is where the words are put
in (`i18n.translate_active`), for the screen's own keys, its widgets' and the
app's alike.
"""

from __future__ import annotations

from typing import TypeVar

from textual.binding import ActiveBinding
from textual.screen import ModalScreen, Screen

from kaiku_tui.ui.bindings import translate_active
from kaiku_tui.ui.i18n import Texts

R = TypeVar("R")


class KaikuScreen(Screen[R]):
    texts: Texts

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return translate_active(super().active_bindings, self.texts)


class KaikuModalScreen(ModalScreen[R]):
    texts: Texts

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return translate_active(super().active_bindings, self.texts)
