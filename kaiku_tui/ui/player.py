"""The player line of a call: state, position, speed, mute, and the waveform with a playhead.

The widget drives an `audio.player.Player` that it makes on mount from an
injected factory (the factory gets the widget's event callback), so the
screen decides where the audio comes from (`Register.open_audio`) and which
sink plays it, and tests give it bytes and a memory sink. Nothing here opens
a device: the player does so on the first play.

The player calls back from its own thread; the widget turns each event into
one of its typed messages with `post_message` (thread-safe), handles it
itself (redraw, notice) and lets it bubble: `Moved` at up to ten a second
(one pending `Moved` replaces the one before), `Played` for each closed span
— the screen audits it through the Register — `Ended` and `Failed`.

Leaving: a screen calls `stop()` before it goes, which closes the open span
and returns the spans closed by it (a message posted to a widget that is
being removed would be lost); unmounting stops the player too.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.worker import get_current_worker

from kaiku_tui.audio import player as engine
from kaiku_tui.audio.envelope import EnvelopeColumn, iter_envelope
from kaiku_tui.audio.player import Channel, PlayedSpan, Player, PlayerEvent
from kaiku_tui.audio.sinks import NoAudioDevice
from kaiku_tui.domain.dates import fmt_duration
from kaiku_tui.errors import KaikuError
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.safe import untrusted

PlayerFactory = Callable[[Callable[[PlayerEvent], None]], Player]
"""Makes the player, given the callback its events must go to."""

SPEEDS = (0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
_BARS = " ▁▂▃▄▅▆▇█"


def bar_for(column: EnvelopeColumn) -> str:
    """One cell of the waveform: eighths of a block by the column's peak (at least a dot)."""
    level = min(8, round(column.peak * 8 * 1.5))  # speech peaks rarely pass two thirds
    return _BARS[max(1, level)]


def next_speed(current: float, step: int) -> float:
    """The speed one step up or down the list (0.75 to 2)."""
    index = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - current))
    return SPEEDS[min(max(index + step, 0), len(SPEEDS) - 1)]


def spoken_line(starts: Sequence[float], position_s: float) -> int | None:
    """The transcript line being spoken at `position_s`: the last one that has begun.

    `starts` are the lines' times in the recording, ascending (`TranscriptLine.at`);
    for the conversation screen's highlight-and-follow on each `Moved`.
    """
    index = bisect_right(starts, position_s) - 1
    return index if index >= 0 else None


