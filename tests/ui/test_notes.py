"""Notes from the conversation screen: at a line of a call, on a message of a chat, whole."""

from __future__ import annotations

from textual.pilot import Pilot

from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.conversation import ConversationScreen, TranscriptEntry
from kaiku_tui.ui.notes import NoteScreen
from tests.ui.conftest import AppFactory, audit_events
from tests.ui.pilot import settle


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
