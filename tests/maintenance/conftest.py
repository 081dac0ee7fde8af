"""A small register with audio for the maintenance tests: an admin, a supervisor,
two organisations, recordings with multi-segment blobs and transcripts."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kaiku_tui.config import Config, load
from kaiku_tui.domain.access import Identity, Person, Role
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Channel, Direction, NewRecording, Speaker, TranscriptLine
from kaiku_tui.register import Register

ADMIN = Identity("admin.aalto")
SUPERVISOR = Identity("sari.super")
AUDIO_BYTES = 200_000  # four 64 KiB segments: a flipped bit can hide in the middle


def recording(n: int, org: str = "ITU", *, audio: bool = True) -> NewRecording:
    line = TranscriptLine(1.0, "Asiakas", Speaker.CUSTOMER, f"viesti {n}")
    return NewRecording(
        org, Channel.CALL, Direction.INBOUND, 1_790_000_000 + n * 60, 100 + n, "Aino",
        "neuvonta", f"src-{n}", "+358401234567", (line,),
        audio=os.urandom(AUDIO_BYTES) if audio else None,
    )  # fmt: skip


def write_config(folder: Path) -> Path:
    path = folder / "config.toml"
    path.write_text(
        f'[register]\ndata_dir = "{folder / "data"}"\n[audio]\nsink = "none"\n', encoding="utf-8"
    )
    return path


@pytest.fixture
async def config_file(tmp_path: Path) -> AsyncIterator[Path]:
    path = write_config(tmp_path)
    config = load(path)
    admin = await Register.initialise(config, ADMIN, "Admin")
    try:
        await admin.orgs.add(Organisation("ITU", "Itä", None, None))
        await admin.orgs.add(Organisation("KESKI", "Keski", None, None))
        await admin.persons.add(Person(SUPERVISOR.login, "Sari", frozenset({Role.SUPERVISOR})))
        await admin.intake.add_recordings([recording(n) for n in range(4)], source="test")
        await admin.intake.add_recordings(
            [recording(9, "KESKI"), recording(10, "KESKI", audio=False)], source="test"
        )
    finally:
        await admin.close()
    yield path


@pytest.fixture
def config(config_file: Path) -> Config:
    return load(config_file)


async def opened(config: Config, identity: Identity = ADMIN) -> Register:
    return await Register.open(config, identity, environ={})


def blob_of(config: Config, record_id: int) -> Path:
    db = sqlite3.connect(config.sqlite_path)
    try:
        (ref,) = db.execute("SELECT blob_ref FROM recording WHERE id = ?", (record_id,)).fetchone()
    finally:
        db.close()
    return config.blob_dir / ref[:2] / ref[2:4] / f"{ref}.kkb"


def events(config: Config) -> list[dict[str, object]]:
    db = sqlite3.connect(config.sqlite_path)
    try:
        return [json.loads(b) for (b,) in db.execute("SELECT body FROM audit_event ORDER BY seq")]
    finally:
        db.close()


def maintain_events(config: Config, task: str) -> list[dict[str, object]]:
    return [
        e
        for e in events(config)
        if e["action"] == "register.maintain"
        and isinstance(e.get("criteria"), dict)
        and e["criteria"].get("task") == task  # type: ignore[union-attr]
    ]
