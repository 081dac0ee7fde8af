"""The DPO's screen: the disclosure log and the data subjects' requests with their deadlines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Static, TabbedContent

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Identity, Person, Role
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.subject import RequestKind
from kaiku_tui.register import Register
from kaiku_tui.ui.browse import BrowseScreen
from kaiku_tui.ui.disclosures import DisclosuresScreen
from tests.ui.conftest import ADMIN, REVIEWER_LOGIN, TODAY, AppFactory, audit_events
from tests.ui.pilot import settle

DPO = Identity("dora.dpo")


async def add_dpo(config: Config) -> None:
    """Dora, the data protection officer, named by the admin."""
    admin = await Register.open(config, ADMIN, environ={})
    try:
        await admin.persons.add(Person(DPO.login, "Dora DPO", frozenset({Role.DPO})))
    finally:
        await admin.close()


async def a_disclosure_and_requests(config: Config, folder: Path) -> list[int]:
    """One disclosure of two recordings to the police, and three requests: overdue,
    near its deadline, answered. Returns the disclosed ids."""
    await add_dpo(config)
    dora = await Register.open(config, DPO, environ={})
    try:
        ids = sorted(r.id for r in (await dora.recordings.search(RecordingFilter(), limit=2)).rows)
        rights = dora.subjects
        await rights.add_request("POL-9", RequestKind.AUTHORITY, TODAY, None)
        await rights.disclose(ids, "Poliisi", "Poliisilaki 4:3", "POL-9", folder / "copy")
        phone = "040 123 4567"
        await rights.add_request("TS-OLD", RequestKind.ACCESS, TODAY - timedelta(days=40), phone)
        await rights.add_request("TS-NEAR", RequestKind.LOG, TODAY - timedelta(days=27), phone)
        return ids
    finally:
        await dora.close()


async def dpo_screen(pilot: Pilot[None]) -> DisclosuresScreen:
    """The DPO's screen, opened from the list with its key."""
    await settle(pilot)
    await pilot.press("D")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DisclosuresScreen)
    return screen


def cells(table: DataTable[object], row: int) -> list[str]:
    return [str(c) for c in table.get_row_at(row)]


async def test_the_dpo_reads_the_disclosure_log_and_the_deadlines(
    config: Config, make_app: AppFactory, tmp_path: Path
) -> None:
    ids = await a_disclosure_and_requests(config, tmp_path)
    app = make_app(identity=DPO)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await dpo_screen(pilot)
        log = screen.query_one("#disclosures", DataTable)
        assert log.row_count == 1
        assert cells(log, 0)[1:5] == ["Poliisi", "Poliisilaki 4:3", "POL-9", "2"]
        detail = str(screen.query_one("#detail", Static).render())
        assert f"recordings {ids[0]}, {ids[1]}" in detail
        requests = screen.query_one("#requests", DataTable)
        states = {cells(requests, i)[0]: cells(requests, i)[-1] for i in range(3)}
        assert states == {"TS-OLD": "OVERDUE", "TS-NEAR": "deadline near", "POL-9": "answered"}
        await pilot.press("escape")
        assert isinstance(app.screen, BrowseScreen)
    actions = [e["action"] for e in audit_events(config) if e["actor"] == DPO.login]
    assert "disclosure.list" in actions


async def test_only_the_dpo_and_admins_have_the_key(config: Config, make_app: AppFactory) -> None:
    app = make_app(identity=Identity(REVIEWER_LOGIN))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
    app = make_app(identity=ADMIN)  # the log names no content; requests are the DPO's
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await dpo_screen(pilot)
        assert not screen.query("#requests")


async def test_the_requests_tab_says_how_late(
    config: Config, make_app: AppFactory, tmp_path: Path
) -> None:
    await a_disclosure_and_requests(config, tmp_path)
    app = make_app(identity=DPO, language="fi")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await dpo_screen(pilot)
        screen.query_one(TabbedContent).active = "request-list"
        await settle(pilot)
        requests = screen.query_one("#requests", DataTable)
        requests.focus()
        late = next(i for i in range(3) if cells(requests, i)[0] == "TS-OLD")
        requests.move_cursor(row=late)
        await settle(pilot)
        detail = str(screen.query_one("#detail", Static).render())
        assert detail == "Pyyntö TS-OLD, kirjannut dora.dpo; 9 pv myöhässä"
