"""The feedback cases screen: list, read, move a case on, open its recordings for it;
create a case (errors per field), link recordings (from the list, by number), edit it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from textual.pilot import Pilot
from textual.widgets import Input, Select

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Identity, Person, Purpose, Role
from kaiku_tui.domain.annotation import CaseStatus
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.register import Register
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.browse import BrowseScreen
from kaiku_tui.ui.case_forms import CaseChoice, CaseEditForm, LinkForm, NewCaseForm
from kaiku_tui.ui.cases import CasesScreen
from kaiku_tui.ui.conversation import ConversationScreen
from tests.ui.conftest import ADMIN, REVIEWER_LOGIN, SUPERVISOR, AppFactory, audit_events
from tests.ui.pilot import screen_text, settle, shown_rows


async def a_case(config: Config) -> tuple[int, list[int]]:
    """A case of ITU with two linked recordings; its id and theirs (in id order)."""
    register = await Register.open(config, SUPERVISOR, environ={})
    try:
        page = await register.recordings.search(RecordingFilter(orgs=("ITU",)), limit=2)
        ids = sorted(r.id for r in page.rows)
        summary = "Asiakas ei saanut takaisinsoittoa"
        case = await register.cases.add("ITU", "PAL-2026-0042", summary, date(2026, 11, 20))
        await register.cases.link(case.id, ids)
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
        await pilot.press("enter")  # its first recording
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert app.screen.recording.summary.id == ids[0]
        await pilot.press("escape")
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
    app = make_app(identity=Identity(REVIEWER_LOGIN))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)


async def until(pilot: Pilot[None], done: Callable[[], bool]) -> None:
    """Wait for what a worker under a dialog does (settle would wait for the dialog too)."""
    for _ in range(300):
        if done():
            return
        await pilot.pause(0.01)
    raise AssertionError("it did not happen")


def errors(app: KaikuApp) -> dict[str, str]:
    shown = app.screen.query(".error.-shown")
    return {str(w.id): str(w.render()) for w in shown}


async def test_create_a_case_link_two_recordings_move_it(
    config: Config, make_app: AppFactory
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        rows = shown_rows(app)
        assert [r.org for r in rows[:3]] == ["KESKI", "ITU", "ITU"]
        first, second = rows[1].id, rows[2].id
        await pilot.press("c")
        await settle(pilot)
        cases = app.screen
        assert isinstance(cases, CasesScreen) and cases.cases == []
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NewCaseForm))
        form = app.screen
        await pilot.press(*"PAL 9", "enter")  # a space; and no organisation chosen yet
        await until(pilot, lambda: "ref-error" in errors(app))
        assert "1 to 80 characters, no spaces" in errors(app)["ref-error"]
        await pilot.press("backspace", "backspace", *"-9", "enter")
        await until(pilot, lambda: "org-error" in errors(app))
        assert errors(app)["org-error"] == "Choose an organisation."
        form.query_one("#org", Select).value = "ITU"  # as picked from the list
        form.query_one("#received", Input).focus()
        await pilot.press("ctrl+u", *"31.11.2026", "enter")
        await until(pilot, lambda: "received-error" in errors(app))
        assert "'31.11.2026' is not a date" in errors(app)["received-error"]
        assert form.query_one("#ref", Input).value == "PAL-9"  # what was typed stays
        await pilot.press("ctrl+u", *"20.11.2026", "tab", *"Ei soittoa takaisin", "enter")
        await until(pilot, lambda: isinstance(app.screen, CasesScreen))
        await settle(pilot)
        assert [c.ref for c in cases.cases] == ["PAL-9"]
        assert cases.chosen is not None and cases.chosen.received == "2026-11-20"
        await pilot.press("escape")  # back to the list: link two recordings from it
        await settle(pilot)
        await pilot.press("home", "f")  # a KESKI recording: no case of KESKI to offer
        await until(pilot, lambda: isinstance(app.screen, CaseChoice))
        assert "No cases being handled." in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("j", "f")  # from the list
        await until(pilot, lambda: isinstance(app.screen, CaseChoice))
        await pilot.press("enter")  # the one open case
        await settle(pilot)
        await pilot.press("j", "enter", "enter")  # open the next (purpose: verify), and from it
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, CaseChoice))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        cases = app.screen
        assert isinstance(cases, CasesScreen)
        assert cases.chosen is not None and set(cases.chosen.records) == {first, second}
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert cases.chosen.status is CaseStatus.INVESTIGATING
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, CaseEditForm))
        await pilot.press("tab", *"Ohje oli väärä", "enter")
        await until(pilot, lambda: isinstance(app.screen, CasesScreen))
        await settle(pilot)
        assert cases.chosen.findings == "Ohje oli väärä"
        assert "Findings: Ohje oli väärä" in str(cases.query_one("#case").render())
    done = [(e["action"], e["outcome"]) for e in audit_events(config)]
    assert ("case.add", "ok") in done and done.count(("case.link", "ok")) == 2
    assert ("case.move", "ok") in done and ("case.set", "ok") in done
    sets = [e for e in audit_events(config) if e["action"] == "case.set"]
    assert sets[0]["criteria"] == {"findings": "(changed)"}  # only what changed


async def test_link_by_number_and_a_refusal_stays_on_the_form(
    config: Config, make_app: AppFactory
) -> None:
    case_id, ids = await a_case(config)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keski = next(r.id for r in shown_rows(app) if r.org == "KESKI")
        itu = next(r.id for r in shown_rows(app) if r.org == "ITU" and r.id not in ids)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LinkForm))
        await pilot.press(*f"{keski}", "enter")  # another organisation's recording
        await until(pilot, lambda: "error" in errors(app))
        assert f"recording {keski} is KESKI's" in errors(app)["error"]
        await pilot.press("ctrl+u", *f"{itu}", "enter")
        await until(pilot, lambda: isinstance(app.screen, CasesScreen))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CasesScreen) and screen.chosen is not None
        assert itu in screen.chosen.records and len(screen.chosen.records) == 3


async def test_a_dpo_reads_cases_but_has_no_keys_to_change_them(
    config: Config, make_app: AppFactory
) -> None:
    await a_case(config)
    admin = await Register.open(config, ADMIN, environ={})
    try:
        await admin.persons.add(Person("dora.dpo", "Dora", frozenset({Role.DPO})))
    finally:
        await admin.close()
    app = make_app(identity=Identity("dora.dpo"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")  # linking from the list: not for the DPO
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CasesScreen) and len(screen.cases) == 1
        for key in ("n", "e", "l", "greater_than_sign"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen
        assert "New case" not in screen_text(app)
