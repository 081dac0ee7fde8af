"""Verifying a long log on two cores finds what one core finds, at the same seq."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from kaiku_tui.config import Config, from_mapping
from kaiku_tui.domain.access import Identity
from kaiku_tui.register import Register, verification

ADMIN = Identity("admin.aalto")
EVENTS = 120


@pytest.fixture
async def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    """A register with a log of ~120 events, verified in two halves from 10 rows on."""
    monkeypatch.setattr(verification, "PARALLEL_FROM", 10)
    config = from_mapping({"register": {"data_dir": str(tmp_path / "data")}}, None)
    register = await Register.initialise(config, ADMIN, "Admin")
    try:
        for _ in range(EVENTS):
            await register.orgs.listing()
    finally:
        await register.close()
    return config


def tamper(config: Config, sql: str, *params: object) -> None:
    db = sqlite3.connect(config.sqlite_path)
    db.execute("DROP TRIGGER audit_event_no_update")
    db.execute(sql, params)
    db.commit()
    db.close()


async def verify(config: Config) -> tuple[int, str | None]:
    register = await Register.open(config, ADMIN, environ={})
    try:
        report = await register.audit.verify()
    finally:
        await register.close()
    return report.checked, None if report.problem is None else report.problem.message


async def test_clean_log_verifies_in_two_halves(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    joined: list[int] = []
    real = verification._joined

    def spy(first: verification.Verified, rest: verification.Verified, start: tuple[int, bytes]):  # type: ignore[no-untyped-def]
        joined.append(rest.count)
        return real(first, rest, start)

    monkeypatch.setattr(verification, "_joined", spy)
    checked, problem = await verify(config)
    # init, person, the rows sealed (rowseal.py), the lists, session
    assert problem is None and checked == EVENTS + 4
    assert joined and 0 < joined[0] < checked  # the second process did its half


@pytest.mark.parametrize("seq", [5, 40, 100])
async def test_an_edit_in_either_half_is_named(config: Config, seq: int) -> None:
    tamper(
        config,
        "UPDATE audit_event SET body = replace(body, 'org.list', 'org.lost') WHERE seq = ?",
        seq,
    )
    _, problem = await verify(config)
    assert problem is not None and problem.startswith(f"seq {seq}: the body was altered")


async def test_a_broken_link_at_the_cut_is_named(config: Config) -> None:
    cut = (EVENTS + 4) // 2  # the head at verify time: the log and this session.open
    forged = hashlib.sha256(b"forged").digest()
    tamper(config, "UPDATE audit_event SET prev_hash = ? WHERE seq = ?", forged, cut + 1)
    _, problem = await verify(config)
    assert problem is not None and problem.startswith(f"seq {cut + 1}: its prev_hash is not")