class PlayerBar(Widget, can_focus=True):
    """Two lines: the state and the waveform, keyboard-driven."""

    BINDINGS = [
        Binding("space", "play_pause", "bind.play", id="player.play_pause"),
        Binding("left", "seek(-5)", "bind.rewind", id="player.rewind"),
        Binding("right", "seek(5)", "bind.forward", id="player.forward"),
        Binding("shift+left", "seek(-30)", "bind.rewind30", show=False, id="player.rewind_30"),
        Binding("shift+right", "seek(30)", "bind.forward30", show=False, id="player.forward_30"),
        Binding("plus,equals_sign", "speed(1)", "bind.faster", show=False, id="player.faster"),
        Binding("minus", "speed(-1)", "bind.slower", show=False, id="player.slower"),
        Binding("a", "mute('agent')", "bind.mute_agent", show=False, id="player.mute_agent"),
        Binding(
            "c", "mute('customer')", "bind.mute_customer", show=False, id="player.mute_customer"
        ),
    ]
    DEFAULT_CSS = """
    PlayerBar { height: 2; padding: 0 1; }
    PlayerBar:focus { background: $boost; }
    """

    position: reactive[float] = reactive(0.0)
    playing: reactive[bool] = reactive(False)

    @dataclass
    class Moved(Message):
        """Where playback is; high-rate, so a newer one replaces one not yet handled."""

        position_s: float
        playing: bool

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PlayerBar.Moved)

    @dataclass
    class Played(Message):
        """A span of the recording was played (closed by pause, seek, end or error)."""

        span: PlayedSpan

    @dataclass
    class Ended(Message):
        """The recording played to its end."""

    @dataclass
    class Failed(Message):
        """Playback stopped: no device, damaged audio, or something unforeseen."""

        error: KaikuError

    def __init__(self, make_player: PlayerFactory, texts: Texts) -> None:
        super().__init__()
        self._make_player = make_player
        self.texts = texts
        self.player: Player | None = None
        self.envelope: list[EnvelopeColumn] = []
        self._stopping = False
        # Spans closed but not yet taken by the screen (`taken`), or returned by stop():
        # a Played message still queued when the screen goes must not lose its span.
        self._untaken: list[PlayedSpan] = []
        self._lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------------------------

    def on_mount(self) -> None:
        try:
            self.player = self._make_player(self._from_player)
        except KaikuError as err:
            self._fail(err)

    def on_resize(self, event: Resize) -> None:
        if self.player is not None and event.size.width > 0:
            self._draw_envelope(max(1, self.content_size.width))

    def on_unmount(self) -> None:
        self.stop()

    def stop(self) -> list[PlayedSpan]:
        """Stop for good; the spans this closes are returned, not posted."""
        if self.player is None or self._stopping:
            return []
        self._stopping = True
        self.player.close()
        with self._lock:
            spans, self._untaken = self._untaken, []
        return spans

    def taken(self, span: PlayedSpan) -> bool:
        """The screen takes a posted span to audit it; False if stop() returned it already."""
        with self._lock:
            if any(s is span for s in self._untaken):
                self._untaken = [s for s in self._untaken if s is not span]
                return True
            return False

    def seek_to(self, seconds: float) -> None:
        """Jump to a time (a transcript line): the screen calls this."""
        if self.player is not None:
            self.player.seek(seconds)

    # --- from the player's thread ----------------------------------------------------------

    def _from_player(self, event: PlayerEvent) -> None:
        """Runs on the player's thread: only `post_message` (thread-safe) and list appends."""
        if isinstance(event, engine.SpanClosed):
            with self._lock:
                self._untaken.append(event.span)
                stopping = self._stopping
            if not stopping:
                self.post_message(self.Played(event.span))
        elif isinstance(event, engine.Position):
            self.post_message(self.Moved(event.position_s, event.playing))
        elif isinstance(event, engine.Ended):
            self.post_message(self.Ended())
        elif isinstance(event, engine.Failed):
            self.post_message(self.Failed(event.error))

    def on_player_bar_moved(self, message: Moved) -> None:
        self.position, self.playing = message.position_s, message.playing

    def on_player_bar_ended(self, message: Ended) -> None:
        self.playing = False
        self.refresh()

    def on_player_bar_failed(self, message: Failed) -> None:
        self.playing = False
        self._fail(message.error)

    def _fail(self, error: KaikuError) -> None:
        self.notify(self.notice(error), severity="warning", timeout=12, markup=False)
        self.refresh()

    def notice(self, error: KaikuError) -> str:
        """The person's words for why sound stopped (or never started)."""
        if isinstance(error, NoAudioDevice):
            return self.texts(f"audio.{error.problem.value}")
        return self.texts("audio.failed", error=untrusted(str(error), keep_newlines=False).plain)

    # --- keys ------------------------------------------------------------------------------

    def action_play_pause(self) -> None:
        if self.player is not None:
            self.player.toggle()
            self.playing = self.player.playing

    def action_seek(self, delta: float) -> None:
        if self.player is not None:
            self.player.seek_by(delta)
            self.position = self.player.position_s

    def action_speed(self, step: int) -> None:
        if self.player is not None:
            self.player.set_speed(next_speed(self.player.speed, step))
            self.refresh()

    def action_mute(self, who: str) -> None:
        if self.player is None or not self.player.stereo:
            return
        channel = Channel.AGENT if who == "agent" else Channel.CUSTOMER
        self.player.set_muted(None if self.player.muted is channel else channel)
        self.refresh()

    # --- the waveform ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="envelope")
    def _draw_envelope(self, columns: int) -> None:
        """Reads a few windows per column (audio.envelope), sharing the player's lock."""
        player = self.player
        if player is None:
            return
        worker = get_current_worker()
        found = list(
            iter_envelope(
                player.reader, player.format, columns, cancelled=lambda: worker.is_cancelled
            )
        )
        if not worker.is_cancelled:
            self.app.call_from_thread(self._set_envelope, found)

    def _set_envelope(self, columns: list[EnvelopeColumn]) -> None:
        self.envelope = columns
        self.refresh()

    # --- drawing ---------------------------------------------------------------------------

    def render(self) -> Text:
        return self.status_line() + Text("\n") + self.wave_line()

    def status_line(self) -> Text:
        t, player = self.texts, self.player
        if player is None:
            return Text(t("player.unavailable"), style="dim")
        state = t("player.playing" if self.playing else "player.paused")
        line = Text(f"{'▶' if self.playing else '⏸'} {state}  ", style="bold")
        line.append(f"{fmt_duration(int(self.position))} / {fmt_duration(int(player.duration_s))}")
        line.append(f"  {t('player.speed', speed=f'{player.speed:g}')}")
        if player.muted is not None:
            line.append(f"  {t('player.muted_' + player.muted.name.lower())}", style="reverse")
        return line

    def wave_line(self) -> Text:
        player, width = self.player, max(1, self.content_size.width)
        if player is None or not self.envelope:
            return Text("·" * width, style="dim")
        cells = "".join(bar_for(c) for c in self.envelope[:width])
        head = min(len(cells) - 1, int(self.position / max(player.duration_s, 1e-9) * len(cells)))
        line = Text(cells[:head], style="bold")
        line.append(cells[head], style="reverse")
        line.append(cells[head + 1 :], style="dim")
        return line

    def watch_position(self, _: float) -> None:
        self.refresh()

    def watch_playing(self, _: bool) -> None:
        self.refresh()
