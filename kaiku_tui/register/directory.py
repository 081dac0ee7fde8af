"""The register's directory facets: the named persons who may use it (admins), and the
client organisations whose recordings it keeps.

Every change is audited in the same transaction as the change; each organisation
gets a fresh key of its own, wrapped by the master key. Every row written carries its
row MAC and every row read is checked (rowseal.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import TypeVar

from kaiku_tui.domain.access import Action, Person, Role
from kaiku_tui.domain.org import Organisation, check_code
from kaiku_tui.errors import NotFound
from kaiku_tui.index.protocols import Directory
from kaiku_tui.index.records import StoredOrg, StoredPerson
from kaiku_tui.register.gate import Gate
from kaiku_tui.vault.keys import new_data_key

T = TypeVar("T")


class Persons:
    def __init__(self, gate: Gate, index: Directory) -> None:
        self._gate = gate
        self._index = index

    async def add(self, person: Person) -> None:
        await self._put(person, new=True)

    async def _existing(self, login: str) -> StoredPerson:
        """The row as stored, MAC and all: an admin's change re-states roles and scope,
        so it may repair a row that does not verify (the event says `repaired`)."""
        await self._gate.authorize(Action.PERSON_MANAGE, target=login)
        current = await self._index.get_person(login)
        if current is None:
            err = NotFound(f"person {login!r} does not exist")
            await self._gate.failed(Action.PERSON_MANAGE, err, target=login)
            raise err
        return current

    async def change(self, login: str, roles: frozenset[Role], orgs: tuple[str, ...]) -> None:
        current = await self._existing(login)
        person = replace(current.person, roles=roles, orgs=orgs)
        await self._put(person, new=False, was=current)

    async def disable(self, login: str) -> None:
        current = await self._existing(login)
        await self._put(replace(current.person, active=False), new=False, was=current)

    async def _put(self, person: Person, *, new: bool, was: StoredPerson | None = None) -> None:
        await self._gate.authorize(Action.PERSON_MANAGE, target=person.login)
        rows = self._gate.keys.rows
        for org in person.orgs:
            if await rows.org(self._index, org) is None:
                raise NotFound(f"organisation {org!r} does not exist")
        criteria: dict[str, object] = {
            "roles": sorted(r.value for r in person.roles),
            "orgs": list(person.orgs),
            "active": person.active,
        }
        if was is not None and not rows.person_ok(was):
            criteria["repaired"] = True  # the row did not verify: this states it anew
        action = "person.add" if new else "person.set"
        event = self._gate.event(action, target=person.login, criteria=criteria)
        mac = rows.person_mac(person)
        await self._index.put_person(
            person, event, new=new, mac=mac, was=None if was is None else was.mac
        )
        await self._gate.counted()

    async def listing(self) -> list[Person]:
        """Every person; refused, naming them, while any row does not verify."""
        await self._gate.authorize(Action.PERSON_READ)
        persons = await self._gate.keys.rows.persons(self._index)
        await self._gate.audit("person.list", result_count=len(persons))
        return persons

    async def ssh_key(
        self, login: str, fingerprint: str, change: Callable[[], Callable[[], None]], *, add: bool
    ) -> None:
        """A key of the SSH door added to or removed from the service account's
        authorized_keys: authorized (admin), an added key's person checked (active), the
        `change` made, then audited — and undone (by what `change` returned) if the event
        cannot be written. The file is the service's, not the index's: no one transaction."""
        await self._gate.authorize(Action.PERSON_MANAGE, target=login)
        if add:
            person = await self._gate.keys.rows.person(self._index, login)
            if person is None or not person.active:
                err = NotFound(f"{login!r} is not an active named person of this register")
                await self._gate.failed(Action.PERSON_MANAGE, err, target=login)
                raise err
        undo = change()
        action = "person.ssh_key.add" if add else "person.ssh_key.remove"
        try:
            await self._gate.audit(action, target=login, criteria={"fingerprint": fingerprint})
        except BaseException:
            undo()
            raise

    async def ssh_key_listing(self, read: Callable[[], list[T]]) -> list[T]:
        """The SSH door's keys, as `read` finds them in the service's authorized_keys:
        authorized, read, audited, returned."""
        await self._gate.authorize(Action.PERSON_READ)
        keys = read()
        await self._gate.audit("person.ssh_key.list", result_count=len(keys))
        return keys


class Orgs:
    def __init__(self, gate: Gate, index: Directory) -> None:
        self._gate = gate
        self._index = index

    async def add(self, org: Organisation) -> None:
        check_code(org.code)
        await self._gate.authorize(Action.ORG_MANAGE, org=org.code)
        master = self._gate.keys.data
        wrapped = master.wrap_org_key(org.code, new_data_key())
        stored = StoredOrg(org, wrapped, master.key_id)
        stored = replace(stored, mac=self._gate.keys.rows.org_mac(stored))
        event = self._gate.event(
            "org.add",
            org=org.code,
            criteria={"name": org.name, "contract_end": _iso_date(org.contract_end)},
        )
        await self._index.add_org(stored, event)
        await self._gate.counted()

    async def listing(self) -> list[Organisation]:
        await self._gate.authorize(Action.ORG_READ)
        orgs = [s.org for s in await self._gate.keys.rows.orgs(self._index)]
        await self._gate.audit("org.list", result_count=len(orgs))
        return orgs


def _iso_date(day: date | None) -> str | None:
    return day.isoformat() if day else None
