"""Synthetic recordings for the demo and the benchmarks: plausible, seeded, no real person.

Calls and chats arrive between 7 and 20 o'clock over the last `days` days;
durations are long-tailed (most calls a few minutes, a few up to an hour),
chats are longer and fewer. Every call has a time-coded transcript and every
chat its dialogue, in Finnish or English. One call in `audio_every` carries
its recording, speech-like audio (`speech.py`) exactly as long as the call —
A-law or PCM16, some stereo with the agent and the customer on their own
channels — and the transcript's lines start where the turns do. Calls with
audio last from 15 s to two minutes (about a minute typically): a few
thousand full-length recordings would be gigabytes, and the demo must build
in seconds. Each recording is its own blob under its own key; only the
phrases they are cut from are shared.

Phone numbers are random Finnish mobile numbers in one block (+358 50 5xx
xxxx); they stand for no one. Everything is drawn from one seeded generator:
the same seed and end date give the same register (the keys differ).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from kaiku_tui.domain.access import Person, Role
from kaiku_tui.domain.dates import day_start
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import (
    Channel,
    Direction,
    NewRecording,
    Speaker,
    TranscriptLine,
)
from kaiku_tui.ingest import speech

DEMO_ORGS = (
    Organisation("ITU", "Itä-Uudenmaan demohyvinvointialue", date(2024, 1, 1), date(2028, 12, 31)),
    Organisation("KESKI", "Keski-Suomen demohyvinvointialue", date(2024, 1, 1), date(2027, 6, 30)),
    # Keeps its recordings 60 days: a third of the demo's are due (`retention plan`, `g`).
    Organisation("LAHTI", "Lahden demokaupunki", date(2025, 3, 1), date(2027, 2, 28), 60),
)
# Besides the current login (admin and supervisor): one of each other kind.
DEMO_PERSONS = (
    Person("demo.reviewer", "Riikka Laatu", frozenset({Role.REVIEWER}), ("ITU",)),
    Person("demo.supervisor", "Kalle Keskinen", frozenset({Role.SUPERVISOR}), ("KESKI",)),
    Person("demo.dpo", "Tiina Tietosuoja", frozenset({Role.DPO})),
)
AGENTS = (
    "Aino Virtanen",
    "Mikko Korhonen",
    "Liisa Mäkinen",
    "Juha Nieminen",
    "Sanna Hämäläinen",
    "Petri Laine",
    "Elina Heikkinen",
    "Timo Koskinen",
)
QUEUES = ("ajanvaraus", "neuvonta", "laskutus", "palaute", "hammashoito")
TAGS = ("coaching:empathy", "coaching:process", "good-example", "complaint")
MAX_S = 3600
_AUDIO_MAX_S = 120

A, C = Speaker.AGENT, Speaker.CUSTOMER
Dialogue = tuple[tuple[Speaker, str], ...]
_FI: tuple[Dialogue, ...] = (
    (
        (A, "Hyvää päivää, ajanvaraus."),
        (C, "Hei, soitan kun sain kirjeen, että aikani on siirretty."),
        (A, "Selvä, tarkistan tiedot. Voisitteko kertoa syntymäaikanne?"),
        (C, "Se on 12.3.1958."),
        (A, "Kiitos. Uusi aikanne on tiistaina kello 10 terveysasemalla."),
        (C, "Se sopii hyvin, kiitos."),
        (A, "Saatte vielä vahvistuksen tekstiviestillä. Hyvää päivänjatkoa!"),
    ),
    (
        (A, "Neuvonta, kuinka voin auttaa?"),
        (C, "Lasku tuli minulle kahteen kertaan samasta käynnistä."),
        (A, "Pahoittelen. Katson asiaa, hetkinen."),
        (C, "Maksoin jo ensimmäisen."),
        (A, "Näen sen. Mitätöin jälkimmäisen laskun, teidän ei tarvitse tehdä mitään."),
        (C, "Hyvä, kiitos avusta."),
    ),
    (
        (A, "Hammashoitola, hyvää huomenta."),
        (C, "Huomenta. Hampaaseen sattuu ja tarvitsisin ajan pian."),
        (A, "Onko kipu jatkuvaa vai tuleeko se purressa?"),
        (C, "Lähinnä purressa, ja poski on vähän turvoksissa."),
        (A, "Varaan teille päivystysajan tälle päivälle kello 14."),
        (C, "Kiitos, tulen sinne."),
    ),
    (
        (A, "Palautepalvelu, hyvää päivää."),
        (C, "Haluan antaa palautetta. Odotin jonossa puoli tuntia."),
        (A, "Ymmärrän, että se on turhauttavaa. Kirjaan palautteenne."),
        (C, "Ja kun pääsin läpi, puhelu katkesi."),
        (A, "Pahoittelen. Välitän asian esihenkilölle ja teihin otetaan yhteyttä."),
    ),
)
_EN: tuple[Dialogue, ...] = (
    (
        (A, "Good morning, appointments."),
        (C, "Hi, I would like to move my appointment to next week."),
        (A, "Of course. Which day would suit you?"),
        (C, "Wednesday afternoon, if possible."),
        (A, "I have Wednesday at 13:30. Shall I book that?"),
        (C, "Yes please, thank you."),
    ),
    (
        (A, "Customer service, how can I help?"),
        (C, "I received a letter in Finnish and I do not understand it."),
        (A, "I can explain. It says your prescription is ready to be renewed."),
        (C, "Oh, good. What do I need to do?"),
        (A, "Nothing, the doctor will renew it and you will get a message."),
        (C, "Thank you, that helps a lot."),
    ),
)
_FILLERS = {
    A: ("Hetkinen, tarkistan.", "Selvä.", "Ymmärrän.", "Kiitos odottamisesta."),
    C: ("Joo.", "Aivan.", "Okei.", "Mm, niin."),
}


@dataclass(frozen=True)
class DemoSpec:
    records: int = 3_000
    seed: int = 7
    end: date = date(2026, 11, 27)
    days: int = 90
    audio_every: int = 20  # one call in this many carries its recording


def demo_phone(rng: random.Random) -> str:
    """A random mobile number in one block, so demo data is easy to recognise."""
    return f"+35850{rng.randint(5000000, 5999999)}"


def generate(spec: DemoSpec) -> Iterator[NewRecording]:
    """`spec.records` recordings over the `spec.days` days up to `spec.end`, oldest first."""
    rng = random.Random(spec.seed)
    studio = _Studio(random.Random(spec.seed + 1))
    first = spec.end - timedelta(days=spec.days - 1)
    per_day = spec.records / spec.days
    made = 0
    for n in range(spec.days):
        due = round(per_day * (n + 1)) - made
        start = day_start(first + timedelta(days=n))
        for t in sorted(start + rng.randint(7 * 3600, 20 * 3600) for _ in range(due)):
            made += 1
            yield _one(rng, studio, spec, t, made)


def _one(
    rng: random.Random, studio: _Studio, spec: DemoSpec, started_at: int, n: int
) -> NewRecording:
    channel = Channel.CHAT if rng.random() < 0.3 else Channel.CALL
    direction = Direction.OUTBOUND if rng.random() < 0.15 else Direction.INBOUND
    agent = rng.choice(AGENTS)
    english = rng.random() < 0.25
    dialogue = rng.choice(_EN if english else _FI)
    duration = _duration(rng, channel)
    audio: bytes | None = None
    if channel is Channel.CALL and n % spec.audio_every == 0:
        duration = max(15, min(int(rng.lognormvariate(0, 0.5) * 70), _AUDIO_MAX_S))
        audio, dialogue, starts = studio.call(dialogue, duration)
    else:
        starts = _turn_starts(rng, len(dialogue), duration)
    transcript = _lines(dialogue, starts, agent, english)
    if channel is Channel.CHAT:
        transcript = _chat_events(transcript, duration, english)
    return NewRecording(
        org=rng.choice(DEMO_ORGS).code,
        channel=channel,
        direction=direction,
        started_at=started_at,
        duration_s=duration,
        agent=agent,
        queue=rng.choice(QUEUES),
        source_id=f"demo-{n:08d}",
        phone=None if rng.random() < 0.03 else demo_phone(rng),
        transcript=transcript,
        notice_played=channel is Channel.CALL,
        tags=(rng.choice(TAGS),) if rng.random() < 0.05 else (),
        audio=audio,
    )


def _duration(rng: random.Random, channel: Channel) -> int:
    """Lognormal around 4 min (calls) or 10 min (chats): a long tail, capped at an hour."""
    median = 240 if channel is Channel.CALL else 600
    return max(5, min(int(rng.lognormvariate(0, 0.9) * median), MAX_S))


def _turn_starts(rng: random.Random, turns: int, duration: int) -> list[float]:
    """Where each turn of a dialogue begins, spread over the conversation."""
    cuts = sorted(rng.uniform(0, max(duration - 2, 1)) for _ in range(turns - 1))
    return [0.0] + [round(c, 1) for c in cuts]


def _lines(
    dialogue: Dialogue, starts: list[float], agent: str, english: bool
) -> tuple[TranscriptLine, ...]:
    customer = "Customer" if english else "Asiakas"
    return tuple(
        TranscriptLine(at, agent if role is A else customer, role, text)
        for (role, text), at in zip(dialogue, starts, strict=False)
    )


def _chat_events(
    lines: tuple[TranscriptLine, ...], duration: int, english: bool
) -> tuple[TranscriptLine, ...]:
    opened = "Conversation opened" if english else "Keskustelu avattu"
    closed = "Conversation resolved" if english else "Keskustelu ratkaistu"
    return (
        TranscriptLine(0.0, "", Speaker.EVENT, opened),
        *lines,
        TranscriptLine(float(duration), "", Speaker.EVENT, closed),
    )


# -- audio ----------------------------------------------------------------------------


class _Studio:
    """A small pool of synthesised phrases per voice, encoded once; recordings are cut
    from it as bytes, so a two-minute call costs a join, not a synthesis."""

    _PHRASES = 8

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        voices = {A: speech.AGENT_VOICE, C: speech.CUSTOMER_VOICE}
        raw = {
            side: [speech.phrase(rng, voice, rng.randint(4, 9)) for _ in range(self._PHRASES)]
            for side, voice in voices.items()
        }
        hiss = speech.pause(rng, 1.0)
        self._alaw = {side: [speech.alaw(p) for p in ps] for side, ps in raw.items()}
        self._pcm = {side: [speech.pcm16(p) for p in ps] for side, ps in raw.items()}
        self._hiss = {True: speech.alaw(hiss), False: speech.pcm16(hiss)}

    def call(self, dialogue: Dialogue, duration: int) -> tuple[bytes, Dialogue, list[float]]:
        """A WAV of `duration` seconds, its turns (the dialogue, then short replies while
        time is left) and where each turn starts."""
        rng = self._rng
        coded = rng.random() < 0.65  # A-law, as most PBXs record
        stereo = rng.random() < 0.2
        width = 1 if coded else 2
        turns = list(dialogue)
        while len(turns) * 9 < duration:  # keep turns a few seconds long
            side = turns[-1][0]
            other = C if side is A else A
            turns.append((other, rng.choice(_FILLERS[other])))
        starts = [round(i * duration / len(turns), 1) for i in range(len(turns))]
        ends = starts[1:] + [float(duration)]
        left, right = bytearray(), bytearray()
        for (side, _text), start, end in zip(turns, starts, ends, strict=True):
            frames = int(end * speech.RATE) - int(start * speech.RATE)
            voice = self._turn(side, frames, coded)
            quiet = self._quiet(frames * width, coded)
            left += voice if (side is A or not stereo) else quiet
            right += voice if side is C else quiet
        data = speech.interleave(bytes(left), bytes(right), width) if stereo else bytes(left)
        wav = speech.wav_file(data, alaw_coded=coded, channels=2 if stereo else 1)
        return wav, tuple(turns), starts

    def _turn(self, side: Speaker, frames: int, coded: bool) -> bytes:
        """Phrases with short gaps filling about three quarters of the turn, then line noise."""
        width = 1 if coded else 2
        pool = (self._alaw if coded else self._pcm)[side]
        out = bytearray()
        while len(out) < 0.75 * frames * width:
            out += self._rng.choice(pool) + self._quiet(int(0.15 * speech.RATE) * width, coded)
        out = out[: frames * width]
        return bytes(out) + self._quiet(frames * width - len(out), coded)

    def _quiet(self, length: int, coded: bool) -> bytes:
        hiss = self._hiss[coded]
        offset = self._rng.randrange(0, len(hiss) // 2) * (1 if coded else 2)
        reps = (length + offset) // len(hiss) + 1
        return (hiss * reps)[offset : offset + length]
