"""The register: the one door to recordings, persons, organisations and the audit log.

Opened for a named person. The door checks who is asking, builds the one gate
(gate.py: authorize, audit, the keys) and hands it to the facets, each a module
of this package: `register.recordings.search(...)`, `register.holds.set(...)`.
Every facet's method authorizes (role × action × organisation scope), audits
and acts, and returns plain domain objects. Closing writes a signed checkpoint
of the audit chain's head.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.config import Config
from kaiku_tui.domain.access import Action, Identity, Person, Role
from kaiku_tui.domain.subject import PremisesReview
from kaiku_tui.errors import AccessDenied, ConfigError, StoreError, UsageError
from kaiku_tui.index import Index, open_index
from kaiku_tui.register import migration, rowseal
from kaiku_tui.register.annotations import Notes, Tags
from kaiku_tui.register.audit_log import AuditLog
from kaiku_tui.register.audit_retention import AuditRetention
from kaiku_tui.register.cases import Cases
from kaiku_tui.register.coaching import Coaching
from kaiku_tui.register.directory import Orgs, Persons
from kaiku_tui.register.gate import Gate, Visitor, new_event
from kaiku_tui.register.holds import Holds
from kaiku_tui.register.identity import database_identity
from kaiku_tui.register.intake import Intake
from kaiku_tui.register.keyring import SPLIT_COMMAND, Keyring, open_key_store
from kaiku_tui.register.recordings import Recordings
from kaiku_tui.register.retention import Retention
from kaiku_tui.register.rowseal import RowSeal
from kaiku_tui.register.subjects import SubjectRights
from kaiku_tui.register.upkeep import rotation
from kaiku_tui.register.upkeep.facet import Upkeep
from kaiku_tui.vault.blobs import BlobStore
from kaiku_tui.vault.keys import MasterKey, fsync_directory
from kaiku_tui.vault.keystore import KeyStore


class Register:
    """Use `await Register.open(config, identity)`; always `await register.close()`."""

    def __init__(self, config: Config, gate: Gate, index: Index) -> None:
        self.config = config
        self._gate = gate
        self._index = index
        blobs = BlobStore(config.blob_dir)
        self.persons = Persons(gate, index)
        self.orgs = Orgs(gate, index)
        self.cases = Cases(gate, index)
        self.recordings = Recordings(gate, index, blobs, self.cases)
        self.intake = Intake(gate, index, blobs, config)
        self.notes = Notes(gate, index)
        self.tags = Tags(gate, index)
        self.coaching = Coaching(gate, index)
        self.holds = Holds(gate, index)
        self.audit = AuditLog(gate, index, config)
        self.audit_retention = AuditRetention(gate, index, self.audit)
        self.upkeep = Upkeep(gate, index, blobs, self.audit)
        self.retention = Retention(gate, index, blobs, self.orgs, self.upkeep)
        self.subjects = SubjectRights(gate, index, blobs)

    # -- lifecycle ----------------------------------------------------------------

    @classmethod
    async def open(
        cls, config: Config, identity: Identity, environ: Mapping[str, str] = os.environ
    ) -> Register:
        """Open for `identity` (or, with `[access] identity = "database"`, for the
        database login); a login that is not an active named person is refused. The keys
        come from the key store; an old register (one master key file) is refused with
        the command that splits its key (`split_keys`)."""
        store = open_key_store(config, environ)
        return await cls._opened(config, identity, store, environ)

    @classmethod
    async def _opened(
        cls, config: Config, identity: Identity, store: KeyStore, environ: Mapping[str, str]
    ) -> Register:
        index = await open_index(config, store.audit_mac_key)
        try:
            identity = await _vouched(config, index, identity)
            store = await rotation.settled(index, store, environ)
            await _check_master_key(index, store.data, config)
            person = await _checked_person(index, RowSeal(store.audit_mac_key), identity)
            register = cls._composed(config, store, index, Visitor(identity, person))
            await register._gate.audit("session.open")
            await register._gate.start_witness()
        except BaseException:
            await index.close()
            raise
        return register

    @classmethod
    async def initialise(cls, config: Config, identity: Identity, display_name: str) -> Register:
        """Create the key store and the index; `identity` becomes the first admin."""
        if config.master_key_file.exists():
            raise ConfigError(
                f"{config.master_key_file} exists: a register is there already "
                f"(run '{SPLIT_COMMAND}' once to move its key into a key store)"
            )
        config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        store = KeyStore.create(config.key_store)
        index = await open_index(config, store.audit_mac_key, create=True)
        try:
            identity = await _vouched(config, index, identity)
            person = Person(identity.login, display_name, frozenset({Role.ADMIN}))
            criteria = {"key_id": store.key_id, "witness": str(config.witness)}
            init = new_event(identity, (), "register.init", criteria=criteria)
            await index.put_info(migration.MASTER_KEY_ID, store.key_id, init)
            event = new_event(identity, (), "person.add", target=identity.login)
            seal = RowSeal(store.audit_mac_key)
            mac = seal.person_mac(person)
            await index.put_person(person, event, new=True, mac=mac, was=None)
            await rowseal.seal_once(seal, index, new_event(identity, (), rowseal.SEALED_ACTION))
            register = cls._composed(config, store, index, Visitor(identity, person))
            await register._gate.first_checkpoint()  # the witness starts with the register
        except BaseException:
            await index.close()
            raise
        return register

    @classmethod
    def _composed(cls, config: Config, store: KeyStore, index: Index, visitor: Visitor) -> Register:
        return cls(config, Gate(config, visitor, index, Keyring(store, index)), index)

    @classmethod
    async def split_keys(
        cls, config: Config, identity: Identity, environ: Mapping[str, str] = os.environ
    ) -> SplitReport:
        """`kaiku-tui keys split`: move an old register's one master key into a key store
        (admins only; audited). The old key's derived keys are written as they are, so
        every MAC, blind index, checkpoint and wrapped key stays valid. The master key
        file is removed only once the written store has opened the register."""
        if KeyStore.present(config.key_store):
            raise UsageError(_already_split(config))
        master = MasterKey.from_env_or_file(config.master_key_file, environ)
        # Who may split, decided by the register itself before anything is written.
        register = await cls._opened(
            config, identity, KeyStore.derived(master, config.key_store), environ
        )
        try:
            await register._gate.authorize(Action.MAINTAIN, criteria={"task": "keys.split"})
        finally:
            await register.close()
        store = await asyncio.to_thread(KeyStore.split, master, config.key_store)
        try:
            register = await cls._opened(config, identity, KeyStore.open(store.directory), {})
        except BaseException:
            # A store that does not open the register is removed: the old key file, still
            # in place, stays the register's one key.
            await asyncio.to_thread(store.remove_files)
            raise
        try:
            removed = await asyncio.to_thread(_remove_old_key, config.master_key_file)
            await register._gate.audit(
                Action.MAINTAIN.value,
                criteria={"task": "keys.split", "key_id": store.key_id,
                          "key_store": str(store.directory), "removed": str(removed)},
            )  # fmt: skip
        finally:
            await register.close()
        retired = sorted(config.master_key_file.parent.glob(config.master_key_file.name + ".*"))
        return SplitReport(store.key_id, store.directory, removed, tuple(retired))

    async def close(self) -> None:
        """Write a signed checkpoint of the chain's head, then close the index."""
        try:
            await self._gate.checkpoint()
        finally:
            await self._index.close()

    # -- who is asking ---------------------------------------------------------------

    @property
    def person(self) -> Person:
        return self._gate.person

    @property
    def checkpoint_refusal(self) -> str | None:
        """Why this session signs no checkpoint any more, not even at close (a fault was
        found, or a file it needs could not be read), or None."""
        return self._gate.checkpoint_refusal

    @property
    def location(self) -> str:
        return self._index.location

    @property
    def premises(self) -> PremisesReview | None:
        """The data subject's review at the premises this session is flagged for, if any."""
        return self._gate.premises

    def may(self, action: Action) -> bool:
        """Whether this session may do `action` (the TUI shows only the keys it permits)."""
        return self._gate.may(action)


