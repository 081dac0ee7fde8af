"""Notes on the recording being read: where they point, who wrote them, their versions.

`NotesScreen` (v) lists them with the highlighted one's history; the
author edits (a new version) or withdraws (after a yes) their own. Others'
notes show the keys switched off and say whose the note is; the register
refuses anyway. Admins and the DPO also see withdrawn notes, marked.

A note points at a second of a call, a message of a chat, or the whole
recording — taken from what the person is on when they press the key: the
transcript line in focus, else the player's position, else the whole.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from kaiku_tui.domain.access import Action, Purpose
from kaiku_tui.domain.annotation import Anchor, Note
from kaiku_tui.domain.dates import fmt_date, fmt_duration, fmt_time
from kaiku_tui.register import Register
from kaiku_tui.ui.failures import pass_on_failure
from kaiku_tui.ui.footer import Footer
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.modals import ConfirmScreen, Dialog
from kaiku_tui.ui.safe import untrusted
from kaiku_tui.ui.screens import KaikuScreen


def where(anchor: Anchor, texts: Texts) -> str:
    if anchor.at_s is not None:
        return fmt_duration(int(anchor.at_s))
    if anchor.message is not None:
        return texts("notes.message", n=anchor.message + 1)
    return texts("notes.whole")


def notes_text(notes: Sequence[Note], texts: Texts) -> Text:
    """One line a note: where, the current text, who and when, how many versions."""
    return Text("\n").join(note_line(note, texts) for note in notes)


def note_line(note: Note, texts: Texts) -> Text:
    now = note.current
    out = Text(f"✎ {where(now.anchor, texts)}  ", style="bold")
    # A withdrawn note (seen by admins and the DPO) shows the text it had, struck through.
    text = next((v.text for v in reversed(note.versions) if v.text), "")
    out.append_text(untrusted(text, "strike" if note.withdrawn else "", keep_newlines=False))
    when = f"{fmt_date(now.written_at)} {fmt_time(now.written_at)}"
    extra = f" · v{now.version}" if now.version > 1 else ""
    extra += f" · {texts('notes.withdrawn')}" if note.withdrawn else ""
    out.append_text(untrusted(f"  — {note.author}, {when}{extra}", "dim", keep_newlines=False))
    return out


class NoteScreen(Dialog[str | None]):
    """The text of a note (new, or the next version of one); where it points is shown,
    decided by the screen below."""

    BINDINGS = [Binding("escape", "cancel", "bind.back", id="note.cancel")]

    def __init__(self, texts: Texts, anchor: Anchor, text: str = "") -> None:
        super().__init__(texts)
        self.place = anchor
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = self.texts("notes.title", where=where(self.place, self.texts))
            box.border_subtitle = self.texts("purpose.cancel")
            yield Static(Text(self.texts("notes.help")))
            yield Input(
                self.text, placeholder=self.texts("notes.placeholder"), id="note", compact=True
            )

    @on(Input.Submitted)
    def _done(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def history_text(note: Note, person: str, texts: Texts) -> Text:
    """Every version, oldest first: who, when, and the text it had (or its withdrawal);
    then why the keys are off, when they are (another's note, a withdrawn one)."""
    out = Text()
    for v in note.versions:
        when = f"{fmt_date(v.written_at)} {fmt_time(v.written_at)}"
        out.append(f"v{v.version} ", style="bold")
        out.append_text(untrusted(f"{when} {v.author}: ", "dim", keep_newlines=False))
        if v.withdrawn:
            out.append(texts("notes.withdrawn_version"), style="italic")
        else:
            label = texts("notes.written") if v.version == 1 else texts("notes.edited")
            out.append(f"{label} ", style="italic")
            out.append_text(untrusted(v.text, keep_newlines=False))
        out.append("\n")
    if note.withdrawn:
        out.append(texts("notes.is_withdrawn"), style="bold")
    elif note.author != person:
        out.append_text(untrusted(texts("notes.not_yours", author=note.author), "bold"))
    return out


class NotesScreen(KaikuScreen[None]):
    """A recording's notes, each with its history; one's own can be edited or withdrawn."""

    BINDINGS = [
        Binding("escape,q", "back", "bind.back", id="notes.back"),
        Binding("e", "edit", "bind.note_edit", id="notes.edit"),
        Binding("w", "withdraw", "bind.note_withdraw", id="notes.withdraw"),
    ]
    DEFAULT_CSS = """
    NotesScreen #title { height: 1; padding: 0 1; background: $panel; }
    NotesScreen OptionList { height: 1fr; max-height: 10; border: none; }
    NotesScreen #history { height: 1fr; padding: 0 1; background: $panel; }
    """

    def __init__(self, register: Register, texts: Texts, record_id: int, purpose: Purpose) -> None:
        super().__init__()
        self.register = register
        self.texts = texts
        self.record_id = record_id
        self.purpose = purpose
        self.notes: list[Note] = []

    def compose(self) -> ComposeResult:
        yield Static(Text(self.texts("notes.list_title", id=self.record_id)), id="title")
        yield OptionList(id="notes")
        yield VerticalScroll(Static(id="history-text"), id="history")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        pass_on_failure(self, event)

    @property
    def chosen(self) -> Note | None:
        index = self.query_one(OptionList).highlighted
        return self.notes[index] if index is not None and index < len(self.notes) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Edit and withdraw: hidden for those who do not annotate; shown but off on
        another's note or a withdrawn one (the history says why)."""
        if action not in ("edit", "withdraw"):
            return True
        if not self.register.may(Action.ANNOTATE):
            return False
        note = self.chosen
        login = self.register.person.login
        own = note is not None and note.author == login and not note.withdrawn
        return True if own else None

    @work(exclusive=True, group="notes", exit_on_error=False)
    async def load(self, show: int | None = None) -> None:
        self.notes = await self.register.notes.read(self.record_id, self.purpose)
        listed = self.query_one(OptionList)
        listed.clear_options()
        for i, note in enumerate(self.notes):
            listed.add_option(Option(note_line(note, self.texts), id=str(i)))
        if not self.notes:
            self.query_one("#history-text", Static).update(Text(self.texts("notes.none")))
            return
        ids = [n.note_id for n in self.notes]
        listed.highlighted = ids.index(show) if show in ids else 0

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        note = self.chosen
        if note is not None:
            shown = history_text(note, self.register.person.login, self.texts)
            self.query_one("#history-text", Static).update(shown)
        self.refresh_bindings()

    def action_edit(self) -> None:
        note = self.chosen
        if note is None:
            return

        def edited(text: str | None) -> None:
            if text is not None and text.strip() != note.current.text:
                self.change(note, text)

        screen = NoteScreen(self.texts, note.current.anchor, note.current.text)
        self.app.push_screen(screen, edited)

    def action_withdraw(self) -> None:
        note = self.chosen
        if note is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.change(note, None)

        question = Text(self.texts("notes.withdraw_ask") + "\n\n")
        question.append_text(untrusted(note.current.text, "italic", keep_newlines=False))
        self.app.push_screen(ConfirmScreen(self.texts, question), answered)

    @work(exclusive=True, group="note", exit_on_error=False)
    async def change(self, note: Note, text: str | None) -> None:
        """A new version with `text`, or (None) the withdrawal; through the register."""
        if text is None:
            await self.register.notes.withdraw(note.note_id, self.purpose)
        else:
            await self.register.notes.edit(note.note_id, text, self.purpose)
        self.notify(self.texts("notes.withdrawn_done" if text is None else "notes.edited_done"),
                    markup=False)  # fmt: skip
        self.load(show=note.note_id)

    def action_back(self) -> None:
        self.dismiss(None)
