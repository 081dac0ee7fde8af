"""The feedback cases screen: list, filter, read, add and change cases, open their calls.

A case is the purpose: its recordings open with `feedback` and the case's
reference in the event, without asking. Moving a case forward goes one step
at a time, as the domain allows (open → investigating → resolved → closed).
A page of cases is bounded (200), so a table is right here. Adding a case,
its owner and texts, and its links are forms (`case_forms.py`); those keys are
there only for those who handle cases (supervisors), and the register refuses
anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import Worker

from kaiku_tui.domain.access import Action, Purpose
from kaiku_tui.domain.annotation import CaseFilter, CaseStatus, FeedbackCase
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Recording
from kaiku_tui.register import Register
from kaiku_tui.ui.case_forms import CaseEditForm, LinkForm, NewCaseForm
from kaiku_tui.ui.failures import pass_on_failure
from kaiku_tui.ui.footer import Footer
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.safe import untrusted
from kaiku_tui.ui.screens import KaikuScreen

_STATUSES: tuple[CaseStatus | None, ...] = (None, *CaseStatus)
_NEXT = {
    CaseStatus.OPEN: CaseStatus.INVESTIGATING,
    CaseStatus.INVESTIGATING: CaseStatus.RESOLVED,
    CaseStatus.RESOLVED: CaseStatus.CLOSED,
}


class CasesScreen(KaikuScreen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "bind.back", id="cases.back"),
        Binding("s", "status_filter", "bind.case_status", id="cases.status_filter"),
        Binding("greater_than_sign", "advance", "bind.case_advance", id="cases.advance"),
        Binding("less_than_sign", "reopen", "bind.case_reopen", id="cases.reopen"),
        Binding("n", "new_case", "bind.case_new", id="cases.new"),
        Binding("e", "edit_case", "bind.case_edit", id="cases.edit"),
        Binding("l", "link", "bind.case_link", id="cases.link"),
        Binding("enter", "open_nth(1)", "bind.case_open", id="cases.open"),
        *(
            Binding(
                str(n), f"open_nth({n})", "bind.case_open_nth", show=False, id=f"cases.open_{n}"
            )
            for n in range(1, 10)
        ),
    ]
    DEFAULT_CSS = """
    CasesScreen #cases { height: 1fr; }
    CasesScreen #case { height: auto; max-height: 12; padding: 0 1; background: $panel; }
    """

    @dataclass
    class Opened(Message):
        """A case's recording was opened (purpose feedback, the case in the event)."""

        recording: Recording
        purpose: Purpose

    def __init__(
        self, register: Register, texts: Texts, orgs: Sequence[Organisation], today: date
    ) -> None:
        super().__init__()
        self.register = register
        self.texts = texts
        self.orgs = list(orgs)
        self.today = today
        self.status: CaseStatus | None = None
        self.cases: list[FeedbackCase] = []
        self.chosen: FeedbackCase | None = None

    def compose(self) -> ComposeResult:
        yield DataTable(id="cases", cursor_type="row", zebra_stripes=True)
        yield Static(id="case")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        names = ("id", "ref", "org", "received", "status", "summary")
        table.add_columns(*(self.texts(f"cases.col.{n}") for n in names))
        table.focus()
        self.load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        pass_on_failure(self, event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("advance", "reopen", "new_case", "edit_case", "link"):
            return self.register.may(Action.CASE_MANAGE)
        return True

    @work(exclusive=True, group="cases", exit_on_error=False)
    async def load(self, show: int | None = None) -> None:
        """A page of cases; `show` (a case id) is highlighted if it is there."""
        self.cases = await self.register.cases.find(CaseFilter(status=self.status))
        table = self.query_one(DataTable)
        table.clear()
        for case in self.cases:
            status = self.texts(f"cases.status.{case.status.value}")
            cells = (str(case.id), case.ref, case.org, _day(case.received), status, case.summary)
            table.add_row(*(untrusted(c, keep_newlines=False) for c in cells), key=str(case.id))
        if not self.cases:
            self.query_one("#case", Static).update(Text(self.texts("cases.none")))
        ids = [c.id for c in self.cases]
        if show in ids:
            table.move_cursor(row=ids.index(show))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row < len(self.cases):
            self.read(self.cases[event.cursor_row].id)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        """Enter on the table (which takes the key before the screen does): its first
        recording."""
        event.stop()
        self.action_open_nth(1)

    @work(exclusive=True, group="case", exit_on_error=False)
    async def read(self, case_id: int) -> None:
        self.chosen = await self.register.cases.read(case_id)
        self.query_one("#case", Static).update(_details(self.chosen, self.texts))

    def action_status_filter(self) -> None:
        self.status = _STATUSES[(_STATUSES.index(self.status) + 1) % len(_STATUSES)]
        self.notify(self.texts("cases.showing", status=self._status_words()), markup=False)
        self.load()

    def _status_words(self) -> str:
        if self.status is None:
            return self.texts("cases.all")
        return self.texts(f"cases.status.{self.status.value}")

    def action_advance(self) -> None:
        if self.chosen is not None and self.chosen.status in _NEXT:
            self.move(self.chosen, _NEXT[self.chosen.status])

    def action_reopen(self) -> None:
        """A resolved case back to investigating (the only step back the domain allows)."""
        if self.chosen is not None and self.chosen.status is CaseStatus.RESOLVED:
            self.move(self.chosen, CaseStatus.INVESTIGATING)

    @work(exclusive=True, group="case", exit_on_error=False)
    async def move(self, case: FeedbackCase, to: CaseStatus) -> None:
        self.chosen = await self.register.cases.move(case.id, to)
        self.load(show=case.id)
        self.query_one("#case", Static).update(_details(self.chosen, self.texts))

    def action_new_case(self) -> None:
        form = NewCaseForm(self.register, self.texts, self.orgs, self.today)
        self.app.push_screen(form, self._added)

    def _added(self, case: FeedbackCase | None) -> None:
        if case is not None:
            self.notify(self.texts("case.added", ref=case.ref), markup=False)
            self.load(show=case.id)

    def action_edit_case(self) -> None:
        if self.chosen is not None:
            form = CaseEditForm(self.register, self.texts, self.chosen)
            self.app.push_screen(form, self._changed)

    def _changed(self, case: FeedbackCase | None) -> None:
        if case is not None:
            self.read(case.id)

    def action_link(self) -> None:
        case = self.chosen
        if case is None:
            return

        def linked(added: int | None) -> None:
            if added is not None:
                self.notify(self.texts("case.links_added", n=added, ref=case.ref), markup=False)
                self.read(case.id)

        self.app.push_screen(LinkForm(self.register, self.texts, case), linked)

    @work(exclusive=True, group="open", exit_on_error=False)
    async def action_open_nth(self, n: int) -> None:
        """The case's n-th recording, opened for the case: the purpose comes from it."""
        case = self.chosen
        if case is None or not 1 <= n <= len(case.records):
            return
        record_id = case.records[n - 1]
        recording = await self.register.recordings.open_recording(
            record_id, Purpose.FEEDBACK, case_id=case.id
        )
        self.post_message(self.Opened(recording, Purpose.FEEDBACK))

    def action_back(self) -> None:
        self.dismiss(None)


def _details(case: FeedbackCase, texts: Texts) -> Text:
    rows = [
        (texts("cases.col.ref"), f"{case.ref} · {case.org} · {_day(case.received)}"),
        (texts("cases.col.status"), texts(f"cases.status.{case.status.value}")),
        (texts("cases.owner"), case.owner or "–"),
        (texts("cases.col.summary"), case.summary),
        (texts("cases.findings"), case.findings or "–"),
        (texts("cases.resolution"), case.resolution or "–"),
        (texts("cases.records"), "  ".join(f"{i}: #{r}" for i, r in enumerate(case.records, 1))),
    ]
    out = Text()
    for label, value in rows:
        out.append(f"{label}: ", style="bold")
        out.append_text(untrusted(value, keep_newlines=False))
        out.append("\n")
    return out


def _day(iso: str) -> str:
    """`2026-11-28` as people here write it, `28.11.2026` (anything else as it is)."""
    try:
        return date.fromisoformat(iso).strftime("%d.%m.%Y")
    except ValueError:
        return iso
