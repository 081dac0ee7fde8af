"""The player engine against sox's decode, with a sink that keeps what it is given.

What reaches the sink must be sox's samples from the chosen frame on; a pause
or seek must land on the frame the sink last received; every closed span must
say exactly which seconds went out. A gate in the source holds the player's
thread at a known chunk, so pauses and seeks land at a known frame without
any timing in the test.
"""

from __future__ import annotations

import io
import math
import threading
from array import array

import pytest

from kaiku_tui.audio.envelope import iter_envelope
from kaiku_tui.audio.player import (
    Channel,
    Ended,
    Failed,
    PlayedSpan,
    Player,
    PlayerEvent,
    Position,
    SpanClosed,
)
from kaiku_tui.audio.sinks import (
    MemorySink,
    MiniaudioSink,
    NoAudioDevice,
    NullSink,
    SimpleaudioSink,
    SinkProblem,
    choose_sink,
    simpleaudio_is_safe,
)
from kaiku_tui.audio.source import BytesSource
from kaiku_tui.audio.stretch import TimeStretcher
from kaiku_tui.audio.wav import WavFormat, validate
from kaiku_tui.errors import VaultError
from kaiku_tui.vault.keys import RecordKey, new_data_key
from kaiku_tui.vault.stream import (
    HEADER_LEN,
    SEGMENT_SIZE,
    STORED_SEGMENT_SIZE,
    BlobReader,
    BlobWriter,
)
from tests.conftest import Corpus
from tests.unit.test_audio_wav import wav

WAIT = 10.0


class Recorder:
    """Collects the player's events; `wait_for` blocks until one of a kind arrives."""

    def __init__(self) -> None:
        self.events: list[PlayerEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: PlayerEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, kind: type, count: int = 1) -> None:
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.of(kind)) >= count, timeout=WAIT)
        assert ok, f"no {kind.__name__} within {WAIT}s: {self.events}"

    def of(self, kind: type) -> list[PlayerEvent]:
        return [e for e in self.events if isinstance(e, kind)]

    def spans(self) -> list[PlayedSpan]:
        return [e.span for e in self.events if isinstance(e, SpanClosed)]


class GatedSource(BytesSource):
    """Holds the first read that reaches `gate_at` (a data offset) until `release()`."""

    def __init__(self, data: bytes, gate_at: int) -> None:
        super().__init__(data)
        self.gate_at = gate_at
        self.reached = threading.Event()
        self._open = threading.Event()
        self.held_offset = -1

    def read(self, offset: int, length: int) -> bytes:
        if not self._open.is_set() and offset >= self.gate_at:
            self.held_offset = offset
            self.reached.set()
            self._open.wait(WAIT)
        return super().read(offset, length)

    def release(self) -> None:
        self._open.set()


def fmt_of(data: bytes) -> WavFormat:
    return validate(BytesSource(data).read, len(data))


def frame_at(fmt: WavFormat, offset: int) -> int:
    return (offset - fmt.data_offset) // fmt.block_align


PLAYED = ["alaw_8k", "mulaw_8k", "stereo_s16", "stereo_alaw", "s24", "f32", "s16_ext"]


@pytest.mark.parametrize("name", PLAYED)
def test_what_reaches_the_sink_is_sox_decode_from_the_seek_point(corpus: Corpus, name: str) -> None:
    data = corpus.read(name)
    fmt = fmt_of(data)
    reference = corpus.sox_pcm16(name)
    sink, events = MemorySink(), Recorder()
    player = Player(BytesSource(data), sink, events)
    player.seek(0.4)
    player.play()
    events.wait_for(Ended)
    player.close()
    start = round(0.4 * fmt.sample_rate)
    assert bytes(sink.data) == reference[start * 2 * fmt.channels :]
    assert (sink.rate, sink.channels) == (fmt.sample_rate, fmt.channels)
    assert events.spans() == [PlayedSpan(start / fmt.sample_rate, fmt.duration_s)]


