"""The admin screen: is the register sound, at a glance (issue 9).

The doctor's checks (ok / warn / fail, with what to do), the keys, the last
backup, the audit chain, and the recordings per organisation with its
retention status (the rule, what is due now and within 30 days, what a hold
keeps, whether its key is to be or has been destroyed). Each part is asked of
the register in a worker of its own, so the screen shows what is ready and a
slow part (the chain over millions of events) does not hold up the rest.
Admins only: the register audits each ask.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import Worker

from kaiku_tui.domain.browse import Count, RecordingFilter
from kaiku_tui.domain.dates import fmt_day, fmt_timestamp
from kaiku_tui.domain.retention import OrgPlan
from kaiku_tui.maintenance.checks import Check, Status
from kaiku_tui.register import Register
from kaiku_tui.ui.audit_log import broken, intact
from kaiku_tui.ui.failures import pass_on_failure
from kaiku_tui.ui.footer import Footer
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.safe import untrusted
from kaiku_tui.ui.screens import KaikuScreen

_MARK = {
    Status.OK: ("ok  ", "green"),
    Status.WARN: ("warn", "yellow"),
    Status.FAIL: ("FAIL", "red"),
}


class AdminScreen(KaikuScreen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "bind.back", id="admin.back"),
        Binding("r", "refresh_all", "bind.refresh", id="admin.refresh"),
    ]
    DEFAULT_CSS = """
    AdminScreen VerticalScroll { padding: 0 1; }
    AdminScreen .part { height: auto; margin-bottom: 1; }
    """

    def __init__(self, register: Register, texts: Texts) -> None:
        super().__init__()
        self.register = register
        self.texts = texts

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            for part in ("checks", "keys", "chain", "orgs"):
                yield Static(Text(self.texts("admin.waiting")), id=part, classes="part")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh_all()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        pass_on_failure(self, event)

    def action_refresh_all(self) -> None:
        self.checks()
        self.keys()
        self.chain()
        self.orgs()

    def action_back(self) -> None:
        self.dismiss(None)

    def _show(self, part: str, title: str, body: Text) -> None:
        text = Text(self.texts(title) + "\n", style="bold")
        self.query_one(f"#{part}", Static).update(text + body)

    @work(exclusive=True, group="admin-checks", exit_on_error=False)
    async def checks(self) -> None:
        self._show("checks", "admin.checks", _checks(await self.register.upkeep.doctor(os.environ)))

    @work(exclusive=True, group="admin-keys", exit_on_error=False)
    async def keys(self) -> None:
        upkeep = self.register.upkeep
        status = await upkeep.key_status()
        backup = await upkeep.last_backup()
        t = self.texts
        since = status.master_key_since
        lines = [t("admin.master", id=status.master_key_id[:12], since=_when(since))]
        for org in status.orgs:
            state = t("admin.key_present" if org.present else "admin.key_destroyed")
            lines.append(f"  {org.code:<8} {state}  ({_when(org.added)})")
        lines.append(t("admin.backup", when=backup or t("admin.never")))
        self._show("keys", "admin.keys", untrusted("\n".join(lines)))

    @work(exclusive=True, group="admin-chain", exit_on_error=False)
    async def chain(self) -> None:
        report = await self.register.audit.verify()
        t = self.texts
        if report.ok:
            body = Text(intact(t, report))
        else:
            words = t("audit.broken", problem=broken(report))
            body = untrusted(words, "bold red", keep_newlines=False)
        self._show("chain", "admin.chain", body)

    @work(exclusive=True, group="admin-orgs", exit_on_error=False)
    async def orgs(self) -> None:
        """Each organisation: its recordings, its rule, and what retention will do."""
        plans = {p.org: p for p in (await self.register.retention.plan()).orgs}
        lines = []
        for org in await self.register.orgs.listing():
            count: Count = await self.register.recordings.count(
                RecordingFilter(orgs=(org.code,)), cap=None
            )
            lines.append(self.texts("admin.org", code=org.code, name=org.name, n=str(count)))
            plan = plans.get(org.code)
            if plan is not None:
                lines.append("  " + self._retention(plan))
        self._show("orgs", "admin.orgs", untrusted("\n".join(lines) or "–"))

    def _retention(self, plan: OrgPlan) -> str:
        t, rule = self.texts, plan.rule
        parts = []
        if rule.retention_days is not None:
            parts.append(t("admin.keep_days", n=rule.retention_days))
        if rule.contract_end is not None:
            parts.append(t("admin.contract", end=fmt_day(rule.contract_end), grace=rule.grace_days))
        parts.append(t("admin.due", now=plan.due_now, soon=plan.upcoming, held=len(plan.held)))
        if plan.key_destroyed:
            parts.append(t("admin.shredded"))
        elif plan.shred_due:
            parts.append(t("admin.shred_due"))
        return " · ".join(parts) if len(parts) > 1 else t("admin.no_rule") + " · " + parts[0]


def _checks(found: list[Check]) -> Text:
    out = Text()
    for check in found:
        mark, colour = _MARK[check.status]
        out.append(f"{mark} ", style=f"bold {colour}")
        out.append_text(untrusted(f"{check.name}: {check.detail}", keep_newlines=False))
        if check.fix and check.status is not Status.OK:
            out.append("\n      → ")
            out.append_text(untrusted(check.fix, keep_newlines=False))
        out.append("\n")
    return out


def _when(moment: datetime | None) -> str:
    return fmt_timestamp(moment.astimezone(UTC).isoformat()) if moment else "–"
