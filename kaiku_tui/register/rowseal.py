"""Row MACs: persons and organisations protected like the audit log.

Who may do what (a person's roles, scope and whether they are active) and what opens
which data (an organisation's wrapped key, its contract and retention) live in rows
of the index, outside the audit chain. Each such row carries a MAC: HMAC-SHA256,
under a key derived from the audit MAC key with its own HKDF label, over a canonical
encoding of the row that names its table and primary key (so a MAC moved to another
row, or another table, does not verify). The register computes it whenever it writes
a row and checks it whenever it reads one; the index stores it and knows no key.

A row edited behind the program's back (sqlite3, psql as the owner) no longer
verifies: the session of that person is refused, a listing or an organisation's key
is refused, and `doctor` and `audit verify` name the row. The rule for the rows that
existed before migration 10 is in docs/ARCHITECTURE.md, "Row MACs".
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Protocol

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.domain.access import Person
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.errors import AccessDenied, StoreError
from kaiku_tui.index.protocols import AuditStore, Directory
from kaiku_tui.index.records import StoredOrg, StoredPerson
from kaiku_tui.vault.keys import derive_key

ROW_MAC_INFO = b"kaiku-tui row-mac v1"
SEALED_FACT = "rows.sealed"  # register_info: "<rows> <sha256 hex>" once the rows are sealed
SEALED_ACTION = "register.rows_sealed"


class RowTampered(AccessDenied):
    """A person or organisation row does not carry its MAC: it was changed behind the
    program's back. Refused like any access the policy does not allow (exit 4): the
    session or the read stops, and nothing the row says is used."""


class RowSeal:
    """Computes and checks the MACs of person and organisation rows."""

    def __init__(self, audit_mac_key: bytes) -> None:
        self._key = derive_key(audit_mac_key, ROW_MAC_INFO)

    def person_mac(self, person: Person) -> bytes:
        return self._mac(person_fields(person))

    def org_mac(self, org: StoredOrg) -> bytes:
        return self._mac(org_fields(org))

    def _mac(self, fields: dict[str, object]) -> bytes:
        return hmac.new(self._key, canonical(fields), hashlib.sha256).digest()

    def person_ok(self, stored: StoredPerson) -> bool:
        return stored.mac is not None and hmac.compare_digest(
            stored.mac, self.person_mac(stored.person)
        )

    def org_ok(self, stored: StoredOrg) -> bool:
        return stored.mac is not None and hmac.compare_digest(stored.mac, self.org_mac(stored))

    # -- checked reads --------------------------------------------------------------------

    async def person(self, directory: Directory, login: str) -> Person | None:
        """The person, or None; a row that does not verify is refused (RowTampered)."""
        stored = await directory.get_person(login)
        if stored is None:
            return None
        if not self.person_ok(stored):
            raise tampered([person_name(login)])
        return stored.person

    async def persons(self, directory: Directory) -> list[Person]:
        stored = await directory.list_persons()
        refuse(self.bad_persons(stored))
        return [s.person for s in stored]

    async def org(self, directory: Directory, code: str) -> StoredOrg | None:
        stored = await directory.get_org(code)
        if stored is not None and not self.org_ok(stored):
            raise tampered([org_name(code)])
        return stored

    async def orgs(self, directory: Directory) -> list[StoredOrg]:
        stored = await directory.list_orgs()
        refuse(self.bad_orgs(stored))
        return stored

    def bad_persons(self, stored: Sequence[StoredPerson]) -> list[str]:
        return [person_name(s.person.login) for s in stored if not self.person_ok(s)]

    def bad_orgs(self, stored: Sequence[StoredOrg]) -> list[str]:
        return [org_name(s.org.code) for s in stored if not self.org_ok(s)]

    async def bad_rows(self, directory: Directory) -> list[str]:
        """Every person and organisation row (that this login may see) whose MAC does not
        verify, as "person LOGIN" / "organisation CODE"."""
        persons = self.bad_persons(await directory.list_persons())
        return persons + self.bad_orgs(await directory.list_orgs())


class SealingStore(Directory, AuditStore, Protocol):
    """What the first sealing needs of the index."""


async def seal_once(seal: RowSeal, index: SealingStore, event: AuditEvent) -> int | None:
    """The first open after migration 10 seals the rows that have no MAC yet, once.

    Nothing to do (None) when the fact `rows.sealed` is there. Without it, the audit log
    must hold no `register.rows_sealed` event: if it does, the fact was removed behind
    the program's back (to have rows sealed again), and the open is refused. Otherwise
    every row without a MAC gets one, in one transaction with `event` (completed here
    with the count and a SHA-256 of the rows sealed) and the fact. Returns the count."""
    if await index.get_info(SEALED_FACT) is not None:
        return None
    earlier = await index.audit_bodies(AuditQuery(action=SEALED_ACTION, limit=1))
    if earlier:
        raise StoreError(
            f"index: the fact {SEALED_FACT!r} is gone, but the audit log records that the "
            "rows were sealed: the index was changed behind the program's back; "
            "restore the last backup (kaiku-tui restore) and run kaiku-tui audit verify"
        )
    persons = [s for s in await index.list_persons() if s.mac is None]
    orgs = [s for s in await index.list_orgs() if s.mac is None]
    digest = hashlib.sha256()
    for fields in [person_fields(s.person) for s in persons] + [org_fields(o) for o in orgs]:
        digest.update(canonical(fields) + b"\n")
    count = len(persons) + len(orgs)
    sealed = replace(
        event, result_count=count, criteria={"persons": len(persons), "orgs": len(orgs)},
        detail=f"sha256 {digest.hexdigest()}",
    )  # fmt: skip
    await index.seal_rows(
        [(s.person.login, seal.person_mac(s.person)) for s in persons],
        [(o.org.code, seal.org_mac(o)) for o in orgs],
        (SEALED_FACT, f"{count} {digest.hexdigest()}"),
        sealed,
    )
    return count


def refuse(bad: Sequence[str]) -> None:
    if bad:
        raise tampered(bad)


def tampered(bad: Sequence[str]) -> RowTampered:
    return RowTampered(
        f"{', '.join(bad)}: the row does not verify (its MAC does not match: changed "
        "behind the program's back); nothing it says is used. Run kaiku-tui doctor; "
        "an admin restores the row (kaiku-tui restore, or persons set for a person)"
    )


def person_name(login: str) -> str:
    return f"person {login}"


def org_name(code: str) -> str:
    return f"organisation {code}"


def person_fields(person: Person) -> dict[str, object]:
    """Everything of a person's row that decides access, with its table and key."""
    return {
        "v": 1,
        "table": "person",
        "key": person.login,
        "display_name": person.display_name,
        "roles": sorted(r.value for r in person.roles),
        "orgs": list(person.orgs),
        "active": person.active,
    }


def org_fields(stored: StoredOrg) -> dict[str, object]:
    """Everything of an organisation's row: its contract, retention and wrapped key."""
    o = stored.org
    return {
        "v": 1,
        "table": "organisation",
        "key": o.code,
        "name": o.name,
        "contract_start": _iso(o.contract_start),
        "contract_end": _iso(o.contract_end),
        "retention_days": o.retention_days,
        "wrapped_key": None if stored.wrapped_key is None else stored.wrapped_key.hex(),
        "master_key_id": stored.master_key_id,
    }


def canonical(fields: dict[str, object]) -> bytes:
    """Sorted keys, no spaces, UTF-8: one byte string per row, on every backend."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
