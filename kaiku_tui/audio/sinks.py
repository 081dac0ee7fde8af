"""Where decoded PCM16 goes: a sound device, or nowhere with a reason.

One small interface (`Sink`), called from one thread, the player's: open on
the first play (never at start-up: a jump host has no device, and that must
cost nothing until someone presses play), write frames (blocking while the
device's queue is full), say how much is still queued, drain, discard (pause,
seek: the queued sound is dropped and its length returned so the player knows
exactly what was heard), close.

* `MiniaudioSink` — the default. Wheels, no build; speaks PulseAudio directly
  (sound through `ssh -R`, see README) and ALSA.
* `SimpleaudioSink` — the optional extra `kaiku-tui[simpleaudio]`. It has no
  streaming API (each buffer opens the device anew), so it plays half-second
  blocks; and 1.0.4 segfaults on Python 3.12/3.13, so it refuses to open there.
* `NullSink` — `[audio] sink = "none"`: play says sound is off.
* `MemorySink` — keeps what it is given; for tests and benchmarks.

No device is a normal state, reported as `NoAudioDevice`, whose `problem`
lets the face choose its words (with the SSH recipe) in the person's language.
"""

from __future__ import annotations

import enum
import importlib
import os
import sys
import threading
import time
from abc import ABC, abstractmethod
from typing import Any

from kaiku_tui.audio.alsa import silence_alsa
from kaiku_tui.errors import KaikuError

SSH_HINT = (
    "to hear it through SSH, forward your own PulseAudio: "
    "ssh -R 24713:localhost:4713 HOST and PULSE_SERVER=tcp:localhost:24713 (see README)"
)


class SinkProblem(enum.Enum):
    """Why there is no sound; the face words each one."""

    NO_DEVICE = "no-device"
    DISABLED = "disabled"
    NOT_INSTALLED = "not-installed"
    UNSAFE = "unsafe"


class NoAudioDevice(KaikuError):
    """Sound cannot be played here; the rest of the app goes on."""

    def __init__(self, problem: SinkProblem, detail: str) -> None:
        self.problem = problem
        self.detail = detail
        hint = f"; {SSH_HINT}" if problem is SinkProblem.NO_DEVICE else ""
        super().__init__(f"no sound: {detail}{hint}")


class Sink(ABC):
    """A place for interleaved little-endian PCM16; every call from the player's thread."""

    name = "sink"

    def __init__(self) -> None:
        self.rate = 0
        self.channels = 0

    @property
    def frame_bytes(self) -> int:
        return 2 * self.channels

    @abstractmethod
    def open(self, rate: int, channels: int) -> None:
        """Make ready for this format; raise `NoAudioDevice` when there is no sound here."""

    @abstractmethod
    def write(self, pcm: bytes) -> None:
        """Queue whole frames, blocking while the queue is full."""

    @abstractmethod
    def pending_frames(self) -> int:
        """Frames written but not yet handed to the device."""

    @abstractmethod
    def drain(self, timeout: float) -> bool:
        """Wait until everything written has been played; False if `timeout` came first."""

    @abstractmethod
    def discard(self) -> int:
        """Drop what is queued and fall silent (pause, seek); returns the frames dropped."""

    @abstractmethod
    def close(self) -> None:
        """Release the device; `open` may be called again."""


class NullSink(Sink):
    """Sound switched off in the configuration."""

    name = "none"

    def open(self, rate: int, channels: int) -> None:
        raise NoAudioDevice(SinkProblem.DISABLED, 'the configuration says [audio] sink = "none"')

    def write(self, pcm: bytes) -> None:
        raise NoAudioDevice(SinkProblem.DISABLED, "sound is off")

    def pending_frames(self) -> int:
        return 0

    def drain(self, timeout: float) -> bool:
        return True

    def discard(self) -> int:
        return 0

    def close(self) -> None:
        pass


class MemorySink(Sink):
    """Keeps every byte written; with `pace`, takes as long as the sound would (tests, bench)."""

    name = "memory"

    def __init__(self, *, pace: float = 0.0) -> None:
        super().__init__()
        self.pace = pace
        self.data = bytearray()
        self.opened = 0
        self.first_write_at: float | None = None

    def open(self, rate: int, channels: int) -> None:
        self.rate, self.channels = rate, channels
        self.opened += 1

    def write(self, pcm: bytes) -> None:
        if self.first_write_at is None:
            self.first_write_at = time.perf_counter()
        self.data += pcm
        if self.pace:
            time.sleep(len(pcm) / self.frame_bytes / self.rate * self.pace)

    def pending_frames(self) -> int:
        return 0

    def drain(self, timeout: float) -> bool:
        return True

    def discard(self) -> int:
        return 0

    def close(self) -> None:
        pass


# --- miniaudio ---------------------------------------------------------------------------


