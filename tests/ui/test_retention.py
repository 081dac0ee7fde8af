"""Retention in the TUI: "destroyed in N days" in the list, the admin's retention status,
a held recording marked when opened."""

from __future__ import annotations

from datetime import date

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.dates import fmt_date
from kaiku_tui.register import Register
from kaiku_tui.ui.admin import AdminScreen
from kaiku_tui.ui.columns import COLUMNS, row_line
from kaiku_tui.ui.conversation import ConversationScreen
from tests.ui.conftest import ADMIN, SUPERVISOR, AppFactory, started
from tests.ui.pilot import screen_text, settle, shown_rows, the_list


async def rules_and_a_hold(config: Config) -> int:
    """ITU keeps 20 days; KESKI's contract ends 1.12.2026 (+90 days' grace); the ITU
    recording of 26 November is held. Returns its id."""
    admin = await Register.open(config, ADMIN, environ={})
    try:
        await admin.retention.set_org("ITU", retention_days=20)
        await admin.retention.set_org("KESKI", contract_end=date(2026, 12, 1))
    finally:
        await admin.close()
    sari = await Register.open(config, SUPERVISOR, environ={})
    try:
        from kaiku_tui.domain.browse import RecordingFilter

        rows = (await sari.recordings.search(RecordingFilter(orgs=("ITU",)), limit=100)).rows
        held = next(r.id for r in rows if r.started_at == started(26))
        await sari.holds.set(record_ids=[held], reason="Valitus AVIlle", ref="AVI-7")
        return held
    finally:
        await sari.close()


def line_of(app: object, day: int) -> str:
    text = screen_text(app)  # type: ignore[arg-type]
    return next(line for line in text.splitlines() if fmt_date(started(day)) in line)


async def test_g_shows_when_each_recording_is_destroyed(
    config: Config, make_app: AppFactory
) -> None:
    await rules_and_a_hold(config)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Gone" not in screen_text(app)
        await pilot.press("g")
        await settle(pilot)
        assert "Gone" in screen_text(app)
        assert "93 d" in line_of(app, 27)  # KESKI: 1.12.2026 + 90 d = 1.3.2027
        assert "18 d" in line_of(app, 26)  # ITU: 26.11. + 20 d = 16.12.
        listing = the_list(app)
        day7 = next(r for r in shown_rows(app) if r.started_at == started(7))
        assert "due" in row_line(day7, app.texts, 80, listing.columns)  # 27.11. < today
        await pilot.press("g")
        await settle(pilot)
        assert listing.columns == COLUMNS and "Gone" not in screen_text(app)


async def test_the_admin_sees_each_organisations_retention(
    config: Config, make_app: AppFactory
) -> None:
    await rules_and_a_hold(config)
    app = make_app(identity=ADMIN)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, AdminScreen)
        text = screen_text(app)
        assert "kept 20 d · due now " in text
        assert "contract ends 01.12.2026 (+90 d) · due now 0, within 30 d 0, held 0" in text


async def test_a_held_recording_says_so_and_opens_only_for_the_hold(
    config: Config, make_app: AppFactory
) -> None:
    held = await rules_and_a_hold(config)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        browse = app.screen
        row = next(r for r in shown_rows(app) if r.id == held)
        browse.open_recording(row, Purpose.QUALITY)  # type: ignore[attr-defined]
        await settle(pilot)
        assert app.screen is browse  # refused: the hold is for legal-hold use only
        browse.open_recording(row, Purpose.LEGAL_HOLD)  # type: ignore[attr-defined]
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert "Legal hold: YES" in screen_text(app)
