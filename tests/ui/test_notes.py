"""Notes from the conversation screen: at a line of a call, on a message of a chat, whole;
their history, an edit and a withdrawal; another's note; the DPO's view of withdrawn ones."""

from __future__ import annotations

from textual.pilot import Pilot

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Identity, Person, Role
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.register import Register
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.conversation import ConversationScreen, TranscriptEntry
from kaiku_tui.ui.modals import ConfirmScreen
from kaiku_tui.ui.notes import NoteScreen, NotesScreen
from tests.ui.conftest import ADMIN, REVIEWER_LOGIN, SUPERVISOR, AppFactory, audit_events
from tests.ui.pilot import screen_text, settle


async def open_row(pilot: Pilot[None], row: int) -> ConversationScreen:
    await settle(pilot)
    await pilot.press("home", *["j"] * row, "enter")
    await pilot.pause()
    await pilot.press("enter")  # purpose: verify
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ConversationScreen)
    return screen


async def write(pilot: Pilot[None], text: str) -> None:
    """o, then the note (the worker that asks waits for the dialog: no settle between)."""
    await pilot.press("o")
    for _ in range(200):
        if isinstance(pilot.app.screen, NoteScreen):
            break
        await pilot.pause(0.01)
    await pilot.press(*text, "enter")
    await settle(pilot)


def events(app: KaikuApp, action: str) -> list[dict[str, object]]:
    assert app.register is not None
    return [e for e in audit_events(app.register.config) if e["action"] == action]


async def test_a_note_at_a_line_of_a_call(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_row(pilot, 0)  # 27.11.: a call
        list(screen.query(TranscriptEntry))[1].focus()  # the agent's line at 0:09
        await write(pilot, "lupasi soittaa takaisin")
        shown = str(screen.query_one("#notes").render())
        assert "✎ 0:09  lupasi soittaa takaisin" in shown and "sari.super" in shown
    (added,) = events(app, "note.add")
    assert added["purpose"] == "verify"


async def test_a_note_on_a_chat_message_and_a_whole_note(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_row(pilot, 1)  # 26.11.: a chat
        list(screen.query(TranscriptEntry))[3].focus()
        await write(pilot, "asiakas kiitti")
        screen.query_one("#transcript").focus()
        await write(pilot, "[bold]yleinen[/bold]")
        shown = str(screen.query_one("#notes").render())
        assert "✎ message 4  asiakas kiitti" in shown
        assert "✎ the whole recording  [bold]yleinen[/bold]" in shown  # literally
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("enter")  # again: the notes are read back (purpose remembered)
        await settle(pilot)
        assert "asiakas kiitti" in str(app.screen.query_one("#notes").render())
    assert len(events(app, "note.add")) == 2 and len(events(app, "note.read")) >= 2


async def wait_for(pilot: Pilot[None], kind: type) -> None:
    for _ in range(200):
        if isinstance(pilot.app.screen, kind):
            return
        await pilot.pause(0.01)
    raise AssertionError(f"no {kind.__name__}")


async def test_history_edit_and_withdraw_own_note(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_row(pilot, 0)
        await write(pilot, "ensimmäinen")
        await pilot.press("v")
        await wait_for(pilot, NotesScreen)
        await settle(pilot)
        notes = app.screen
        assert isinstance(notes, NotesScreen)
        await pilot.press("e")
        await wait_for(pilot, NoteScreen)
        await pilot.press(*["backspace"] * 11, *"toinen [b]", "enter")
        await settle(pilot)
        history = str(notes.query_one("#history-text").render())
        assert "v1 " in history and "sari.super: wrote: ensimmäinen" in history
        assert "v2 " in history and "changed it to: toinen [b]" in history
        await pilot.press("w")
        await wait_for(pilot, ConfirmScreen)
        await pilot.press("n")  # not after all
        await settle(pilot)
        assert notes.notes and not notes.notes[0].withdrawn
        await pilot.press("w")
        await wait_for(pilot, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert notes.notes == []  # a supervisor does not see withdrawn notes
        assert "No notes." in str(notes.query_one("#history-text").render())
    actions = [e["action"] for e in audit_events(app.register.config)]  # type: ignore[union-attr]
    assert actions.count("note.edit") == 1 and actions.count("note.withdraw") == 1


async def test_anothers_note_cannot_be_changed_and_the_dpo_sees_withdrawn(
    config: Config, make_app: AppFactory
) -> None:
    writer = await Register.open(config, SUPERVISOR, environ={})
    try:
        page = await writer.recordings.search(RecordingFilter(), limit=1)
        record_id = page.rows[0].id
        await writer.notes.add(record_id, "pysyy")
        gone = await writer.notes.add(record_id, "poistuu")
        await writer.notes.withdraw(gone.note_id)
        admin = await Register.open(config, ADMIN, environ={})
        try:
            await admin.persons.add(Person(REVIEWER_LOGIN + "2", "R2", frozenset({Role.REVIEWER})))
            await admin.persons.add(Person("dora.dpo", "Dora", frozenset({Role.DPO})))
        finally:
            await admin.close()
    finally:
        await writer.close()
    app = make_app(identity=Identity(REVIEWER_LOGIN + "2"))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_row(pilot, 0)
        await pilot.press("v")
        await wait_for(pilot, NotesScreen)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, NotesScreen)
        assert [n.current.text for n in screen.notes] == ["pysyy"]
        assert "only its author changes it" in str(screen.query_one("#history-text").render())
        assert screen.check_action("edit", ()) is None  # shown, but off
        assert screen.check_action("withdraw", ()) is None
        await pilot.press("e", "w")
        await settle(pilot)
        assert app.screen is screen  # nothing opened
    dpo = make_app(identity=Identity("dora.dpo"))
    async with dpo.run_test(size=(80, 24)) as pilot:
        await open_row(pilot, 0)
        await pilot.press("v")
        await wait_for(pilot, NotesScreen)
        await settle(pilot)
        screen = dpo.screen
        assert isinstance(screen, NotesScreen)
        assert sorted(n.withdrawn for n in screen.notes) == [False, True]
        assert screen.check_action("edit", ()) is False  # the DPO does not annotate: no key
        text = screen_text(dpo)
        assert "poistuu" in text and "withdrawn" in text
        assert "Edit" not in text
    denied = [e for e in audit_events(config) if e["outcome"] == "denied"]
    assert denied == []  # the keys were off: nothing was even tried