def _import(module: str, extra: str) -> Any:
    """The module, or `NoAudioDevice(NOT_INSTALLED)` naming how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise NoAudioDevice(
            SinkProblem.NOT_INSTALLED, f"{module} is not installed ({extra}): {err}"
        ) from None


class _Feed:
    """What miniaudio's device thread calls: `send(frames)` returns up to that many frames.

    Not a generator, so that nothing can end it by accident; and it never
    raises, because an exception in a cffi callback is printed on stderr,
    which is the screen.
    """

    def __init__(self, sink: MiniaudioSink) -> None:
        self._sink = sink

    def send(self, frames: int) -> bytes:
        try:
            return self._sink._take(frames)
        except Exception:  # noqa: BLE001 - see the docstring
            return b""


class MiniaudioSink(Sink):
    """A miniaudio playback device fed from a bounded queue.

    The device thread waits (up to `_STARVED_S`) for a full period rather than
    playing silence at once: a paced device then underruns exactly as it
    would have anyway, and an unpaced one (ALSA's `file` PCM in the tests)
    records the samples without gaps.
    """

    name = "miniaudio"
    _STARVED_S = 0.5
    _STALLED_S = 3.0
    _PERIODS = 4  # miniaudio's default buffer is 3 periods; one more to be sure

    def __init__(
        self, *, backends: tuple[str, ...] = ("PULSEAUDIO", "ALSA"), period_ms: int = 50
    ) -> None:
        super().__init__()
        # PulseAudio first (what SSH forwarding brings), then ALSA; no JACK or
        # OSS, whose libraries print their own failures on stderr.
        self._backends = backends
        self._period_ms = period_ms
        self._queue = bytearray()
        self._cond = threading.Condition()
        self._halting = False
        self._draining = False
        self._callbacks = 0
        self._request = 0  # the most frames the device has asked for at once
        self._device: Any = None
        self._running = False
        self.backend = ""

    def open(self, rate: int, channels: int) -> None:
        if self._device is not None and (rate, channels) == (self.rate, self.channels):
            return
        self.close()
        miniaudio = _import("miniaudio", "pip install miniaudio")
        silence_alsa()
        try:
            self._device = miniaudio.PlaybackDevice(
                output_format=miniaudio.SampleFormat.SIGNED16,
                nchannels=channels,
                sample_rate=rate,
                buffersize_msec=self._period_ms,
                backends=[miniaudio.Backend[name] for name in self._backends],
                app_name="kaiku-tui",
            )
        except miniaudio.MiniaudioError as err:
            raise NoAudioDevice(SinkProblem.NO_DEVICE, f"miniaudio: {err}") from None
        self.backend = str(self._device.backend)
        self.rate, self.channels = rate, channels

    def _capacity(self) -> int:
        """A quarter second, or twice the device's largest request: a queue smaller than
        one request would leave the device waiting for samples that cannot come."""
        return max(4, self.rate // 4, 2 * self._request) * self.frame_bytes

    def write(self, pcm: bytes) -> None:
        if self._device is None:
            raise NoAudioDevice(SinkProblem.NO_DEVICE, "the device is not open")
        if not self._running:
            self._device.start(_Feed(self))
            self._running = True
        deadline = time.monotonic() + self._STALLED_S
        with self._cond:
            while self._queue and len(self._queue) + len(pcm) > self._capacity():
                if not self._cond.wait(max(0.0, deadline - time.monotonic())):
                    raise NoAudioDevice(
                        SinkProblem.NO_DEVICE, "the sound device stopped taking samples"
                    )
            self._queue += pcm
            self._cond.notify_all()

    def _take(self, frames: int) -> bytes:
        """The device thread's side: a full period when it comes in time, else what there is."""
        want = frames * self.frame_bytes
        with self._cond:
            if frames > self._request:
                self._request = frames
                self._cond.notify_all()  # a writer waiting for room may now have it
            self._cond.wait_for(
                lambda: len(self._queue) >= want or self._halting or self._draining,
                timeout=self._STARVED_S,
            )
            out = bytes(self._queue[: 0 if self._halting else want])
            del self._queue[: len(out)]
            self._callbacks += 1
            self._cond.notify_all()
        return out

    def _settle(self, timeout: float) -> bool:
        """Wait until the queue is empty and the device has asked again `_PERIODS` times
        since: by then the last samples it took have left its own buffer."""
        with self._cond:
            if not self._cond.wait_for(lambda: not self._queue, timeout=timeout):
                return False
            mark = self._callbacks + self._PERIODS
            limit = self._PERIODS * self._period_ms / 1000 + self._STARVED_S
            return self._cond.wait_for(lambda: self._callbacks >= mark, timeout=limit)

    def pending_frames(self) -> int:
        with self._cond:
            return len(self._queue) // max(1, self.frame_bytes)

    def drain(self, timeout: float) -> bool:
        if not self._running:
            return True
        with self._cond:
            self._draining = True
            self._cond.notify_all()
        try:
            return self._settle(timeout)
        finally:
            with self._cond:
                self._draining = False

    def discard(self) -> int:
        """Drop the queue, then let the device play out what it already took, then stop.

        Stopping at once would also drop the device's own buffer (three periods),
        sound that the player has counted as heard; so the device is fed silence
        until it has asked for that much again.
        """
        with self._cond:
            dropped = len(self._queue) // max(1, self.frame_bytes)
            self._queue.clear()
            self._halting = True
            self._cond.notify_all()
        if self._running:
            self._settle(timeout=1.0)
            self._device.stop()
            self._running = False
        with self._cond:
            self._halting = False
        return dropped

    def close(self) -> None:
        if self._device is None:
            return
        self.discard()
        self._device.close()
        self._device = None


# --- simpleaudio -------------------------------------------------------------------------


def simpleaudio_is_safe(version: tuple[int, int] | None = None) -> bool:
    """simpleaudio 1.0.4 segfaults on 3.12 and 3.13 (DESIGN.md): only 3.11 is known good."""
    major, minor = version or sys.version_info[:2]
    return (major, minor) < (3, 12)


class SimpleaudioSink(Sink):
    """simpleaudio's `play_buffer`, one half-second block after another.

    Each block opens the ALSA device anew (simpleaudio has no stream), so the
    blocks are long to keep the joins rare; a pause stops the block that is
    sounding and counts what was not heard by the clock.
    """

    name = "simpleaudio"

    def __init__(self, *, block_ms: int = 500) -> None:
        super().__init__()
        self._block_ms = block_ms
        self._module: Any = None
        self._buffer = bytearray()
        self._current: Any = None
        self._current_frames = 0
        self._current_at = 0.0

    def open(self, rate: int, channels: int) -> None:
        if not simpleaudio_is_safe():
            raise NoAudioDevice(
                SinkProblem.UNSAFE,
                f"simpleaudio crashes on Python {sys.version_info[0]}.{sys.version_info[1]}; "
                'use [audio] sink = "miniaudio"',
            )
        self._module = _import("simpleaudio", "pip install 'kaiku-tui[simpleaudio]'")
        silence_alsa()
        self.rate, self.channels = rate, channels

    def write(self, pcm: bytes) -> None:
        self._buffer += pcm
        block = max(1, self.rate * self._block_ms // 1000) * self.frame_bytes
        while len(self._buffer) >= block:
            self._play(bytes(self._buffer[:block]))
            del self._buffer[:block]

    def _play(self, data: bytes) -> None:
        if self._current is not None:
            self._current.wait_done()
        try:
            self._current = self._module.play_buffer(data, self.channels, 2, self.rate)
        except Exception as err:  # noqa: BLE001 - _simpleaudio.SimpleaudioError is not exported
            self._current = None
            raise NoAudioDevice(SinkProblem.NO_DEVICE, f"simpleaudio: {err}") from None
        self._current_frames = len(data) // self.frame_bytes
        self._current_at = time.monotonic()

    def _unheard(self) -> int:
        """Frames of the sounding block not yet heard, by the clock."""
        if self._current is None or not self._current.is_playing():
            return 0
        heard = int((time.monotonic() - self._current_at) * self.rate)
        return max(0, self._current_frames - heard)

    def pending_frames(self) -> int:
        return len(self._buffer) // max(1, self.frame_bytes) + self._unheard()

    def drain(self, timeout: float) -> bool:
        if self._buffer:
            self._play(bytes(self._buffer))
            self._buffer.clear()
        deadline = time.monotonic() + timeout
        while self._current is not None and self._current.is_playing():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def discard(self) -> int:
        dropped = self.pending_frames()
        self._buffer.clear()
        if self._current is not None:
            self._current.stop()
            self._current = None
        return dropped

    def close(self) -> None:
        self.discard()


# --- choosing ----------------------------------------------------------------------------


def choose_sink(setting: str, environ: dict[str, str] | None = None) -> Sink:
    """The sink for `[audio] sink`; no device is opened here (the app calls this when a
    call's player is made, not at start-up).

    `auto` takes simpleaudio where it is safe (Python 3.11) and imports,
    unless `PULSE_SERVER` is set: then sound is meant to travel through SSH,
    which miniaudio speaks natively and simpleaudio only through an ALSA
    plugin that jump hosts rarely have.
    """
    env = os.environ if environ is None else environ
    if setting == "none":
        return NullSink()
    if setting == "miniaudio":
        return MiniaudioSink()
    if setting == "simpleaudio":
        return SimpleaudioSink()
    if setting != "auto":
        raise ValueError(f"unknown audio sink {setting!r}")
    if simpleaudio_is_safe() and not env.get("PULSE_SERVER") and _imports("simpleaudio"):
        return SimpleaudioSink()
    return MiniaudioSink()


def _imports(module: str) -> bool:
    """Whether the module imports (a build without its libasound fails here, not at play)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
