"""A small form in a dialog: labelled fields, each with its error under it.

As the filter bar's (`filters.py`), a form's text is turned into domain
values by pure code that raises a `FormError` naming the field; the dialog
shows the message under that field and keeps what was typed. What the
register then says (a reference that exists, a denial — audited there) goes
on the form's own last line, and the form stays open. Enter in any field
saves; Esc leaves without saving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static
from textual.worker import Worker

from kaiku_tui.errors import KaikuError
from kaiku_tui.ui.failures import pass_on_failure
from kaiku_tui.ui.filters import FormError
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.modals import Dialog
from kaiku_tui.ui.safe import untrusted

T = TypeVar("T")


@dataclass(frozen=True)
class Field:
    """One line of a form: its name (as FormError names it), label key, starting value;
    with `choices` ((shown, value), …) it is a choice rather than text."""

    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    choices: tuple[tuple[str, str], ...] | None = None
    restrict: str | None = None  # a regular expression for what may be typed
    max_length: int = 0


class FormDialog(Dialog[T | None]):
    BINDINGS = [Binding("escape", "cancel", "bind.back", id="form.cancel")]
    DEFAULT_CSS = """
    FormDialog .row { height: 1; }
    FormDialog .row Label { width: 16; color: $text-muted; }
    FormDialog .row Input, FormDialog .row Select { width: 1fr; }
    FormDialog .row Input.-invalid { color: $error; }
    FormDialog .error { color: $error; height: auto; display: none; padding-left: 16; }
    FormDialog .error.-shown { display: block; }
    FormDialog #error { padding-left: 0; }
    FormDialog #help { color: $text-muted; margin-bottom: 1; }
    """

    def __init__(self, texts: Texts, title: str, fields: Sequence[Field], help_text: str) -> None:
        super().__init__(texts)
        self.title = title
        self.fields = list(fields)
        self.help_text = help_text

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = self.title
            box.border_subtitle = self.texts("form.keys")
            yield Static(Text(self.help_text), id="help")
            for field in self.fields:
                with Horizontal(classes="row"):
                    yield Label(self.texts(field.label))
                    yield self._widget(field)
                yield Static(id=f"{field.name}-error", classes="error")
            yield Static(id="error", classes="error")

    def _widget(self, field: Field) -> Input | Select[str]:
        if field.choices is not None:
            options = [(untrusted(shown, keep_newlines=False), v) for shown, v in field.choices]
            value = field.value if field.value in dict(field.choices).values() else Select.NULL
            return Select(options, id=field.name, compact=True, value=value,
                          allow_blank=value is Select.NULL, prompt=field.placeholder)  # fmt: skip
        return Input(field.value, id=field.name, placeholder=field.placeholder, compact=True,
                     restrict=field.restrict, max_length=field.max_length)  # fmt: skip

    def on_mount(self) -> None:
        self.query(".row > Input, .row > Select").first().focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        pass_on_failure(self, event)

    def values(self) -> dict[str, str]:
        out = {}
        for field in self.fields:
            widget = self.query_one(f"#{field.name}")
            if isinstance(widget, Select):
                out[field.name] = "" if widget.value is Select.NULL else str(widget.value)
            else:
                assert isinstance(widget, Input)
                out[field.name] = widget.value
        return out

    async def submit(self, values: Mapping[str, str]) -> T:
        """Parse (FormError for a field) and save (KaikuError from the register)."""
        raise NotImplementedError

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.save()

    @work(exclusive=True, group="form", exit_on_error=False)
    async def save(self) -> None:
        self.show_error(None, "")
        try:
            result = await self.submit(self.values())
        except FormError as err:
            self.show_error(err.field, str(err))
            return
        except KaikuError as err:
            self.show_error(None, str(err))
            return
        self.dismiss(result)

    def show_error(self, field: str | None, message: str) -> None:
        """Under the field it concerns (None: the form's last line); "" clears them all."""
        for name in [f.name for f in self.fields] + [None]:
            shown = self.query_one(f"#{name}-error" if name else "#error", Static)
            here = bool(message) and name == field
            shown.update(untrusted(message if here else "", keep_newlines=False))
            shown.set_class(here, "-shown")
            if name:
                self.query_one(f"#{name}").set_class(here, "-invalid")
        if message and field:
            self.query_one(f"#{field}").focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
