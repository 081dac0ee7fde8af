"""The conversation screen: purpose first, then the recording; find; reveal the number."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from kaiku_tui.audio.sinks import MemorySink
from kaiku_tui.domain.recording import Channel
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.browse import BrowseScreen
from kaiku_tui.ui.conversation import ConversationScreen, TranscriptEntry
from kaiku_tui.ui.modals import PurposeScreen
from tests.ui.conftest import HOSTILE_DAY, AppFactory, audit_events
from tests.ui.pilot import screen_text, settle

SIZE = (80, 24)


async def open_row(app: KaikuApp, pilot: object, row: int, purpose_steps: int = 1) -> None:
    """Move to a row, press Enter and pick a purpose (`purpose_steps` downs from the first)."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await settle(pilot)
    await pilot.press("home", *["j"] * row, "enter")
    await pilot.pause()
    assert isinstance(app.screen, PurposeScreen)
    await pilot.press(*["down"] * purpose_steps, "enter")
    await settle(pilot)


def events(app: KaikuApp, action: str) -> list[dict[str, object]]:
    assert app.register is not None
    return [e for e in audit_events(app.register.config) if e["action"] == action]


async def test_open_a_call_asks_the_purpose_first_and_audits_it(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not events(app, "record.open")
        await open_row(app, pilot, row=0, purpose_steps=1)  # 27.11., a call; "feedback"
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        assert screen.recording.summary.channel is Channel.CALL
        assert [e["purpose"] for e in events(app, "record.open")] == ["feedback"]
        text = screen_text(app)
        assert "Purpose: Handle customer feedback" in text
        assert "Audio:" in text  # where the player will stand
        assert "0:02  Customer" in text  # a call's lines by their position in the recording
        assert "Hei, päivän 27 asia: ajanvaraus." in text


async def test_the_purpose_is_remembered_for_the_session(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_row(app, pilot, row=0, purpose_steps=2)  # quality
        await pilot.press("escape")
        assert isinstance(app.screen, BrowseScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)  # no second question
        assert [e["purpose"] for e in events(app, "record.open")] == ["quality", "quality"]


async def test_escape_from_the_purpose_opens_nothing(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        assert not events(app, "record.open")


async def test_a_chat_sets_customer_agent_and_events_apart(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_row(app, pilot, row=1)  # 26.11., a chat
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        entries = list(screen.query(TranscriptEntry))
        assert [e.classes for e in entries][:3] == [
            frozenset({"-customer"}),
            frozenset({"-agent"}),
            frozenset({"-event"}),
        ]
        assert "10:00:02  Customer" in screen_text(app)  # a chat's by the clock


async def test_find_in_the_transcript(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_row(app, pilot, row=1)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        await pilot.press("slash", *"KIITOS", "enter")
        await pilot.pause()
        assert screen.matches == [3]
        assert "matches: 1" in screen_text(app)
        await pilot.press("slash", *"a", "enter")
        await pilot.pause()
        assert screen.matches == [0, 1, 2, 3] and screen.current == 0
        await pilot.press("n", "n")
        assert screen.current == 2
        await pilot.press("N", "N", "N")
        assert screen.current == 3
        entries = list(screen.query(TranscriptEntry))
        assert entries[3].has_class("-current") and not entries[2].has_class("-current")
        await pilot.press("slash", *"ei löydy", "enter")
        await pilot.pause()
        assert screen.matches == [] and "No matches: ei löydy" in screen_text(app)


async def test_reveal_the_number_is_audited_before_it_shows(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_row(app, pilot, row=0)
        assert "+358 40 ••• ••27" in screen_text(app)
        assert not events(app, "phone.reveal")
        await pilot.press("r")
        await settle(pilot)
        assert "+358 40 000 0027" in screen_text(app)
        (event,) = events(app, "phone.reveal")
        assert event["purpose"] == "feedback" and event["target"] == str(
            app.screen.recording.summary.id  # type: ignore[attr-defined]
        )


async def test_hostile_messages_show_literally(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 60)) as pilot:
        await open_row(app, pilot, row=27 - HOSTILE_DAY)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        assert screen.recording.summary.source_id == f"nov-{HOSTILE_DAY}"
        await pilot.press("slash", *"lihava", "enter")
        await pilot.pause()
        text = screen_text(app)
        assert "[bold]lihava[/bold] [/ [@click=app.quit]x[/]" in text
        assert "[link=https://evil.example]linkki[/link]" in text
        assert "␛[2J␛]52;c;c2VjcmV0␇<U+009B>31m<U+202E>esrever" in text
        assert "[red]Asiakas[/red]" in text
        assert "\x1b" not in text and "\u202e" not in text
        await pilot.click("#transcript", offset=(5, 5))  # a click lands on no link
        assert app.is_running


async def test_a_100_kb_message_opens_and_scrolls(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_row(app, pilot, row=27 - HOSTILE_DAY)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        await pilot.press("end")
        await pilot.pause()
        line = list(screen.query(TranscriptEntry))[-1].line
        pieces = [e for e in screen.query(TranscriptEntry) if e.line is line]
        assert len(line.text) > 100_000 and len(pieces) > 10  # drawn in pieces...
        assert "".join(p.text for p in pieces) == line.text  # ...all of it
        assert sum(p.outer_size.height for p in pieces) > 1000  # wrapped, not cut
        scroller = screen.query_one("#transcript")
        assert scroller.scroll_y == scroller.max_scroll_y > 1000


async def test_listen_opens_the_audio_audited_plays_and_audits_the_span(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = MemorySink()
    monkeypatch.setattr("kaiku_tui.ui.conversation.choose_sink", lambda setting: sink)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_row(app, pilot, row=0)  # 27.11.: a call with 8 s of audio
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        assert not events(app, "audio.play")  # nothing opened before asked
        await pilot.press("space")
        await settle(pilot)
        assert [e["purpose"] for e in events(app, "audio.play")] == ["feedback"]
        await until(lambda: bool(events(app, "audio.played")))
        (played,) = events(app, "audio.played")
        assert played["criteria"] == {"from_s": 0.0, "to_s": 8.0}
        assert len(sink.data) == 8000 * 8 * 4  # every frame of the stereo call reached it
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)


async def test_enter_on_a_line_plays_from_it_and_leaving_closes_the_span(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = MemorySink(pace=1.0)  # as long as the sound takes
    monkeypatch.setattr("kaiku_tui.ui.conversation.choose_sink", lambda setting: sink)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_row(app, pilot, row=0)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        second = list(screen.query(TranscriptEntry))[1]  # the agent's line at 0:09 -> 8 s: end
        first = list(screen.query(TranscriptEntry))[0]  # the customer's line at 0:02
        first.focus()
        await pilot.press("enter")
        await until(lambda: screen.player is not None and screen.player.playing)
        await until(lambda: first.has_class("-spoken"))  # followed in the transcript
        assert not second.has_class("-spoken")
        await pilot.press("escape")  # leave while playing: the span closes
        await until(lambda: bool(events(app, "audio.played")))
        (played,) = events(app, "audio.played")
        start, end = played["criteria"]["from_s"], played["criteria"]["to_s"]  # type: ignore[index]
        assert start == 2.0 and 2.0 < end < 8.0


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("never happened")
        await asyncio.sleep(0.02)


async def test_pause_then_leave_at_once_audits_the_span_exactly_once(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = MemorySink(pace=1.0)
    monkeypatch.setattr("kaiku_tui.ui.conversation.choose_sink", lambda setting: sink)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_row(app, pilot, row=0)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        await pilot.press("space")
        await until(lambda: screen.player is not None and screen.player.position > 0.3)
        await pilot.press("space", "escape")  # the span's message may still be queued
        await settle(pilot)
        await until(lambda: bool(events(app, "audio.played")))
        await pilot.pause(0.3)
        spans = [e["criteria"] for e in events(app, "audio.played")]
        assert len(spans) == 1 and spans[0]["from_s"] == 0.0  # type: ignore[index]
