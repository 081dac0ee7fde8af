"""The audit log screen, for admins and the data protection officer: who did what, when.

Reading the log is itself audited (the register does it). The newest events
come last, as in the chain; filters narrow by a start day, an actor and an
action; `v` recomputes the whole chain and says whether it is intact. A table
is fine here: a page of the log is at most `LIMIT` events, not millions.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker

from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.dates import day_start, fmt_timestamp, parse_date
from kaiku_tui.errors import UsageError
from kaiku_tui.register import Register
from kaiku_tui.register.audit_log import VerifyReport
from kaiku_tui.ui.failures import pass_on_failure
from kaiku_tui.ui.footer import Footer
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.safe import untrusted
from kaiku_tui.ui.screens import KaikuScreen

LIMIT = 500
_HEAD = ("seq", "at", "actor", "action", "outcome", "target", "purpose")


class AuditScreen(KaikuScreen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "bind.back", id="audit.back"),
        Binding("v", "verify", "bind.verify", id="audit.verify"),
        Binding("slash", "focus_filters", "bind.filter", id="audit.filter"),
    ]
    DEFAULT_CSS = """
    AuditScreen Horizontal { height: 1; }
    AuditScreen Input { width: 1fr; margin-right: 1; }
    AuditScreen #events { height: 1fr; }
    AuditScreen #event { height: auto; max-height: 8; padding: 0 1; background: $panel; }
    AuditScreen #chain { height: 1; padding: 0 1; }
    """

    def __init__(self, register: Register, texts: Texts) -> None:
        super().__init__()
        self.register = register
        self.texts = texts
        self.events: list[tuple[int, Any]] = []

    def compose(self) -> ComposeResult:
        t = self.texts
        with Horizontal():
            yield Input(placeholder=t("audit.since"), id="since", compact=True)
            yield Input(placeholder=t("audit.actor"), id="actor", compact=True)
            yield Input(placeholder=t("audit.action"), id="action", compact=True)
        yield DataTable(id="events", cursor_type="row", zebra_stripes=True)
        yield Static(id="event")
        yield Static(Text(t("audit.verify_hint")), id="chain")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*(self.texts(f"audit.col.{name}") for name in _HEAD))
        table.focus()
        self.load(AuditQuery(limit=LIMIT))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        pass_on_failure(self, event)

    @work(exclusive=True, group="audit", exit_on_error=False)
    async def load(self, query: AuditQuery) -> None:
        self.events = list(reversed(await self.register.audit.events(query)))
        table = self.query_one(DataTable)
        table.clear()
        for seq, event in self.events:
            table.add_row(*_cells(seq, event), key=str(seq))

    @on(Input.Submitted)
    def _filter(self) -> None:
        try:
            query = self._query()
        except UsageError as err:
            self.query_one("#event", Static).update(untrusted(str(err), keep_newlines=False))
            return
        self.load(query)
        self.query_one(DataTable).focus()

    def _query(self) -> AuditQuery:
        since = self.query_one("#since", Input).value.strip()
        actor = self.query_one("#actor", Input).value.strip()
        action = self.query_one("#action", Input).value.strip()
        start = day_start(parse_date(since, self.texts("audit.since"))) if since else None
        return AuditQuery(start, actor or None, action or None, LIMIT)

    @on(DataTable.RowHighlighted)
    def _show(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row < len(self.events):
            seq, chosen = self.events[event.cursor_row]
            self.query_one("#event", Static).update(_details(seq, chosen))

    @work(exclusive=True, group="verify", exit_on_error=False)
    async def action_verify(self) -> None:
        chain = self.query_one("#chain", Static)
        chain.update(Text(self.texts("audit.verifying")))
        report = await self.register.audit.verify()
        if report.ok:
            chain.update(Text(intact(self.texts, report), style="bold"))
        else:
            words = self.texts("audit.broken", problem=broken(report))
            chain.update(untrusted(words, "bold reverse", keep_newlines=False))

    def action_focus_filters(self) -> None:
        self.query_one("#since", Input).focus()

    def action_back(self) -> None:
        self.dismiss(None)


def _cells(seq: int, event: Any) -> list[Text]:
    at = fmt_timestamp(event.at.astimezone(UTC).isoformat())
    values = [str(seq), at, event.actor, event.action, event.outcome, event.target, event.purpose]
    return [untrusted(v or "", keep_newlines=False) for v in values]


def _details(seq: int, event: Any) -> Text:
    """Every field of one event that has a value, as plain text."""
    fields = {k: v for k, v in vars(event).items() if v not in (None, (), "")}
    fields["at"] = fmt_timestamp(event.at.astimezone(UTC).isoformat())
    text = Text(f"#{seq}  ", style="bold")
    text.append_text(untrusted("  ".join(f"{k}={v}" for k, v in fields.items())))
    return text


def broken(report: VerifyReport) -> str:
    """What does not verify: the chain's first problem, and the rows named."""
    found = [f"{report.problem.seq}: {report.problem}"] if report.problem else []
    return "; ".join([*found, *report.bad_rows])


def intact(texts: Texts, report: VerifyReport) -> str:
    """A chain that verifies, in words; after an audit cut, where the log now starts."""
    words = texts("audit.intact", n=report.checked, checkpoints=report.checkpoints)
    if report.cut_seq:
        words += "\n" + texts("audit.cut", first=report.cut_seq + 1)
    return words
