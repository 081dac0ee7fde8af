"""The browse screen: filters, a sparkline of recordings per day, the list, the status.

A filter change is debounced (typing) or immediate (a choice), then one
exclusive worker counts (capped, so it is quick) and shows the first rows;
the exact count and the sparkline follow in workers of their own, each
cancelled when the filters change again. Enter asks the purpose of access
(once per recording in a session), opens the recording through the register,
and only then shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Sparkline, Static
from textual.worker import Worker

from kaiku_tui.domain.access import Action, Purpose
from kaiku_tui.domain.browse import Page, RecordingFilter, Sort, SortKey
from kaiku_tui.domain.dates import HELSINKI
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Recording, RecordingSummary
from kaiku_tui.domain.retention import RetentionRule
from kaiku_tui.register import Register
from kaiku_tui.ui.case_forms import choose_and_link
from kaiku_tui.ui.columns import COLUMNS, heading, with_retention
from kaiku_tui.ui.failures import pass_on_failure
from kaiku_tui.ui.filter_bar import FilterBar
from kaiku_tui.ui.filters import FilterForm, FormError, to_filter
from kaiku_tui.ui.footer import Footer
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.modals import PurposeScreen
from kaiku_tui.ui.premises import PremisesBanner
from kaiku_tui.ui.presets import histogram_edges
from kaiku_tui.ui.recording_list import Fetcher, RecordingList
from kaiku_tui.ui.safe import untrusted
from kaiku_tui.ui.screens import KaikuScreen
from kaiku_tui.ui.tags import choose_and_tag
from kaiku_tui.ui.window import Fetch, Move

PAGE = 100
COUNT_CAP = 10_000
TYPING_PAUSE = 0.25  # seconds of no typing before a search runs


class BrowseScreen(KaikuScreen[None]):
    BINDINGS = [
        Binding("slash", "focus_filters", "bind.filter", id="browse.filter"),
        Binding("escape", "focus_list", "bind.list", show=False, id="browse.list"),
        Binding("d", "sort('date')", "bind.sort_date", id="browse.sort_date"),
        Binding("l", "sort('duration')", "bind.sort_duration", id="browse.sort_duration"),
        Binding("x", "clear_filters", "bind.clear", id="browse.clear_filters"),
        Binding("a", "audit_log", "bind.audit", id="browse.audit_log"),
        Binding("m", "admin", "bind.admin", id="browse.admin"),
        Binding("D", "disclosures", "bind.dpo", id="browse.disclosures"),
        Binding("g", "destruction_dates", "bind.kept", show=False, id="browse.destruction_dates"),
        Binding("t", "tag", "bind.tag", id="browse.tag"),
        Binding("c", "cases", "bind.cases", id="browse.cases"),
        Binding("f", "link_case", "bind.link_case", id="browse.link_case"),
        Binding("s", "samples", "bind.samples", id="browse.samples"),
    ]
    DEFAULT_CSS = """
    BrowseScreen #histogram { height: 1; margin: 0 1; }
    BrowseScreen #heading { height: 1; text-style: bold; color: $text-muted; }
    BrowseScreen #status {
        height: 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis;
    }
    BrowseScreen #problem { height: auto; color: $error; display: none; }
    BrowseScreen #problem.-shown { display: block; }
    """

    @dataclass
    class Opened(Message):
        """A recording was opened (for a purpose): the app shows it."""

        recording: Recording
        purpose: Purpose

    def __init__(
        self,
        register: Register,
        texts: Texts,
        orgs: list[Organisation],
        purposes: dict[int, Purpose],
        today: Callable[[], date] | None = None,
    ) -> None:
        super().__init__()
        self.register = register
        self.texts = texts
        self.orgs = orgs
        self.purposes = purposes  # remembered for the session, per recording
        self.today = today or (lambda: datetime.now(HELSINKI).date())
        self.where = RecordingFilter()
        self.sort = Sort()
        self.count_text = ""
        self._typing: Timer | None = None

    def compose(self) -> ComposeResult:
        yield PremisesBanner(self.register, self.texts)
        yield FilterBar(self.texts, self.orgs, self.today())
        yield Static(id="problem")
        yield Sparkline([], id="histogram")
        yield Static(id="heading")
        yield RecordingList(self.texts, name="recordings")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RecordingList).focus()
        self.search()

    def on_resize(self) -> None:
        columns = self.query_one(RecordingList).columns
        self.query_one("#heading", Static).update(
            Text(" " + heading(self.texts, self.size.width - 2, columns))
        )

    def action_destruction_dates(self) -> None:
        """Show or hide "destroyed in N days" (before the tags, which then get less room)."""
        listing = self.query_one(RecordingList)
        if listing.columns == COLUMNS:
            grace = self.register.config.grace_days
            rules = {o.code: RetentionRule(o.code, o.retention_days, o.contract_end, grace)
                     for o in self.orgs}  # fmt: skip
            listing.columns = with_retention(rules, self.today())
        else:
            listing.columns = COLUMNS
        self.on_resize()
        listing.refresh()

    # -- filters -------------------------------------------------------------------

    @on(FilterBar.Changed)
    def _filters_changed(self, event: FilterBar.Changed) -> None:
        if self._typing is not None:
            self._typing.stop()
            self._typing = None
        if event.typed:
            self._typing = self.set_timer(TYPING_PAUSE, lambda: self._typed(event.form))
        else:
            self._apply(event.form)

    def _typed(self, form: FilterForm) -> None:
        self._typing = None
        self._apply(form)

    @property
    def typing(self) -> bool:
        """A search waits for a pause in typing."""
        return self._typing is not None

    def _apply(self, form: FilterForm) -> None:
        bar = self.query_one(FilterBar)
        try:
            where = to_filter(form, self.today())
        except FormError as err:
            self._problem(str(err))
            bar.mark_invalid(err.field)
            return
        self._problem(None)
        bar.mark_invalid(None)
        if where != self.where:
            self.where = where
            self.search()

    def _problem(self, message: str | None) -> None:
        problem = self.query_one("#problem", Static)
        problem.update(Text(message or ""))
        problem.set_class(message is not None, "-shown")

    # -- searching -------------------------------------------------------------------

    @work(exclusive=True, group="search", exit_on_error=False)
    async def search(self) -> None:
        where, sort = self.where, self.sort
        count = await self.register.recordings.count(where, cap=COUNT_CAP)
        self.count_text = str(count) + (
            "" if count.exact else f" ({self.texts('status.counting')})"
        )
        self.query_one(RecordingList).show(self._fetcher(where, sort), sort, count.value)
        self._status()
        if not count.exact:
            self.exact_count(where)
        self.histogram(where)

    @work(exclusive=True, group="count", exit_on_error=False)
    async def exact_count(self, where: RecordingFilter) -> None:
        count = await self.register.recordings.count(where, cap=None)
        if where == self.where:
            self.count_text = str(count)
            self.query_one(RecordingList).recount(count.value)
            self._status()

    @work(exclusive=True, group="histogram", exit_on_error=False)
    async def histogram(self, where: RecordingFilter) -> None:
        edges = histogram_edges(where.started_from, where.started_before, self.today())
        counts = await self.register.recordings.histogram(where, edges)
        if where == self.where:
            self.query_one("#histogram", Sparkline).data = [float(c) for c in counts]

    def _fetcher(self, where: RecordingFilter, sort: Sort) -> Fetcher:
        register = self.register

        async def fetch(plan: Fetch) -> Page:
            if plan.move is Move.LAST:
                page = await register.recordings.search(where, sort.reversed(), limit=PAGE)
                rows = tuple(reversed(page.rows))
                return Page(rows, sort, has_before=page.has_after, has_after=False)
            if plan.move is Move.SEEK:
                cursor = await register.recordings.seek(where, sort, plan.fraction)
                return await register.recordings.search(where, sort, after=cursor, limit=PAGE)
            after = plan.cursor if plan.move is Move.AFTER else None
            before = plan.cursor if plan.move is Move.BEFORE else None
            return await register.recordings.search(
                where, sort, after=after, before=before, limit=PAGE
            )

        return fetch

    def on_recording_list_loaded(self, event: RecordingList.Loaded) -> None:
        self._status()

    def _status(self) -> None:
        t, person = self.texts, self.register.person
        sort = t(f"sort.{self.sort.key.value}") + (" ↓" if self.sort.descending else " ↑")
        roles = ", ".join(sorted(r.value for r in person.roles))
        parts = [
            t("status.one") if self.count_text == "1" else t("status.rows", count=self.count_text),
            t("status.sorted", sort=sort),
            f"{person.login} ({roles})",
            short_location(self.register.location),
        ]
        self.query_one("#status", Static).update(
            untrusted(" " + " · ".join(parts), keep_newlines=False)
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        pass_on_failure(self, event)

    # -- actions -------------------------------------------------------------------

    def action_focus_filters(self) -> None:
        self.query_one("FilterBar #dates").focus()

    def action_focus_list(self) -> None:
        self.query_one(RecordingList).focus()

    def action_sort(self, key: str) -> None:
        chosen = SortKey(key)
        descending = not self.sort.descending if self.sort.key is chosen else True
        self.sort = Sort(chosen, descending)
        self.search()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The audit log's key only for those who may read it (admins, the DPO), the
        maintenance screen's for admins."""
        if action == "audit_log":
            return self.register.may(Action.AUDIT_READ)
        if action == "admin":
            return self.register.may(Action.MAINTAIN)
        if action == "disclosures":
            return self.register.may(Action.DISCLOSURE_READ)
        if action == "tag":
            return self.register.may(Action.ANNOTATE)
        if action == "cases":
            return self.register.may(Action.CASE_READ)
        if action == "link_case":
            return self.register.may(Action.CASE_MANAGE)
        if action == "samples":
            return self.register.may(Action.ANNOTATION_READ)
        return True

    @work(exclusive=True, group="link", exit_on_error=False)
    async def action_link_case(self) -> None:
        """Link the recording under the cursor to a feedback case (chosen from a list)."""
        row = self.query_one(RecordingList).current
        if row is not None:
            await choose_and_link(self.app, self.register, self.texts, row.id, row.org)

    def action_samples(self) -> None:
        from kaiku_tui.ui.samples import SamplesScreen

        self.app.push_screen(SamplesScreen(self.register, self.texts, self.today()))

    def action_cases(self) -> None:
        from kaiku_tui.ui.cases import CasesScreen

        self.app.push_screen(CasesScreen(self.register, self.texts, self.orgs, self.today()))

    @work(exclusive=True, group="tag", exit_on_error=False)
    async def action_tag(self) -> None:
        """Tag the recording under the cursor (or take a tag off), with one key."""
        row = self.query_one(RecordingList).current
        if row is None:
            return
        purpose = self.purposes.get(row.id, Purpose.QUALITY)
        changed = await choose_and_tag(self.app, self.register, self.texts, row, purpose)
        if changed is not None:
            self.query_one(RecordingList).update_row(changed)

    def action_admin(self) -> None:
        from kaiku_tui.ui.admin import AdminScreen

        self.app.push_screen(AdminScreen(self.register, self.texts))

    def action_disclosures(self) -> None:
        from kaiku_tui.ui.disclosures import DisclosuresScreen

        self.app.push_screen(DisclosuresScreen(self.register, self.texts, self.today()))

    def action_audit_log(self) -> None:
        from kaiku_tui.ui.audit_log import AuditScreen

        self.app.push_screen(AuditScreen(self.register, self.texts))

    def action_clear_filters(self) -> None:
        self.query_one(FilterBar).clear()

    @on(RecordingList.Chosen)
    def _chosen(self, event: RecordingList.Chosen) -> None:
        summary = event.summary
        known = self.purposes.get(summary.id)
        if self.register.premises is not None:  # the review's purpose, for every recording
            known = Purpose.ACCESS_REQUEST
        if known is not None:
            self.open_recording(summary, known)
            return

        def chosen(purpose: Purpose | None) -> None:
            if purpose is not None:
                self.purposes[summary.id] = purpose
                self.open_recording(summary, purpose)

        self.app.push_screen(PurposeScreen(self.texts, summary.id), chosen)

    @work(exclusive=True, group="open", exit_on_error=False)
    async def open_recording(self, summary: RecordingSummary, purpose: Purpose) -> None:
        recording = await self.register.recordings.open_recording(summary.id, purpose)
        self.post_message(self.Opened(recording, purpose))


def short_location(location: str) -> str:
    """A local index path as short as it can be said: relative to here, or to home."""
    path = Path(location)
    if not path.is_absolute():
        return location  # a network index: host:port/database
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        if path.is_relative_to(base):
            return prefix + str(path.relative_to(base))
    return location
