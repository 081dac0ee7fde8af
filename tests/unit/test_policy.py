"""The access policy, cell by cell: every role × action, written out here as the spec."""

from __future__ import annotations

import pytest

from kaiku_tui.domain.access import POLICY, Action, Person, Role, permits

A, S, R, D = "admin", "supervisor", "reviewer", "dpo"
# The spec, written independently of the table in kaiku_tui/domain/access.py.
EXPECTED: dict[str, set[str]] = {
    "search": {A, S, R, D},
    "record.open": {S, R, D},
    "phone.reveal": {S, D},
    "audio.play": {S, R, D},
    "annotate": {S, R},
    "annotation.read": {A, S, R, D},
    "note.withdrawn.read": {A, D},
    "case.manage": {S},
    "case.read": {A, S, D},
    "case.export": {S, D},
    "disclose": {D},
    "disclosure.read": {A, D},
    "subject.access": {D},
    "subject.log": {D},
    "subject.request": {D},
    "person.read": {A, D},
    "person.manage": {A},
    "org.read": {A, S, R, D},
    "org.manage": {A},
    "ingest": {A},
    "retention": {A},
    "legal.hold": {A, S},
    "audit.read": {A, D},
    "audit.verify": {A, D},
    "audit.retain": {A},
    "register.migrate": {A},
    "register.maintain": {A},
}
CELLS = [(role, action) for role in Role for action in Action]


def test_spec_names_every_action() -> None:
    assert set(EXPECTED) == {a.value for a in Action} == {a.value for a in POLICY}


@pytest.mark.parametrize(("role", "action"), CELLS, ids=[f"{r}-{a}" for r, a in CELLS])
def test_cell(role: Role, action: Action) -> None:
    assert permits(frozenset({role}), action) is (role.value in EXPECTED[action.value])


def test_roles_combine() -> None:
    both = frozenset({Role.ADMIN, Role.REVIEWER})
    assert permits(both, Action.PERSON_MANAGE) and permits(both, Action.ANNOTATE)
    assert not permits(both, Action.DISCLOSE)


def test_disabled_person_may_nothing() -> None:
    person = Person("x", "X", frozenset(Role), active=False)
    assert not any(person.may(a) for a in Action)


def test_scope_narrows() -> None:
    scoped = Person("x", "X", frozenset({Role.SUPERVISOR}), orgs=("ITU",))
    assert scoped.scope(()) == ("ITU",)
    assert scoped.scope(("ITU", "KESKI")) == ("ITU",)
    assert scoped.sees_org("ITU") and not scoped.sees_org("KESKI")
    unscoped = Person("y", "Y", frozenset({Role.SUPERVISOR}))
    assert unscoped.scope(()) == () and unscoped.sees_org("KESKI")