async def _check_master_key(index: Index, master: MasterKey, config: Config) -> None:
    """Refuse a master key that is not this register's, before any event is written:
    events sealed under a wrong key would break the chain for everyone."""
    expected = await index.get_info(migration.MASTER_KEY_ID)
    if expected is None and (source := await migration.unfinished(index)) is not None:
        raise StoreError(
            f"index {index.location} is an unfinished copy of the register at {source}; "
            "finish it by running 'kaiku-tui migrate --to' there again"
        )
    if expected != master.key_id:
        raise ConfigError(
            f"data key {master.key_id} (from KAIKU_MASTER_KEY or {config.key_store}) "
            f"is not the key of the register at {index.location} ({expected})"
        )


async def _vouched(config: Config, index: Index, identity: Identity) -> Identity:
    """The person at the keyboard as the configuration says to tell: the OS login given,
    or the database login the index authenticated as."""
    if config.identity == "database":
        return await database_identity(index, identity)
    return identity


@dataclass(frozen=True)
class SplitReport:
    key_id: str  # the data key's id (the old master key's)
    key_store: Path
    removed: Path  # the old master key file, deleted
    left: tuple[Path, ...]  # the old key's retired or pending files, kept for old backups


def _already_split(config: Config) -> str:
    text = f"the key store {config.key_store} exists: this register's keys are split already"
    if config.master_key_file.exists():
        text += (
            f"; {config.master_key_file} is left from before: check that the register opens, "
            "then delete it"
        )
    return text


def _remove_old_key(path: Path) -> Path:
    path.unlink()
    fsync_directory(path.parent)
    return path


async def _checked_person(index: Index, seal: RowSeal, identity: Identity) -> Person:
    """The opening person, from a row that verifies; the rows that predate migration 10
    are sealed first (once). Anything else is refused and audited as `session.open`."""
    await rowseal.seal_once(seal, index, new_event(identity, (), rowseal.SEALED_ACTION))
    stored = await index.get_person(identity.login)
    if stored is not None and not seal.person_ok(stored):
        err = rowseal.tampered([rowseal.person_name(identity.login)])
        detail = f"{rowseal.person_name(identity.login)}: row MAC does not verify"
        await index.append_audit(new_event(identity, (), "session.open", "denied", detail=detail))
        raise err
    person = None if stored is None else stored.person
    if person is None or not person.active:
        await index.append_audit(_refused_login(identity, person))
        raise AccessDenied(
            f"{identity.login!r} is not an active named person of this register; "
            "ask an admin to add you (kaiku-tui persons add)"
        )
    return person


def _refused_login(identity: Identity, person: Person | None) -> AuditEvent:
    why = "not a named person" if person is None else "person is disabled"
    return new_event(identity, (), "session.open", "denied", detail=why)
