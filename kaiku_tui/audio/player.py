"""The playback engine: a recording's WAV bytes in, sound and played spans out. No Textual.

One thread of its own (started on the first play) reads the source a chunk
(50 ms) at a time through `wav.iter_pcm16`, mutes a channel if asked,
stretches the time if the speed is not 1, and writes to the sink. Nothing is
decoded ahead beyond the sink's small queue, and nothing is written anywhere
but the sink: no plaintext file, no whole-file decode.

Every control call (play, pause, seek, speed) only changes the wanted state
under a lock and bumps a generation number; the thread notices after its
current chunk, drops the sink's queue (`Sink.discard` says how many frames
were never heard) and starts a new run from the exact frame reached. So the
position after a pause is the last frame that went to the device, and the
next run decodes from there.

**Played spans**: from the frame where continuous playing began to the frame
last heard, closed by a pause, a seek, the end, an error or `close()` (the
screen being left). Each closed span goes to the listener as `SpanClosed`;
the face audits it as a play event through the Register. A change of speed
does not close a span: the same stretch of the recording goes on.

**Channels** of a stereo call: left (channel 0) is the agent, right
(channel 1) the customer — the register's convention, which the importer
must follow; muting sets one to zero.

Events are called from the player's thread; a face forwards them (Textual's
`post_message` is thread-safe). Errors in the data (a segment that does not
authenticate, a truncated file) and a missing device arrive as `Failed`;
nothing raised here can take the app down.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kaiku_tui.audio.sinks import Sink
from kaiku_tui.audio.source import AudioSource, SharedReader, shared
from kaiku_tui.audio.stretch import TimeStretcher
from kaiku_tui.audio.wav import WavFormat, iter_pcm16, validate
from kaiku_tui.errors import KaikuError

MIN_SPEED = 0.75
MAX_SPEED = 2.0


class Channel(enum.Enum):
    """Who is on which side of a stereo recording."""

    AGENT = 0  # left
    CUSTOMER = 1  # right


@dataclass(frozen=True)
class PlayedSpan:
    """Seconds of the recording actually played, from-to."""

    start_s: float
    end_s: float


@dataclass(frozen=True)
class Position:
    position_s: float
    playing: bool


@dataclass(frozen=True)
class SpanClosed:
    span: PlayedSpan


@dataclass(frozen=True)
class Failed:
    error: KaikuError


@dataclass(frozen=True)
class Ended:
    pass


PlayerEvent = Position | SpanClosed | Failed | Ended


class PlaybackError(KaikuError):
    """Something unforeseen stopped playback; the message says what."""


@dataclass
class _Run:
    """One stretch of continuous writing: from `start`, at `speed`, until the generation moves."""

    generation: int
    start: int
    speed: float
    fed: int = 0  # source frames decoded
    written: int = 0  # frames written to the sink (after stretching)
    finished: bool = False


class Player:
    """Plays one recording through one sink; every method returns at once."""

    def __init__(
        self,
        source: AudioSource | SharedReader,
        sink: Sink,
        on_event: Callable[[PlayerEvent], None],
        *,
        name: str = "",
        chunk_s: float = 0.05,
        position_interval_s: float = 0.1,
    ) -> None:
        self._read = shared(source)
        self.format: WavFormat = validate(self._read, self._read.size, name)
        self._sink = sink
        self._emit = on_event
        self._name = name
        self._chunk = max(1, int(self.format.sample_rate * chunk_s))
        self._interval = position_interval_s
        self._cond = threading.Condition()
        self._want_playing = False
        self._running = False
        self._closed = False
        self._generation = 0
        self._frame = 0  # where the next run starts
        self._live = 0  # the frame being heard, while running
        self._seek_to: int | None = None
        self._span_start: int | None = None
        self._speed = 1.0
        self._muted: Channel | None = None
        self._thread: threading.Thread | None = None

    @property
    def reader(self) -> SharedReader:
        """The locked reader, for the envelope to share."""
        return self._read

    # --- state seen from outside -------------------------------------------------------

    @property
    def duration_s(self) -> float:
        return self.format.duration_s

    @property
    def stereo(self) -> bool:
        return self.format.channels == 2

    @property
    def position_s(self) -> float:
        with self._cond:
            frame = self._live if self._running else self._frame
        return frame / self.format.sample_rate

    @property
    def playing(self) -> bool:
        with self._cond:
            return self._want_playing

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def muted(self) -> Channel | None:
        return self._muted

    # --- control -----------------------------------------------------------------------

    def play(self) -> None:
        with self._cond:
            if self._closed or self._want_playing:
                return
            if self._frame >= self.format.frames and not self._running:
                self._frame = 0  # play at the end starts again from the top
            self._want_playing = True
            self._bump()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="kaiku-player", daemon=True)
                self._thread.start()

    def pause(self) -> None:
        with self._cond:
            if not self._want_playing:
                return
            self._want_playing = False
            self._bump()

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def seek(self, seconds: float) -> None:
        """Go to a time; while playing, the span so far closes and a new one begins there."""
        target = min(max(0, round(seconds * self.format.sample_rate)), self.format.frames)
        with self._cond:
            if self._running:
                self._seek_to = target
                self._bump()
                return
            self._frame = target
        self._emit(Position(target / self.format.sample_rate, self.playing))

    def seek_by(self, delta_s: float) -> None:
        self.seek(self.position_s + delta_s)

    def set_speed(self, speed: float) -> float:
        """Clamp to 0.75-2x and restart the run at the frame reached; returns the speed set."""
        speed = round(min(max(speed, MIN_SPEED), MAX_SPEED), 2)
        with self._cond:
            if speed != self._speed:
                self._speed = speed
                self._bump()
        return speed

    def set_muted(self, channel: Channel | None) -> None:
        """Silence the agent or the customer (stereo only); applies from the next chunk."""
        self._muted = channel if self.stereo else None

    def close(self, timeout: float = 3.0) -> None:
        """Stop for good (leaving the screen): the open span closes, the device is released."""
        with self._cond:
            self._closed = True
            self._want_playing = False
            self._bump()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        else:
            self._sink.close()

    def _bump(self) -> None:
        self._generation += 1
        self._cond.notify_all()

    # --- the thread --------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while True:
                with self._cond:
                    self._cond.wait_for(lambda: self._want_playing or self._closed)
                    if self._closed:
                        break
                    run = _Run(self._generation, self._frame, self._speed)
                    self._running = True
                    self._live = run.start
                    if self._span_start is None:
                        self._span_start = run.start
                self._guarded(run)
        finally:
            self._sink.close()

    def _guarded(self, run: _Run) -> None:
        """Play one run; any failure closes the span at what was heard and becomes `Failed`."""
        try:
            self._sink.open(self.format.sample_rate, self.format.channels)
            self._play(run)
        except KaikuError as err:
            self._after_run(run, self._stop_sink(run), error=err)
        except Exception as err:  # noqa: BLE001 - a playback thread must not die silently
            wrapped = PlaybackError(f"playback stopped: {type(err).__name__}: {err}")
            self._after_run(run, self._stop_sink(run), error=wrapped)
        else:
            heard = self.format.frames if run.finished else self._stop_sink(run)
            self._after_run(run, heard)

    def _play(self, run: _Run) -> None:
        stretcher = None
        if run.speed != 1.0:
            stretcher = TimeStretcher(self.format.sample_rate, self.format.channels, run.speed)
        frame_bytes = 2 * self.format.channels
        last_report = 0.0
        chunks = iter_pcm16(self._read, self.format, run.start, self._chunk, name=self._name)
        for pcm in chunks:
            if self._generation != run.generation:
                return
            pcm = self._mute(pcm)
            run.fed += len(pcm) // frame_bytes
            self._write(run, stretcher.feed(pcm) if stretcher else pcm)
            now = time.monotonic()
            if now - last_report >= self._interval:
                last_report = now
                self._emit(Position(self._heard(run) / self.format.sample_rate, True))
        if stretcher is not None:
            self._write(run, stretcher.flush())
        if self._generation == run.generation:
            self._sink.drain(timeout=5.0)  # a stalled device still ends the recording
            run.finished = True

    def _write(self, run: _Run, pcm: bytes) -> None:
        if pcm:
            self._sink.write(pcm)
            run.written += len(pcm) // (2 * self.format.channels)
            with self._cond:
                self._live = self._heard(run)

    def _heard(self, run: _Run, unheard: int | None = None) -> int:
        """The source frame reached by what the device has taken (exact at speed 1)."""
        pending = self._sink.pending_frames() if unheard is None else unheard
        played = round((run.written - pending) * run.speed)
        return run.start + min(max(0, played), run.fed)

    def _stop_sink(self, run: _Run) -> int:
        try:
            dropped = self._sink.discard()
        except Exception:  # noqa: BLE001 - the device is gone; count everything unheard
            dropped = run.written
        return self._heard(run, dropped)

    def _mute(self, pcm: bytes) -> bytes:
        muted = self._muted
        if muted is None or self.format.channels != 2:
            return pcm
        out = bytearray(pcm)
        zeros = bytes(len(pcm) // 4)
        out[2 * muted.value :: 4] = zeros  # low byte of that channel's samples
        out[2 * muted.value + 1 :: 4] = zeros  # high byte
        return bytes(out)

    def _after_run(self, run: _Run, heard: int, error: KaikuError | None = None) -> None:
        """Settle where the next run starts and whether the span closes."""
        events: list[PlayerEvent] = []
        with self._cond:
            self._running = False
            close_span = True
            if self._seek_to is not None:
                self._frame, self._seek_to = self._seek_to, None
            elif run.finished:
                self._frame = self.format.frames
                self._want_playing = False
                events.append(Ended())
            else:
                self._frame = heard
                close_span = not self._want_playing or self._closed or error is not None
            if error is not None:
                self._want_playing = False
            if close_span:
                events[:0] = self._close_span(heard)
            events.insert(0, Position(self._frame / self.format.sample_rate, self._want_playing))
        if error is not None:
            events.append(Failed(error))
        for event in events:
            self._emit(event)

    def _close_span(self, end: int) -> list[PlayerEvent]:
        start, self._span_start = self._span_start, None
        if start is None or end <= start:
            return []
        rate = self.format.sample_rate
        return [SpanClosed(PlayedSpan(start / rate, end / rate))]
