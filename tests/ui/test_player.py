"""The player widget under Pilot: keys, what it shows, the messages it posts up.

The widget gets a factory that makes a `Player` over WAV bytes in memory and
a `MemorySink` (paced like a real device where a test needs time to pass),
or the `NullSink`, which is what a jump host without sound has.
"""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.message import Message

from kaiku_tui.audio.envelope import EnvelopeColumn
from kaiku_tui.audio.player import PlayedSpan, Player, PlayerEvent
from kaiku_tui.audio.sinks import MemorySink, NoAudioDevice, NullSink, Sink, SinkProblem
from kaiku_tui.audio.source import BytesSource
from kaiku_tui.errors import VaultError
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.player import PlayerBar, bar_for, next_speed, spoken_line
from tests.ui.pilot import screen_text
from tests.unit.test_audio_wav import wav

SIZE = (80, 24)


def stereo_call(seconds: int) -> bytes:
    """Left (agent) loud in the first half, right (customer) in the second."""
    frames = 8000 * seconds
    values = array("h", bytes(4 * frames))
    values[0:frames:2] = array("h", [12000, -12000] * (frames // 4))
    values[frames + 1 :: 2] = array("h", [6000, -6000] * (frames // 4))
    return wav(1, 2, 8000, 16, values.tobytes())


class Harness(App[None]):
    """One PlayerBar; keeps every message it posts up."""

    def __init__(self, data: bytes, sink: Sink, language: str = "en") -> None:
        super().__init__()
        self.data, self.sink, self.texts = data, sink, Texts(language)
        self.seen: list[Message] = []

    def compose(self) -> ComposeResult:
        def make(on_event: Callable[[PlayerEvent], None]) -> Player:
            return Player(BytesSource(self.data), self.sink, on_event)

        yield PlayerBar(make, self.texts)

    def on_mount(self) -> None:
        self.query_one(PlayerBar).focus()

    def on_player_bar_played(self, message: PlayerBar.Played) -> None:
        assert self.query_one(PlayerBar).taken(message.span)  # as the screen does
        self.seen.append(message)

    def on_player_bar_failed(self, message: PlayerBar.Failed) -> None:
        self.seen.append(message)

    def on_player_bar_ended(self, message: PlayerBar.Ended) -> None:
        self.seen.append(message)

    def spans(self) -> list[PlayedSpan]:
        return [m.span for m in self.seen if isinstance(m, PlayerBar.Played)]


async def until(pilot: object, condition: object, timeout: float = 10.0) -> None:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot) and callable(condition)
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not met in time")


async def test_it_shows_state_length_speed_and_the_waveform() -> None:
    app = Harness(stereo_call(4), MemorySink())
    async with app.run_test(size=SIZE) as pilot:
        bar = app.query_one(PlayerBar)
        await until(pilot, lambda: bar.envelope)
        await pilot.pause()
        text = screen_text(app)
        assert "⏸ paused  0:00 / 0:04  speed 1×" in text
        wave = bar.wave_line().plain
        assert len(wave) == bar.content_size.width == 78
        assert set(wave[:38]) == {"▄"} and set(wave[40:]) == {"▂"}  # loud agent, quieter customer


async def test_space_plays_to_the_end_and_the_span_goes_up() -> None:
    app = Harness(stereo_call(1), MemorySink())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: any(isinstance(m, PlayerBar.Ended) for m in app.seen))
        assert app.spans() == [PlayedSpan(0.0, 1.0)]
        assert isinstance(app.sink, MemorySink) and len(app.sink.data) == 8000 * 4


async def test_pause_and_arrows_move_and_close_spans() -> None:
    sink = MemorySink(pace=1.0)
    app = Harness(stereo_call(60), sink)
    async with app.run_test(size=SIZE) as pilot:
        bar = app.query_one(PlayerBar)
        await pilot.press("space")
        await until(pilot, lambda: bar.position > 0.2)
        await pilot.press("space")  # pause
        await until(pilot, lambda: len(app.spans()) == 1)
        heard = len(sink.data) / 4 / 8000
        assert app.spans() == [PlayedSpan(0.0, heard)] and not bar.playing
        await pilot.press("shift+right", "right")
        assert bar.position == heard + 35
        await pilot.press("left", "shift+left", "shift+left")
        assert bar.position == 0.0
        await pilot.press("shift+right")
        await pilot.press("space")
        await until(pilot, lambda: bar.position > 30.2)
        await pilot.press("right")  # a seek while playing closes the span
        await until(pilot, lambda: len(app.spans()) == 2)
        second = app.spans()[1]
        assert second.start_s == 30.0 and 30.0 < second.end_s < 31.0
        spans = bar.stop()  # leaving: the open span comes back, not as a message
        # +5 s from the position shown when the key was pressed (at most a chunk behind)
        assert len(spans) == 1 and second.end_s + 5 - 0.2 <= spans[0].start_s <= second.end_s + 5


async def test_speed_and_mute_keys_show_in_the_status() -> None:
    app = Harness(stereo_call(2), MemorySink(), language="fi")
    async with app.run_test(size=SIZE) as pilot:
        bar = app.query_one(PlayerBar)
        await pilot.press("plus", "plus")
        assert bar.player is not None and bar.player.speed == 1.5
        await pilot.press("minus", "minus", "minus", "minus")
        assert bar.player.speed == 0.75
        await pilot.press("a")
        await pilot.pause()
        assert "agentti mykistetty" in screen_text(app) and "nopeus 0.75×" in screen_text(app)
        await pilot.press("c")
        await pilot.pause()
        assert "asiakas mykistetty" in screen_text(app)
        await pilot.press("c")
        await pilot.pause()
        assert bar.player.muted is None and "mykistetty" not in screen_text(app)


async def test_no_sound_here_gives_the_notice_and_the_app_goes_on() -> None:
    app = Harness(stereo_call(10), NullSink())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: any(isinstance(m, PlayerBar.Failed) for m in app.seen))
        await pilot.pause()
        assert [n.message for n in app._notifications] == [Texts("en")("audio.disabled")]
        assert app.spans() == [] and app.is_running
        await pilot.press("right")
        assert app.query_one(PlayerBar).position == 5.0


def test_the_notice_for_no_device_tells_the_ssh_recipe_in_both_languages() -> None:
    error = NoAudioDevice(SinkProblem.NO_DEVICE, "miniaudio: failed to init device")
    for language in ("fi", "en"):
        bar = PlayerBar(lambda on_event: None, Texts(language))  # type: ignore[arg-type,return-value]
        text = bar.notice(error)
        assert "ssh -R 24713:localhost:4713" in text and "PULSE_SERVER=tcp:localhost:24713" in text


def test_a_hostile_error_message_is_shown_as_plain_text() -> None:
    bar = PlayerBar(lambda on_event: None, Texts("en"))  # type: ignore[arg-type,return-value]
    text = bar.notice(VaultError("segment \x1b[2J[bold]x[/bold]\u202e"))
    assert "\x1b" not in text and "\u202e" not in text and "[bold]" in text


def test_speed_steps_and_waveform_cells() -> None:
    assert next_speed(1.0, 1) == 1.25 and next_speed(2.0, 1) == 2.0 and next_speed(0.75, -1) == 0.75
    assert next_speed(1.3, -1) == 1.0
    cells = [bar_for(c) for c in _columns([0.0, 0.1, 0.5, 1.0])]
    assert cells[0] == "▁" and cells[-1] == "█" and cells[1] < cells[2] < cells[3]


def _columns(peaks: list[float]) -> list[EnvelopeColumn]:
    return [EnvelopeColumn(p, p / 2) for p in peaks]


async def test_a_player_that_cannot_be_made_leaves_a_line_that_says_so() -> None:
    class Broken(Harness):
        def compose(self) -> ComposeResult:
            def make(on_event: Callable[[PlayerEvent], None]) -> Player:
                raise VaultError("record [bold]X[/bold]/1: audio segment 0 does not authenticate")

            yield PlayerBar(make, self.texts)

    app = Broken(b"", MemorySink())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "right", "plus", "a")
        await asyncio.sleep(0.05)
        await pilot.pause()
        assert "The audio cannot be played." in screen_text(app)
        [notice] = list(app._notifications)
        assert notice.message.startswith("Playback stopped: ")
        assert "[bold]X[/bold]/1" in notice.message and not notice.markup  # shown literally


async def test_position_messages_replace_each_other() -> None:
    moved = PlayerBar.Moved(1.0, True)
    assert moved.can_replace(PlayerBar.Moved(0.5, True))
    assert not moved.can_replace(PlayerBar.Ended())


def test_the_line_being_spoken_is_the_last_one_begun() -> None:
    starts = [2.0, 9.0, 12.0, 20.0]
    assert spoken_line(starts, 0.0) is None and spoken_line(starts, 1.99) is None
    assert [spoken_line(starts, t) for t in (2.0, 8.9, 9.0, 19.0, 3600.0)] == [0, 0, 1, 2, 3]
    assert spoken_line([], 5.0) is None
