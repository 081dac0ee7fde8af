"""The feedback cases screen: list, read, move a case on, open its recordings for it."""

from __future__ import annotations

from datetime import date

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.annotation import CaseStatus
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.register import Register
from kaiku_tui.ui.browse import BrowseScreen
from kaiku_tui.ui.cases import CasesScreen
from kaiku_tui.ui.conversation import ConversationScreen
from tests.ui.conftest import REVIEWER_LOGIN, SUPERVISOR, AppFactory, audit_events
from tests.ui.pilot import settle


async def a_case(config: Config) -> tuple[int, list[int]]:
    """A case of ITU with two linked recordings; its id and theirs (in id order)."""
    register = await Register.open(config, SUPERVISOR, environ={})
    try:
        page = await register.search(RecordingFilter(orgs=("ITU",)), limit=2)
        ids = sorted(r.id for r in page.rows)
        summary = "Asiakas ei saanut takaisinsoittoa"
        case = await register.add_case("ITU", "PAL-2026-0042", summary, date(2026, 11, 20))
        await register.link(case.id, ids)
        return case.id, ids
    finally:
        await register.close()


async def test_read_move_and_open_from_a_case(config: Config, make_app: AppFactory) -> None:
    case_id, ids = await a_case(config)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CasesScreen)
        assert [c.id for c in screen.cases] == [case_id]
        details = str(screen.query_one("#case").render())
        assert "PAL-2026-0042 · ITU · 20.11.2026" in details and f"1: #{ids[0]}" in details
        await pilot.press("greater_than_sign")  # open -> investigating
        await settle(pilot)
        assert screen.chosen is not None and screen.chosen.status is CaseStatus.INVESTIGATING
        await pilot.press("2")  # its second recording, for the case: no purpose asked
        await settle(pilot)
        conversation = app.screen
        assert isinstance(conversation, ConversationScreen)
        assert conversation.recording.summary.id == ids[1]
        assert conversation.purpose is Purpose.FEEDBACK
        await pilot.press("escape")
        assert isinstance(app.screen, CasesScreen)
        await pilot.press("s", "s")  # the filter: all -> open -> investigating
        await settle(pilot)
        assert [c.id for c in screen.cases] == [case_id]
        await pilot.press("s")  # resolved: none
        await settle(pilot)
        assert screen.cases == []
        await pilot.press("escape")
        assert isinstance(app.screen, BrowseScreen)
    opened = [e for e in audit_events(config) if e["action"] == "record.open"]
    assert opened[-1]["request_ref"] == "PAL-2026-0042" and opened[-1]["purpose"] == "feedback"
    assert any(e["action"] == "case.move" for e in audit_events(config))


async def test_a_reviewer_has_no_cases_key(config: Config, make_app: AppFactory) -> None:
    from kaiku_tui.domain.access import Identity

    app = make_app(identity=Identity(REVIEWER_LOGIN))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
