"""The witness: every checkpoint is in it, verify compares the chain with it, and a
verify that finds a fault signs nothing (issue 16 item 5, issue 19 items 2-3)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from kaiku_tui.config import Config, default_witness, from_mapping, register_name
from kaiku_tui.domain.access import Identity
from kaiku_tui.errors import TamperDetected
from kaiku_tui.register import Register

ADMIN = Identity("admin.aalto")
EVERY = 5  # checkpoint_every: several checkpoints in a short log


@pytest.fixture
async def config(tmp_path: Path) -> Config:
    """A register of ~30 events with a witness outside its data_dir."""
    raw = {
        "register": {"data_dir": str(tmp_path / "data")},
        "audit": {"checkpoint_every": EVERY, "witness": str(tmp_path / "witness" / "w.jsonl")},
    }
    config = from_mapping(raw, None)
    register = await Register.initialise(config, ADMIN, "Admin")
    try:
        for _ in range(12):
            await register.orgs.listing()
    finally:
        await register.close()
    await session(config, 12)
    return config


async def session(config: Config, events: int) -> None:
    register = await Register.open(config, ADMIN, environ={})
    try:
        for _ in range(events):
            await register.orgs.listing()
    finally:
        await register.close()


async def verify(config: Config) -> str | None:
    register = await Register.open(config, ADMIN, environ={})
    try:
        report = await register.audit.verify()
    finally:
        await register.close()
    return None if report.problem is None else report.problem.message


def sql(config: Config, statement: str, *params: object) -> None:
    db = sqlite3.connect(config.sqlite_path)
    for trigger in ("audit_event_no_update", "audit_event_no_delete"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute(statement, params)
    db.commit()
    db.close()


def head(config: Config) -> int:
    db = sqlite3.connect(config.sqlite_path)
    try:
        return int(db.execute("SELECT max(seq) FROM audit_event").fetchone()[0])
    finally:
        db.close()


def marks(line: str) -> tuple[int, str]:
    fields = json.loads(line)
    return fields["seq"], fields["hash"]


def snapshot(config: Config) -> tuple[bytes, bytes]:
    return config.checkpoint_file.read_bytes(), config.witness.read_bytes()


def test_the_default_witness_is_outside_data_dir(tmp_path: Path) -> None:
    config = from_mapping({"register": {"data_dir": str(tmp_path / "d")}}, None)
    name = register_name(tmp_path / "d")
    assert len(name) == 16 and int(name, 16) >= 0
    assert config.witness == default_witness(tmp_path / "d")
    assert config.witness.name == f"{name}.jsonl"
    assert not config.witness.is_relative_to(config.data_dir)


async def test_every_checkpoint_is_in_the_witness_and_verify_compares_them(
    config: Config,
) -> None:
    assert await verify(config) is None
    witness = [marks(line) for line in config.witness.read_text().splitlines()]
    checkpoints = [marks(line) for line in config.checkpoint_file.read_text().splitlines()]
    assert len(witness) >= 5  # every EVERY events and at each close
    assert witness == checkpoints  # each signed into both, the witness first


async def test_a_truncated_log_is_caught_by_the_witness(config: Config) -> None:
    last = head(config)
    sql(config, "DELETE FROM audit_event WHERE seq > ?", last - 8)
    config.checkpoint_file.unlink()  # the attacker removes the file beside the data too
    problem = await verify(config)
    assert problem is not None and "checkpoint file" in problem and "missing" in problem


async def test_a_truncated_log_with_both_files_kept(config: Config) -> None:
    sql(config, "DELETE FROM audit_event WHERE seq > ?", head(config) - 8)
    problem = await verify(config)
    assert problem is not None and "the tail was truncated" in problem


@pytest.mark.parametrize("which", ["witness", "checkpoint_file"])
async def test_a_deleted_file_fails_verify(config: Config, which: str) -> None:
    path: Path = getattr(config, which)
    path.unlink()
    problem = await verify(config)
    assert problem is not None and str(path) in problem and "is missing" in problem
    assert not path.exists()  # and no session started it afresh: still missing
    if which == "witness":  # never started afresh: a session signs nothing at all
        before = config.checkpoint_file.read_bytes()
        await session(config, EVERY * 2)
        assert not path.exists() and config.checkpoint_file.read_bytes() == before
        assert "is missing" in str(await verify(config))


@pytest.mark.parametrize("which", ["witness", "checkpoint_file"])
async def test_a_truncated_or_emptied_file_fails_verify(config: Config, which: str) -> None:
    path: Path = getattr(config, which)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-2]))
    problem = await verify(config)
    assert problem is not None and "was truncated" in problem
    path.write_bytes(b"")
    problem = await verify(config)
    assert problem is not None and str(path) in problem and "is empty" in problem


async def test_a_verify_that_fails_signs_nothing(config: Config) -> None:
    sql(config, "UPDATE audit_event SET mac = zeroblob(32) WHERE seq = 3")
    before = snapshot(config)
    register = await Register.open(config, ADMIN, environ={})
    try:
        report = await register.audit.verify()
        assert report.problem is not None and report.problem.seq == 3
        for _ in range(EVERY * 3):  # would sign every EVERY events
            await register.orgs.listing()
    finally:
        await register.close()  # would sign at close
    assert snapshot(config) == before  # byte for byte


async def test_a_head_is_signed_only_when_the_rows_since_the_witness_verify(
    config: Config,
) -> None:
    register = await Register.open(config, ADMIN, environ={})
    try:
        await register.orgs.listing()  # rows after the witness's last checkpoint
        sql(config, "UPDATE audit_event SET mac = zeroblob(32) WHERE seq = ?", head(config))
        before = snapshot(config)
        with pytest.raises(TamperDetected, match="no audit checkpoint was signed"):
            await register.orgs.listing()
            await register.orgs.listing()
            await register.orgs.listing()  # the EVERY-th event since the last checkpoint
    finally:
        await register.close()  # refused too, silently: the fault was raised once
    assert snapshot(config) == before


async def test_a_rewritten_chain_is_named_at_the_witness_checkpoint(config: Config) -> None:
    """A chain rewritten by someone holding every key, checkpoint file rewritten too:
    the witness still holds the true hashes."""
    from kaiku_tui.audit.chain import GENESIS, seal
    from kaiku_tui.audit.checkpoint import CheckpointFile
    from kaiku_tui.vault.keystore import KeyStore

    keys = KeyStore.open(config.key_store, {})
    db = sqlite3.connect(config.sqlite_path)
    rows = db.execute("SELECT seq, CAST(body AS BLOB) FROM audit_event ORDER BY seq").fetchall()
    db.close()
    prev, resealed = GENESIS, []
    for seq, body in rows:
        if seq == 4:
            body = body.replace(b'"outcome":"ok"', b'"outcome":"denied"')
        row = seal(seq, prev, body, keys.audit_mac_key)
        resealed.append((row.body.decode(), row.prev_hash, row.hash, row.mac, seq))
        prev = row.hash
    for values in resealed:
        sql(config, "UPDATE audit_event SET body = ?, prev_hash = ?, hash = ?, mac = ? "
            "WHERE seq = ?", *values)  # fmt: skip
    config.checkpoint_file.unlink()
    CheckpointFile(config.checkpoint_file).append(
        resealed[-1][4], resealed[-1][2], keys.checkpoint_signing_key, keys.key_id
    )
    problem = await verify(config)
    assert problem is not None and "differs from the witness's checkpoint" in problem
