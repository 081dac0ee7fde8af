"""A small register with known content, and the app on it as a person would open it.

"Today" is fixed at 28.11.2026 so that date presets and snapshots do not move.
The recordings: one a day through November 2026 (newest first on the 27th),
calls and chats in turn, durations from 30 s to over an hour, and one chat of
hostile messages (markup, terminal escapes, bidi overrides, a 100 KB text).
"""

from __future__ import annotations

import json
import sqlite3
from array import array
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from kaiku_tui.config import Config, from_mapping
from kaiku_tui.domain.access import Identity, Person, Role
from kaiku_tui.domain.dates import HELSINKI
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Channel, Direction, NewRecording, Speaker, TranscriptLine
from kaiku_tui.register import Register
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.i18n import Texts
from tests.unit.test_audio_wav import wav

TODAY = date(2026, 11, 28)
ADMIN = Identity("admin.aalto")
SUPERVISOR = Identity("sari.super", "10.0.0.9")
REVIEWER_LOGIN = "reijo.review"
DURATIONS = (30, 75, 200, 420, 1000, 3725)
HOSTILE = (
    "[bold]lihava[/bold] [/ [@click=app.quit]x[/] [link=https://evil.example]linkki[/link] "
    "\x1b[2J\x1b]52;c;c2VjcmV0\x07\x9b31m\u202eesrever"
)
HOSTILE_DAY = 15  # the chat of hostile messages starts on 15.11.2026
AUDIO_DAY = 27  # the newest call has 8 s of stereo audio


def started(day: int, hour: int = 10) -> int:
    return int(datetime(2026, 11, day, hour, 0, tzinfo=HELSINKI).timestamp())


def recording(day: int) -> NewRecording:
    """The recording of a November day: odd days calls, even days chats."""
    chat = day % 2 == 0
    lines = (
        TranscriptLine(2.0, "Asiakas", Speaker.CUSTOMER, f"Hei, päivän {day} asia: ajanvaraus."),
        TranscriptLine(9.0, "Aino Agentti", Speaker.AGENT, "Katsotaan, hetki vain."),
        TranscriptLine(12.0, "", Speaker.EVENT, "Keskustelu siirrettiin jonoon neuvonta"),
        TranscriptLine(20.0, "Asiakas", Speaker.CUSTOMER, "Kiitos, tämä auttoi."),
    )
    if day == HOSTILE_DAY:
        lines += (
            TranscriptLine(30.0, "[red]Asiakas[/red]", Speaker.CUSTOMER, HOSTILE),
            TranscriptLine(40.0, "Asiakas", Speaker.CUSTOMER, "pitkä " + "x" * 100_000),
        )
    audio = call_audio(8) if day == AUDIO_DAY else None
    return NewRecording(
        org="ITU" if day % 3 else "KESKI",
        channel=Channel.CHAT if chat else Channel.CALL,
        direction=Direction.OUTBOUND if day % 5 == 0 else Direction.INBOUND,
        started_at=started(day),
        duration_s=DURATIONS[day % len(DURATIONS)],
        agent="Aino Agentti" if day % 2 else "Bertta Bot",
        queue="neuvonta",
        source_id=f"nov-{day}",
        phone=f"+35840{day:07d}",
        transcript=lines,
        tags=("coaching:empathy",) if day % 4 == 0 else (),
        audio=audio,
    )


def call_audio(seconds: int) -> bytes:
    """A stereo PCM16 8 kHz call: agent (left) in the first half, customer (right) after."""
    frames = 8000 * seconds
    values = array("h", bytes(4 * frames))
    values[0:frames:2] = array("h", [12000, -12000] * (frames // 4))
    values[frames + 1 :: 2] = array("h", [6000, -6000] * (frames // 4))
    return wav(1, 2, 8000, 16, values.tobytes())


def config_for(folder: Path) -> Config:
    return from_mapping({"register": {"data_dir": str(folder / "data")}}, None)


async def build_register(
    folder: Path, days: range = range(1, 28), config: Config | None = None
) -> Config:
    config = config or config_for(folder)
    admin = await Register.initialise(config, ADMIN, "Admin")
    try:
        await admin.orgs.add(Organisation("ITU", "Itä-Uusimaa", None, None))
        await admin.orgs.add(Organisation("KESKI", "Keski-Uusimaa", None, None))
        roles = frozenset({Role.SUPERVISOR})
        await admin.persons.add(Person(SUPERVISOR.login, "Sari Supervisor", roles))
        reviewer = frozenset({Role.REVIEWER})
        await admin.persons.add(Person(REVIEWER_LOGIN, "Reijo Reviewer", reviewer))
        for org in ("ITU", "KESKI"):
            rows = [r for r in map(recording, days) if r.org == org]
            if rows:
                await admin.intake.add_recordings(rows, source="test")
    finally:
        await admin.close()
    return config


@pytest.fixture
async def config(tmp_path: Path) -> AsyncIterator[Config]:
    yield await build_register(tmp_path)


AppFactory = Callable[..., KaikuApp]


@pytest.fixture
def make_app(config: Config) -> AppFactory:
    def make(
        identity: Identity = SUPERVISOR, language: str = "en", cfg: Config | None = None
    ) -> KaikuApp:
        chosen = cfg or config

        async def opener() -> Register:
            return await Register.open(chosen, identity, environ={})

        return KaikuApp(opener, Texts(language), today=lambda: TODAY)

    return make


def audit_events(config: Config) -> list[dict[str, object]]:
    db = sqlite3.connect(config.sqlite_path)
    try:
        rows = db.execute("SELECT body FROM audit_event ORDER BY seq").fetchall()
        return [json.loads(body) for (body,) in rows]
    finally:
        db.close()


def day_of(epoch: int) -> int:
    return datetime.fromtimestamp(epoch, HELSINKI).day


def yesterday() -> date:
    return TODAY - timedelta(days=1)
