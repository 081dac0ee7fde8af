"""The data protection officer's screen: the disclosure log and the data subjects' requests.

The disclosure log (luovutusloki) says what left the register, to which
authority, on what legal basis and under which request; the requests list says
which data subjects are waiting for an answer, and how long they may still
wait (one month from receipt, GDPR art. 12(3)): the state says "OVERDUE" or
"deadline near" in words (styled cells shift in Textual's DataTable, and words
do not depend on colour), and the line under the table counts the days.
Both lists are read through the register, which audits the reading. Tables are
fine here: these are hundreds of rows, not millions.
"""

from __future__ import annotations

from datetime import date, datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static, TabbedContent, TabPane
from textual.worker import Worker

from kaiku_tui.domain.access import Action
from kaiku_tui.domain.dates import HELSINKI, fmt_day
from kaiku_tui.domain.subject import Disclosure, SubjectRequest
from kaiku_tui.register import Register
from kaiku_tui.ui.failures import pass_on_failure
from kaiku_tui.ui.footer import Footer
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.safe import untrusted
from kaiku_tui.ui.screens import KaikuScreen

_DISCLOSURE_HEAD = ("at", "authority", "basis", "ref", "records", "by")
_REQUEST_HEAD = ("ref", "kind", "received", "deadline", "answered", "state")


class DisclosuresScreen(KaikuScreen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "bind.back", id="disclosures.back"),
        Binding("r", "refresh", "bind.refresh", id="disclosures.refresh"),
    ]
    DEFAULT_CSS = """
    DisclosuresScreen TabbedContent { height: 1fr; }
    DisclosuresScreen DataTable { height: 1fr; }
    DisclosuresScreen #detail { height: auto; max-height: 6; padding: 0 1; background: $panel; }
    """

    def __init__(self, register: Register, texts: Texts, today: date | None = None) -> None:
        super().__init__()
        self.register = register
        self.texts = texts
        self.today = today or datetime.now(HELSINKI).date()
        self.disclosures: list[Disclosure] = []
        self.requests: list[SubjectRequest] = []

    def compose(self) -> ComposeResult:
        t = self.texts
        with TabbedContent():
            with TabPane(t("dpo.disclosures"), id="disclosure-log"):
                yield DataTable(id="disclosures", cursor_type="row", zebra_stripes=True)
            if self.register.may(Action.SUBJECT_REQUEST):
                with TabPane(t("dpo.requests"), id="request-list"):
                    yield DataTable(id="requests", cursor_type="row", zebra_stripes=True)
        yield Static(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        for table_id, head in (("disclosures", _DISCLOSURE_HEAD), ("requests", _REQUEST_HEAD)):
            for table in self.query(f"#{table_id}").results(DataTable):
                table.add_columns(*(self.texts(f"dpo.col.{name}") for name in head))
        self.query_one("#disclosures", DataTable).focus()
        self.action_refresh()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        pass_on_failure(self, event)

    @work(exclusive=True, group="dpo", exit_on_error=False)
    async def action_refresh(self) -> None:
        subjects = self.register.subjects
        self.disclosures = await subjects.disclosures()
        table = self.query_one("#disclosures", DataTable)
        table.clear()
        for entry in self.disclosures:
            table.add_row(*self._disclosure_cells(entry))
        if self.register.may(Action.SUBJECT_REQUEST):
            self.requests = await subjects.requests()
            self._show_requests()
        self._describe_first()

    def _show_requests(self) -> None:
        table = self.query_one("#requests", DataTable)
        table.clear()
        for request in self.requests:
            table.add_row(*self._request_cells(request))

    def _disclosure_cells(self, entry: Disclosure) -> list[Text]:
        at = datetime.fromtimestamp(entry.at, HELSINKI).strftime("%d.%m.%Y %H:%M")
        values = (at, entry.authority, entry.legal_basis, entry.request_ref,
                  str(len(entry.record_ids)), entry.by)  # fmt: skip
        return [untrusted(v, keep_newlines=False) for v in values]

    def _request_cells(self, request: SubjectRequest) -> list[Text]:
        urgency = request.urgency(self.today)
        answered = fmt_day(request.answered) if request.answered else ""
        values = (request.ref, self.texts(f"dpo.kind.{request.kind.value}"),
                  fmt_day(request.received), fmt_day(request.deadline), answered,
                  self.texts(f"dpo.urgency.{urgency.value}"))  # fmt: skip
        return [untrusted(v, keep_newlines=False) for v in values]

    def _describe_first(self) -> None:
        if self.disclosures:
            self.query_one("#detail", Static).update(self._disclosure_detail(self.disclosures[0]))
        else:
            self.query_one("#detail", Static).update(Text(self.texts("dpo.none")))

    @on(DataTable.RowHighlighted, "#disclosures")
    def _disclosure_chosen(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row < len(self.disclosures):
            entry = self.disclosures[event.cursor_row]
            self.query_one("#detail", Static).update(self._disclosure_detail(entry))

    @on(DataTable.RowHighlighted, "#requests")
    def _request_chosen(self, event: DataTable.RowHighlighted) -> None:
        if self.query_one(TabbedContent).active != "request-list":
            return  # rows added to the hidden tab highlight too; the log's detail stays
        if event.cursor_row < len(self.requests):
            self.query_one("#detail", Static).update(self._request_detail(event.cursor_row))

    @on(TabbedContent.TabActivated)
    def _tab_chosen(self) -> None:
        if self.query_one(TabbedContent).active == "request-list" and self.requests:
            row = self.query_one("#requests", DataTable).cursor_row
            self.query_one("#detail", Static).update(self._request_detail(row))
        else:
            self._describe_first()

    def _request_detail(self, row: int) -> Text:
        request = self.requests[row]
        days = (request.deadline - self.today).days
        key = "dpo.request_late" if days < 0 else "dpo.request_detail"
        words = self.texts(key, ref=request.ref, by=request.handled_by, days=abs(days))
        return untrusted(words, keep_newlines=False)

    def _disclosure_detail(self, entry: Disclosure) -> Text:
        ids = ", ".join(str(i) for i in entry.record_ids)
        words = self.texts("dpo.disclosure_detail", id=entry.id, basis=entry.legal_basis,
                           ids=ids, sha=entry.manifest_sha256)  # fmt: skip
        return untrusted(words)

    def action_back(self) -> None:
        self.dismiss(None)
