"""Small typed modals: the purpose of access, and the list of keys."""

from __future__ import annotations

from typing import TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from kaiku_tui.domain.access import Purpose
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.screens import KaikuModalScreen

T = TypeVar("T")


class Dialog(KaikuModalScreen[T]):
    """A box in the middle of the screen, over what was there; Esc leaves it."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > .box {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, texts: Texts) -> None:
        super().__init__()
        self.texts = texts


class PurposeScreen(Dialog[Purpose | None]):
    """Why this recording is opened: asked before anything of it is shown, and logged."""

    BINDINGS = [Binding("escape", "cancel", "bind.back", id="purpose.cancel")]
    DEFAULT_CSS = """
    PurposeScreen OptionList, PurposeScreen OptionList:focus {
        height: auto; max-height: 12; border: none; padding: 0;
    }
    PurposeScreen #ask { margin-bottom: 1; }
    """

    def __init__(self, texts: Texts, record_id: int) -> None:
        super().__init__(texts)
        self.record_id = record_id

    def compose(self) -> ComposeResult:
        t = self.texts
        with Vertical(classes="box") as box:
            box.border_title = t("purpose.title")
            box.border_subtitle = t("purpose.cancel")
            yield Static(Text(t("purpose.ask", id=self.record_id)), id="ask")
            options = [Option(Text(t(f"purpose.{p.value}")), id=p.value) for p in Purpose]
            yield OptionList(*options, id="purposes")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(Purpose(str(event.option.id)))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(Dialog[bool]):
    """A question answered with y or n (Esc is no): for what cannot be taken back."""

    BINDINGS = [
        Binding("y", "answer(True)", "yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "no", id="confirm.no"),
    ]

    def __init__(self, texts: Texts, question: Text) -> None:
        super().__init__(texts)
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = self.texts("confirm.title")
            box.border_subtitle = self.texts("confirm.keys")
            yield Static(self.question, id="question")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class HelpScreen(Dialog[None]):
    """Every key of the screen below it, with what it does."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "bind.back", id="help.close")]

    def __init__(self, texts: Texts, keys: list[tuple[str, str]]) -> None:
        super().__init__(texts)
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Text()
        width = max((len(k) for k, _ in self.keys), default=4) + 2
        for key, description in self.keys:
            table.append(key.ljust(width), style="bold")
            table.append(description + "\n")
        with VerticalScroll(classes="box") as box:
            box.border_title = self.texts("help.title")
            box.border_subtitle = self.texts("help.close")
            yield Static(table, id="keys")

    def action_close(self) -> None:
        self.dismiss(None)