def test_pause_lands_on_the_last_frame_sent_and_play_goes_on_from_there(corpus: Corpus) -> None:
    data = corpus.read("stereo_alaw")
    fmt = fmt_of(data)
    reference = corpus.sox_pcm16("stereo_alaw")
    source = GatedSource(data, fmt.data_offset + fmt.data_length // 2)
    sink, events = MemorySink(), Recorder()
    player = Player(source, sink, events)
    player.play()
    assert source.reached.wait(WAIT)
    player.pause()
    source.release()
    events.wait_for(SpanClosed)
    held = frame_at(fmt, source.held_offset)
    assert player.position_s == held / fmt.sample_rate and not player.playing
    assert bytes(sink.data) == reference[: held * 4]
    player.play()
    events.wait_for(Ended)
    player.close()
    assert bytes(sink.data) == reference
    assert events.spans() == [
        PlayedSpan(0.0, held / fmt.sample_rate),
        PlayedSpan(held / fmt.sample_rate, fmt.duration_s),
    ]


def test_a_seek_while_playing_closes_the_span_and_plays_from_the_target(corpus: Corpus) -> None:
    data = corpus.read("mulaw_8k")
    fmt = fmt_of(data)
    reference = corpus.sox_pcm16("mulaw_8k")
    source = GatedSource(data, fmt.data_offset + fmt.data_length // 3)
    sink, events = MemorySink(), Recorder()
    player = Player(source, sink, events)
    player.play()
    assert source.reached.wait(WAIT)
    player.seek(0.25)
    source.release()
    events.wait_for(Ended)
    player.close()
    held = frame_at(fmt, source.held_offset)
    assert bytes(sink.data) == reference[: held * 2] + reference[2000 * 2 :]
    assert events.spans() == [
        PlayedSpan(0.0, held / 8000),
        PlayedSpan(0.25, fmt.duration_s),
    ]


def test_seek_by_and_to_a_time_when_paused_moves_without_playing(corpus: Corpus) -> None:
    data = corpus.read("alaw_8k")
    events = Recorder()
    player = Player(BytesSource(data), MemorySink(), events)
    player.seek_by(30)
    assert player.position_s == player.duration_s
    player.seek_by(-1.0)
    assert player.position_s == pytest.approx(player.duration_s - 1.0, abs=1 / 8000)
    player.seek(-5)
    assert player.position_s == 0.0
    assert [e for e in events.events if not isinstance(e, Position)] == []
    player.close()


def test_muting_the_agent_silences_the_left_channel_only(corpus: Corpus) -> None:
    data = corpus.read("stereo_s16")
    reference = array("h", corpus.sox_pcm16("stereo_s16"))
    sink, events = MemorySink(), Recorder()
    player = Player(BytesSource(data), sink, events)
    player.set_muted(Channel.AGENT)
    player.play()
    events.wait_for(Ended)
    player.close()
    out = array("h", bytes(sink.data))
    assert not any(out[0::2]) and any(reference[0::2])
    assert out[1::2] == reference[1::2]


def test_mute_is_ignored_on_mono(corpus: Corpus) -> None:
    player = Player(BytesSource(corpus.read("alaw_8k")), MemorySink(), Recorder())
    player.set_muted(Channel.CUSTOMER)
    assert player.muted is None
    player.close()


@pytest.mark.parametrize("speed", [0.75, 1.5, 2.0])
def test_speed_changes_the_length_and_the_span_counts_recording_time(
    corpus: Corpus, speed: float
) -> None:
    data = corpus.read("stereo_alaw")
    fmt = fmt_of(data)
    sink, events = MemorySink(), Recorder()
    player = Player(BytesSource(data), sink, events)
    assert player.set_speed(speed) == speed
    player.play()
    events.wait_for(Ended)
    player.close()
    out_frames = len(sink.data) // 4
    assert out_frames == pytest.approx(fmt.frames / speed, rel=0.03)
    assert events.spans() == [PlayedSpan(0.0, fmt.duration_s)]


def test_speed_is_clamped() -> None:
    data = wav(1, 1, 8000, 16, bytes(1600))
    player = Player(BytesSource(data), MemorySink(), Recorder())
    assert player.set_speed(5) == 2.0 and player.set_speed(0.1) == 0.75
    player.close()


def sine(rate: int, seconds: float, hz: float) -> bytes:
    count = int(rate * seconds)
    return array(
        "h", [round(9000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(count)]
    ).tobytes()


def crossings(pcm: bytes) -> int:
    values = array("h", pcm)
    return sum(1 for a, b in zip(values, values[1:], strict=False) if (a < 0) != (b < 0))


@pytest.mark.parametrize("speed", [0.75, 1.25, 2.0])
def test_the_stretch_keeps_the_pitch(speed: float) -> None:
    """The same tone in less (or more) time: zero crossings per second stay those of 220 Hz."""
    stretcher = TimeStretcher(16000, 1, speed)
    source = sine(16000, 3.0, 220.0)
    out = b"".join(stretcher.feed(source[i : i + 1600]) for i in range(0, len(source), 1600))
    out += stretcher.flush()
    seconds = len(out) / 2 / 16000
    assert seconds == pytest.approx(3.0 / speed, rel=0.03)
    assert crossings(out) / seconds == pytest.approx(440, rel=0.03)


def test_corrupt_data_mid_stream_is_a_failure_event_and_the_span_closes(corpus: Corpus) -> None:
    data = corpus.read("alaw_8k")
    fmt = fmt_of(data)

    class Tampered(BytesSource):
        def read(self, offset: int, length: int) -> bytes:
            if offset >= fmt.data_offset + 8000:
                raise VaultError("record X/1: audio segment 1 does not authenticate")
            return super().read(offset, length)

    sink, events = MemorySink(), Recorder()
    player = Player(Tampered(data), sink, events)
    player.play()
    events.wait_for(Failed)
    failed = events.of(Failed)[0]
    assert isinstance(failed, Failed) and "does not authenticate" in str(failed.error)
    assert events.spans() == [PlayedSpan(0.0, 1.0)] and len(sink.data) == 16000
    assert not player.playing
    player.close()


def test_an_unexpected_exception_in_the_source_is_a_failure_not_a_dead_thread() -> None:
    class Broken(BytesSource):
        def read(self, offset: int, length: int) -> bytes:
            if offset > 100:
                raise ZeroDivisionError("boom")
            return super().read(offset, length)

    events = Recorder()
    player = Player(Broken(wav(1, 1, 8000, 16, bytes(16000))), MemorySink(), events)
    player.play()
    events.wait_for(Failed)
    failed = events.of(Failed)[0]
    assert isinstance(failed, Failed) and "ZeroDivisionError: boom" in str(failed.error)
    player.play()  # the thread is still there to try again
    events.wait_for(Failed, 2)
    player.close()


def test_the_null_sink_gives_the_notice_and_no_span() -> None:
    events = Recorder()
    player = Player(BytesSource(wav(6, 1, 8000, 8, bytes(8000))), NullSink(), events)
    player.play()
    events.wait_for(Failed)
    failed = events.of(Failed)[0]
    assert isinstance(failed, Failed) and isinstance(failed.error, NoAudioDevice)
    assert failed.error.problem is SinkProblem.DISABLED
    assert events.spans() == [] and not player.playing
    player.close()


def test_close_while_playing_closes_the_span_at_what_was_played() -> None:
    data = wav(1, 1, 8000, 16, bytes(8000 * 2 * 20))
    sink, events = MemorySink(pace=1.0), Recorder()
    player = Player(BytesSource(data), sink, events)
    player.play()
    events.wait_for(Position, 3)
    player.close()
    spans = events.spans()
    assert len(spans) == 1 and spans[0].start_s == 0.0
    assert spans[0].end_s == len(sink.data) / 2 / 8000 and 0 < spans[0].end_s < 20


def test_play_at_the_end_starts_again_from_the_top() -> None:
    sink, events = MemorySink(), Recorder()
    player = Player(BytesSource(wav(1, 1, 8000, 16, bytes(1600))), sink, events)
    player.seek(1.0)
    player.play()
    events.wait_for(Ended)
    assert events.spans() == [PlayedSpan(0.0, 0.1)] and len(sink.data) == 1600
    player.close()


# --- envelope ----------------------------------------------------------------------------


def test_the_envelope_is_exact_for_short_columns_and_finds_the_loud_part() -> None:
    quiet, loud = [100, -100] * 400, [20000, -30000] * 400
    data = wav(1, 1, 8000, 16, array("h", quiet + loud + quiet).tobytes())
    fmt = fmt_of(data)
    columns = list(iter_envelope(BytesSource(data).read, fmt, 3))
    assert [c.peak for c in columns] == [100 / 32768, 30000 / 32768, 100 / 32768]
    assert columns[1].rms == pytest.approx(math.sqrt((20000**2 + 30000**2) / 2) / 32768)


def test_a_long_recording_is_sampled_not_read_whole(corpus: Corpus) -> None:
    data = wav(6, 2, 8000, 8, bytes([0xD5]) * 8000 * 2 * 600)  # 10 min of A-law silence
    fmt = fmt_of(data)
    read_bytes = 0
    source = BytesSource(data)

    def counting(offset: int, length: int) -> bytes:
        nonlocal read_bytes
        read_bytes += length
        return source.read(offset, length)

    columns = list(iter_envelope(counting, fmt, 80))
    assert len(columns) == 80 and max(c.peak for c in columns) == 8 / 32768
    assert read_bytes <= 80 * 4 * 1024 * 2


# --- choosing a sink ---------------------------------------------------------------------


def test_choose_sink_follows_the_setting() -> None:
    assert isinstance(choose_sink("none", {}), NullSink)
    assert isinstance(choose_sink("miniaudio", {}), MiniaudioSink)
    assert isinstance(choose_sink("simpleaudio", {}), SimpleaudioSink)
    assert isinstance(choose_sink("auto", {"PULSE_SERVER": "tcp:localhost:24713"}), MiniaudioSink)
    with pytest.raises(ValueError):
        choose_sink("oss", {})


def test_auto_takes_simpleaudio_only_where_it_is_safe_and_imports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("kaiku_tui.audio.sinks.simpleaudio_is_safe", lambda: True)
    monkeypatch.setattr("kaiku_tui.audio.sinks._imports", lambda module: True)
    assert isinstance(choose_sink("auto", {}), SimpleaudioSink)
    monkeypatch.setattr("kaiku_tui.audio.sinks._imports", lambda module: False)
    assert isinstance(choose_sink("auto", {}), MiniaudioSink)
    monkeypatch.setattr("kaiku_tui.audio.sinks._imports", lambda module: True)
    monkeypatch.setattr("kaiku_tui.audio.sinks.simpleaudio_is_safe", lambda: False)
    assert isinstance(choose_sink("auto", {}), MiniaudioSink)


def test_simpleaudio_is_only_trusted_on_3_11() -> None:
    assert simpleaudio_is_safe((3, 11)) and not simpleaudio_is_safe((3, 12))
    assert not simpleaudio_is_safe((3, 13))


def test_simpleaudio_refuses_to_open_where_it_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kaiku_tui.audio.sinks.simpleaudio_is_safe", lambda: False)
    with pytest.raises(NoAudioDevice) as caught:
        SimpleaudioSink().open(8000, 1)
    assert caught.value.problem is SinkProblem.UNSAFE and "miniaudio" in str(caught.value)


def test_no_device_message_says_how_to_bring_sound_through_ssh() -> None:
    text = str(NoAudioDevice(SinkProblem.NO_DEVICE, "miniaudio: failed to init device"))
    assert "ssh -R 24713:localhost:4713" in text and "PULSE_SERVER=tcp:localhost:24713" in text


class BlobSource:
    """The register's path: a BlobReader over an encrypted blob (as RecordingAudio reads)."""

    def __init__(self, reader: BlobReader) -> None:
        self._reader = reader
        self.size = reader.size

    def read(self, offset: int, length: int) -> bytes:
        return self._reader.read(offset, length)


def test_a_tampered_segment_of_the_encrypted_blob_stops_play_at_what_was_heard(
    corpus: Corpus,
) -> None:
    data = corpus.read("stereo_s16")
    fmt = fmt_of(data)
    assert len(data) > 3 * SEGMENT_SIZE
    key = RecordKey("ITU/call-1", new_data_key())
    stored = io.BytesIO()
    with BlobWriter(key, stored) as writer:
        writer.write(data)
    blob = bytearray(stored.getvalue())
    blob[HEADER_LEN + 2 * STORED_SEGMENT_SIZE + 100] ^= 0x01  # a bit flipped in segment 2
    reader = BlobReader(key, io.BytesIO(bytes(blob)))
    sink, events = MemorySink(), Recorder()
    player = Player(BlobSource(reader), sink, events, name="recording 1")
    player.play()
    events.wait_for(Failed)
    player.close()
    failed = events.of(Failed)[0]
    assert isinstance(failed, Failed) and isinstance(failed.error, VaultError)
    assert "segment 2 does not authenticate" in str(failed.error)
    heard = len(sink.data)
    reference = corpus.sox_pcm16("stereo_s16")
    assert bytes(sink.data) == reference[:heard]
    assert 2 * SEGMENT_SIZE - fmt.data_offset - 5000 < heard <= 2 * SEGMENT_SIZE - fmt.data_offset
    assert events.spans() == [PlayedSpan(0.0, heard / 4 / fmt.sample_rate)]
