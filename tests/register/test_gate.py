"""The gate, the register's security kernel, on its own: what it refuses, that every
refusal and error is audited before it is raised, and what a review at the premises
narrows. The facets' tests show the same through the register; these pin the kernel."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from kaiku_tui.audit.checkpoint import CheckpointFile
from kaiku_tui.config import Config
from kaiku_tui.domain.access import Action, Identity, Person, Purpose, Role
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.subject import PremisesReview
from kaiku_tui.errors import AccessDenied, NotFound
from kaiku_tui.index import open_index
from kaiku_tui.register import Register
from kaiku_tui.register.gate import Gate, Visitor
from kaiku_tui.register.keyring import Keyring
from kaiku_tui.vault.keystore import KeyStore
from tests.register.test_register import ADMIN, SUPERVISOR, call, config_for

SARI = Person(SUPERVISOR.login, "Sari", frozenset({Role.SUPERVISOR}), orgs=("ITU",))
NUMBER = "+358401234567"


@pytest.fixture
async def config(tmp_path: Path) -> Config:
    config = replace(config_for(tmp_path), checkpoint_every=3)
    admin = await Register.initialise(config, ADMIN, "Admin")
    try:
        await admin.orgs.add(Organisation("ITU", "Itä", None, None))
        await admin.orgs.add(Organisation("KESKI", "Keski", None, None))
        await admin.persons.add(SARI)
        await admin.intake.add_recordings([call(1)], source="test")
        await admin.intake.add_recordings([call(2, "KESKI")], source="test")
    finally:
        await admin.close()
    return config


@pytest.fixture
async def gate(config: Config) -> AsyncIterator[Gate]:
    store = KeyStore.open(config.key_store)
    index = await open_index(config, store.audit_mac_key)
    try:
        yield Gate(config, Visitor(SUPERVISOR, SARI), index, Keyring(store, index))
    finally:
        await index.close()


def last_event(config: Config) -> dict[str, object]:
    db = sqlite3.connect(config.sqlite_path)
    try:
        (body,) = db.execute("SELECT body FROM audit_event ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        db.close()
    found: dict[str, object] = json.loads(body)
    return found


async def test_a_role_that_does_not_permit_is_refused_and_audited(
    gate: Gate, config: Config
) -> None:
    with pytest.raises(AccessDenied, match="may not"):
        await gate.authorize(Action.PERSON_MANAGE, target="someone")
    event = last_event(config)
    assert (event["action"], event["outcome"]) == ("person.manage", "denied")
    assert event["actor"] == SUPERVISOR.login and event["target"] == "someone"
    assert event["detail"] == "role does not permit"


async def test_an_organisation_outside_scope_is_refused_and_audited(
    gate: Gate, config: Config
) -> None:
    await gate.authorize_org(Action.SEARCH, "ITU")  # in scope: no exception
    with pytest.raises(AccessDenied, match="KESKI"):
        await gate.authorize_org(Action.SEARCH, "KESKI")
    event = last_event(config)
    assert (event["outcome"], event["org"], event["detail"]) == ("denied", "KESKI", "outside scope")


async def test_a_filter_naming_another_organisation_is_refused(gate: Gate) -> None:
    scoped, bidx = await gate.scoped(RecordingFilter(phone=NUMBER))
    assert scoped.orgs == ("ITU",) and bidx == gate.keys.blind_index(NUMBER)
    with pytest.raises(AccessDenied):
        await gate.scoped(RecordingFilter(orgs=("ITU", "KESKI")))


async def test_a_recording_is_fetched_only_after_every_check(gate: Gate, config: Config) -> None:
    stored = await gate.recording(Action.RECORD_OPEN, 1, Purpose.FEEDBACK)
    assert stored.summary.org == "ITU"
    with pytest.raises(AccessDenied):
        await gate.recording(Action.RECORD_OPEN, 2, Purpose.FEEDBACK)  # KESKI's
    assert last_event(config)["outcome"] == "denied"
    with pytest.raises(NotFound):
        await gate.recording(Action.RECORD_OPEN, 99, Purpose.FEEDBACK)
    event = last_event(config)
    assert (event["outcome"], event["target"]) == ("error", "99")


async def test_a_review_at_the_premises_narrows_the_session(gate: Gate, config: Config) -> None:
    subject = gate.keys.blind_index(NUMBER).hex()
    gate.flag_premises(PremisesReview("SAR-1", subject))
    assert gate.may(Action.RECORD_OPEN) and not gate.may(Action.ANNOTATE)
    with pytest.raises(AccessDenied, match="playback only"):
        await gate.authorize(Action.ANNOTATE)
    event = last_event(config)
    assert (event["request_ref"], event["purpose"]) == ("SAR-1", "access-request")
    _, bidx = await gate.scoped(RecordingFilter())
    assert bidx is not None and bidx.hex() == subject
    gate.flag_premises(None)
    assert gate.may(Action.ANNOTATE)


async def test_every_nth_counted_event_signs_a_checkpoint(gate: Gate, config: Config) -> None:
    public = gate.keys.checkpoint_signing_key.public_key()
    before = len(CheckpointFile(config.checkpoint_file).read(public))
    for _ in range(3):  # checkpoint_every = 3
        await gate.audit("test.event")
    after = CheckpointFile(config.checkpoint_file).read(public)
    assert len(after) == before + 1
    db = sqlite3.connect(config.sqlite_path)
    try:
        (head,) = db.execute("SELECT max(seq) FROM audit_event").fetchone()
    finally:
        db.close()
    assert after[-1].seq == head


async def test_an_unknown_login_never_gets_a_gate(config: Config) -> None:
    with pytest.raises(AccessDenied, match="not an active named person"):
        await Register.open(config, Identity("nobody"), environ={})
    event = last_event(config)
    assert (event["action"], event["outcome"], event["actor"]) == (
        "session.open",
        "denied",
        "nobody",
    )
