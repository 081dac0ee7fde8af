"""Synthetic recordings for the demo and the benchmarks: plausible, seeded, no real person.

Calls arrive in office hours on weekdays, durations are long-tailed (most
calls a few minutes, a few over half an hour), chats are longer and fewer.
Phone numbers are random Finnish mobile numbers in one block (+358 50 5xx
xxxx); they stand for no one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from kaiku_tui.domain.dates import day_start
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import (
    Channel,
    Direction,
    NewRecording,
    Speaker,
    TranscriptLine,
)

DEMO_ORGS = (
    Organisation("ITU", "Itä-Uudenmaan demohyvinvointialue", date(2024, 1, 1), date(2028, 12, 31)),
    Organisation("KESKI", "Keski-Suomen demohyvinvointialue", date(2024, 1, 1), date(2027, 6, 30)),
    Organisation("LAHTI", "Lahden demokaupunki", date(2025, 3, 1), date(2027, 2, 28)),
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

_CUSTOMER_LINES = (
    "Hei, soitan ajanvarauksesta.",
    "Sain kirjeen, jossa aikani oli siirretty.",
    "Voinko vaihtaa aikaa ensi viikolle?",
    "Lasku tuli kahteen kertaan.",
    "Kiitos, tämä auttoi paljon.",
    "En ole tyytyväinen siihen, miten asia hoidettiin.",
)
_AGENT_LINES = (
    "Hyvää päivää, neuvonta, kuinka voin auttaa?",
    "Tarkistan tiedot järjestelmästä, hetkinen.",
    "Siirsin ajan, saatte vahvistuksen tekstiviestillä.",
    "Teen asiasta palautteen eteenpäin.",
    "Onko vielä jotain muuta?",
)


@dataclass(frozen=True)
class DemoSpec:
    records: int = 20_000
    seed: int = 7
    end: date = date(2026, 11, 27)
    years: float = 3.0


def demo_phone(rng: random.Random) -> str:
    """A random mobile number in one block, so demo data is easy to recognise."""
    return f"+35850{rng.randint(5000000, 5999999)}"


def _duration(rng: random.Random, channel: Channel) -> int:
    median = 240 if channel is Channel.CALL else 600
    return max(5, min(int(rng.lognormvariate(0, 0.9) * median), 4 * 3600))


def _transcript(rng: random.Random, duration: int) -> tuple[TranscriptLine, ...]:
    lines = []
    at = 0.0
    for i in range(rng.randint(3, 8)):
        agent = i % 2 == 0
        text = rng.choice(_AGENT_LINES if agent else _CUSTOMER_LINES)
        speaker, role = ("Agentti", Speaker.AGENT) if agent else ("Asiakas", Speaker.CUSTOMER)
        lines.append(TranscriptLine(round(at, 1), speaker, role, text))
        at = min(at + rng.uniform(3, 40), max(duration - 1, 0))
    return tuple(lines)


def generate(spec: DemoSpec) -> Iterator[NewRecording]:
    """`spec.records` recordings spread over `spec.years` up to `spec.end`, oldest first."""
    rng = random.Random(spec.seed)
    days = int(spec.years * 365)
    first = spec.end - timedelta(days=days - 1)
    per_day = spec.records / days
    made = 0
    for n in range(days):
        day = first + timedelta(days=n)
        due = round(per_day * (n + 1)) - made
        start = day_start(day)
        times = sorted(start + rng.randint(7 * 3600, 20 * 3600) for _ in range(due))
        for t in times:
            made += 1
            yield _one(rng, t, made)


def _one(rng: random.Random, started_at: int, n: int) -> NewRecording:
    channel = Channel.CHAT if rng.random() < 0.3 else Channel.CALL
    direction = Direction.OUTBOUND if rng.random() < 0.15 else Direction.INBOUND
    duration = _duration(rng, channel)
    org = rng.choice(DEMO_ORGS).code
    return NewRecording(
        org=org,
        channel=channel,
        direction=direction,
        started_at=started_at,
        duration_s=duration,
        agent=rng.choice(AGENTS),
        queue=rng.choice(QUEUES),
        source_id=f"demo-{n:08d}",
        phone=None if rng.random() < 0.03 else demo_phone(rng),
        transcript=_transcript(rng, duration),
        notice_played=channel is Channel.CALL,
        tags=(rng.choice(TAGS),) if rng.random() < 0.05 else (),
    )
