"""Notes on the recording being read: where they point, who wrote them, their versions.

A note points at a second of a call, a message of a chat, or the whole
recording — taken from what the person is on when they press the key: the
transcript line in focus, else the player's position, else the whole.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from kaiku_tui.domain.annotation import Anchor, Note
from kaiku_tui.domain.dates import fmt_date, fmt_duration, fmt_time
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.modals import Dialog
from kaiku_tui.ui.safe import untrusted


def where(anchor: Anchor, texts: Texts) -> str:
    if anchor.at_s is not None:
        return fmt_duration(int(anchor.at_s))
    if anchor.message is not None:
        return texts("notes.message", n=anchor.message + 1)
    return texts("notes.whole")


def notes_text(notes: Sequence[Note], texts: Texts) -> Text:
    """One line a note: where, the current text, who and when, how many versions."""
    out = Text()
    for note in notes:
        now = note.current
        out.append(f"✎ {where(now.anchor, texts)}  ", style="bold")
        out.append_text(
            untrusted(now.text, "strike" if note.withdrawn else "", keep_newlines=False)
        )
        when = f"{fmt_date(now.written_at)} {fmt_time(now.written_at)}"
        extra = f" · v{now.version}" if now.version > 1 else ""
        extra += f" · {texts('notes.withdrawn')}" if note.withdrawn else ""
        out.append_text(untrusted(f"  — {note.author}, {when}{extra}", "dim", keep_newlines=False))
        out.append("\n")
    return out


class NoteScreen(Dialog[str | None]):
    """The text of a new note; where it points is shown, decided by the screen below."""

    BINDINGS = [Binding("escape", "cancel", "bind.back")]

    def __init__(self, texts: Texts, anchor: Anchor) -> None:
        super().__init__(texts)
        self.place = anchor

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = self.texts("notes.title", where=where(self.place, self.texts))
            box.border_subtitle = self.texts("purpose.cancel")
            yield Static(Text(self.texts("notes.help")))
            yield Input(placeholder=self.texts("notes.placeholder"), id="note", compact=True)

    @on(Input.Submitted)
    def _done(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
