"""The browse screen at 80x24, driven by keys as a supervisor would."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kaiku_tui.config import Config, from_mapping
from kaiku_tui.domain.access import Identity
from kaiku_tui.register import Register
from kaiku_tui.ui.admin import AdminScreen
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.audit_log import AuditScreen
from kaiku_tui.ui.browse import BrowseScreen
from kaiku_tui.ui.filter_bar import FilterBar
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.modals import HelpScreen
from tests.ui.conftest import (
    ADMIN,
    DURATIONS,
    SUPERVISOR,
    TODAY,
    AppFactory,
    audit_events,
    build_register,
    day_of,
)
from tests.ui.pilot import screen_text, settle, shown_rows, the_list

SIZE = (80, 24)


async def test_opens_on_the_newest_first(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        days = [day_of(r.started_at) for r in shown_rows(app)]
        assert days == list(range(27, 0, -1))
        assert the_list(app).has_focus


async def test_date_preset_yesterday_by_keys(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")  # the date presets
        await pilot.press("enter", "down", "down", "enter")  # any, today, yesterday
        await settle(pilot)
        assert [day_of(r.started_at) for r in shown_rows(app)] == [27]
        bar = app.screen.query_one(FilterBar)
        assert (bar.form.date_from, bar.form.date_to) == ("27.11.2026", "27.11.2026")


async def test_custom_dates_typed(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "tab")  # the 'from' field
        await pilot.press(*"10.11.2026", "tab", *"12.11.2026")
        await settle(pilot)
        assert [day_of(r.started_at) for r in shown_rows(app)] == [12, 11, 10]


async def test_a_bad_date_names_the_field_and_keeps_the_list(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "tab", *"31.02.2026")
        await settle(pilot)
        problem = str(app.screen.query_one("#problem").render())
        assert "from '31.02.2026' is not a date" in problem
        assert app.screen.query_one("#date_from").has_class("-invalid")
        assert len(shown_rows(app)) == 27


async def test_duration_presets_and_custom(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "tab", "tab", "tab")  # the duration presets
        await pilot.press("enter", "down", "down", "down", "enter")  # 5-15 min
        await settle(pilot)
        assert {r.duration_s for r in shown_rows(app)} == {420}
        await pilot.press("tab", "ctrl+a", "ctrl+k", *"20:00", "tab", "ctrl+a", "ctrl+k")
        await settle(pilot)
        assert {r.duration_s for r in shown_rows(app)} == {3725}


async def test_sort_by_duration_both_ways_and_back_to_date(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        longest_first = [r.duration_s for r in shown_rows(app)]
        assert longest_first == sorted(longest_first, reverse=True)
        assert longest_first[0] == max(DURATIONS)
        await pilot.press("l")
        await settle(pilot)
        shortest_first = [r.duration_s for r in shown_rows(app)]
        assert shortest_first == sorted(shortest_first) and shortest_first[0] == min(DURATIONS)
        await pilot.press("d")
        await settle(pilot)
        assert day_of(shown_rows(app)[0].started_at) == 27
        await pilot.press("d")
        await settle(pilot)
        assert day_of(shown_rows(app)[0].started_at) == 1


async def test_filter_by_phone_in_a_finnish_format(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#phone").focus()
        await pilot.press(*"040 000 0012")
        await settle(pilot)
        assert [r.source_id for r in shown_rows(app)] == ["nov-12"]


async def test_keys_move_the_cursor(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        listing = the_list(app)
        await pilot.press("j", "j", "down")
        assert listing.cursor == 3
        await pilot.press("k")
        assert listing.cursor == 2
        await pilot.press("end")
        await settle(pilot)
        assert listing.cursor == 26 and listing.current is not None
        assert day_of(listing.current.started_at) == 1
        await pilot.press("home", "pagedown")
        assert listing.cursor == listing.size.height


async def test_status_line_shows_count_person_and_index(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 24)) as pilot:
        await settle(pilot)
        status = str(app.screen.query_one("#status").render())
        assert "27 recordings" in status and "sari.super (supervisor)" in status
        assert "index.sqlite3" in status


async def test_sparkline_counts_recordings_per_day(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        data = app.screen.query_one("#histogram").data  # type: ignore[attr-defined]
        # the last 30 days up to 28.11.: 30.10. .. 28.11., one a day from 1. to 27.
        assert data == [0.0, 0.0] + [1.0] * 27 + [0.0]
    assert any(e["action"] == "search.histogram" for e in audit_events(app_config(app)))


def app_config(app: KaikuApp) -> Config:
    assert app.register is not None
    return app.register.config


async def test_help_lists_every_key(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#keys").render())
        for words in ("Filter", "Date ↕", "Length ↕", "Clear filters", "Open", "Quit", "Help"):
            assert words in text
        await pilot.press("escape")
        assert isinstance(app.screen, BrowseScreen)


async def test_every_action_is_in_the_command_palette(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Filter", "Date ↕", "Length ↕", "Clear filters", "Help", "Quit"} <= titles


async def test_finnish(make_app: AppFactory) -> None:
    app = make_app(language="fi")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = str(app.screen.query_one("#status").render())
        assert "27 tallennetta" in status and "järjestys: päivä" in status
        await pilot.press("question_mark")
        text = str(app.screen.query_one("#keys").render())
        assert "Suodata" in text and "Lopeta" in text


async def test_a_person_not_named_is_refused_and_audited(make_app: AppFactory) -> None:
    app = make_app(identity=Identity("mallory"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
    assert app.return_code == 4
    assert app.register is None


async def test_a_locked_index_is_a_notice_and_the_app_goes_on(tmp_path: Path) -> None:
    config = from_mapping(
        {"register": {"data_dir": str(tmp_path / "data")}, "index": {"busy_timeout_ms": 100}},
        None,
    )
    await build_register(tmp_path, config=config)

    async def opener() -> Register:
        return await Register.open(config, SUPERVISOR, environ={})

    app = KaikuApp(opener, Texts("en"), today=lambda: TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        locker = sqlite3.connect(config.sqlite_path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        await pilot.press("l")  # a new search: its audit event cannot be written
        await settle(pilot)
        notices = [n.message for n in app._notifications]
        assert any("nothing was shown" in m or "does not answer" in m for m in notices), notices
        locker.execute("ROLLBACK")
        locker.close()
        await pilot.press("l")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, BrowseScreen)
        assert shown_rows(app)[0].duration_s == min(DURATIONS)


async def test_the_audit_log_for_those_who_may_read_it(make_app: AppFactory) -> None:
    app = make_app(identity=ADMIN)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        seqs = [seq for seq, _ in screen.events]
        assert seqs == sorted(seqs, reverse=True)  # newest first
        assert "session.open" in {event.action for _, event in screen.events}
        await pilot.press("slash", "tab", *"admin.aalto")  # since, actor
        await pilot.press("tab", *"session.open", "enter")  # action, then submit
        await settle(pilot)
        assert {(e.action, e.actor) for _, e in screen.events} == {("session.open", "admin.aalto")}
        await pilot.press("v")
        await settle(pilot)
        assert "Chain intact" in str(screen.query_one("#chain").render())
        await pilot.press("escape")
        assert isinstance(app.screen, BrowseScreen)
    assert any(e["action"] == "audit.read" for e in audit_events(app_config(app)))


async def test_a_supervisor_has_no_audit_log_key(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        assert "Audit log" not in {c.title for c in app.get_system_commands(app.screen)}


async def test_no_match_says_so(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#phone").focus()
        await pilot.press(*"050 999 9999")
        await settle(pilot)
        assert shown_rows(app) == []
        assert "No recordings match these filters." in screen_text(app)
        assert "0 recordings" in str(app.screen.query_one("#status").render())


async def test_the_admin_screen_shows_checks_keys_chain_and_orgs(make_app: AppFactory) -> None:
    app = make_app(identity=ADMIN)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AdminScreen)
        text = screen_text(app)
        assert "Checks" in text and "register opens" in text and "␊" not in text
        assert "master key" in text and "ITU" in text and "key present" in text
        assert "last backup: never" in text
        assert "Chain intact" in text
        assert "Organisations" in text and "no retention rule · due now 0" in text
        await pilot.press("escape")
        assert isinstance(app.screen, BrowseScreen)
    actions = {e["action"] for e in audit_events(app_config(app))}
    assert "register.maintain" in actions


async def test_a_supervisor_has_no_maintenance_key(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
