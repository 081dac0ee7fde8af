"""The register: the one door to recordings, persons, organisations and the audit log.

Opened for a named person. The door checks who is asking, builds the one gate
(gate.py: authorize, audit, the keys) and hands it to the facets, each a module
of this package: `register.recordings.search(...)`, `register.holds.set(...)`.
Every facet's method authorizes (role × action × organisation scope), audits
and acts, and returns plain domain objects. Closing writes a signed checkpoint
of the audit chain's head.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.config import Config
from kaiku_tui.domain.access import Action, Identity, Person, Role
from kaiku_tui.domain.subject import PremisesReview
from kaiku_tui.errors import AccessDenied, ConfigError, StoreError
from kaiku_tui.index import Index, open_index
from kaiku_tui.register import migration
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
from kaiku_tui.register.keyring import Keyring
from kaiku_tui.register.recordings import Recordings
from kaiku_tui.register.retention import Retention
from kaiku_tui.register.subjects import SubjectRights
from kaiku_tui.register.upkeep import rotation
from kaiku_tui.register.upkeep.facet import Upkeep
from kaiku_tui.vault.blobs import BlobStore
from kaiku_tui.vault.keys import MasterKey


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
        database login); a login that is not an active named person is refused."""
        master = MasterKey.from_env_or_file(config.master_key_file, environ)
        index = await open_index(config, master.audit_mac_key())
        try:
            identity = await _vouched(config, index, identity)
            master = await rotation.settled(index, master, config, environ)
            await _check_master_key(index, master, config)
            person = await index.get_person(identity.login)
            if person is None or not person.active:
                await index.append_audit(_refused_login(identity, person))
                raise AccessDenied(
                    f"{identity.login!r} is not an active named person of this register; "
                    "ask an admin to add you (kaiku-tui persons add)"
                )
            register = cls._composed(config, master, index, Visitor(identity, person))
            await register._gate.audit("session.open")
            await register._gate.start_witness()
        except BaseException:
            await index.close()
            raise
        return register

    @classmethod
    async def initialise(cls, config: Config, identity: Identity, display_name: str) -> Register:
        """Create the keys and the index; `identity` becomes the first admin."""
        config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        master = MasterKey.create_file(config.master_key_file)
        index = await open_index(config, master.audit_mac_key(), create=True)
        try:
            identity = await _vouched(config, index, identity)
            person = Person(identity.login, display_name, frozenset({Role.ADMIN}))
            criteria = {"key_id": master.key_id, "witness": str(config.witness)}
            init = new_event(identity, (), "register.init", criteria=criteria)
            await index.put_info(migration.MASTER_KEY_ID, master.key_id, init)
            event = new_event(identity, (), "person.add", target=identity.login)
            await index.put_person(person, event, new=True)
            register = cls._composed(config, master, index, Visitor(identity, person))
            await register._gate.first_checkpoint()  # the witness starts with the register
        except BaseException:
            await index.close()
            raise
        return register

    @classmethod
    def _composed(
        cls, config: Config, master: MasterKey, index: Index, visitor: Visitor
    ) -> Register:
        return cls(config, Gate(config, visitor, index, Keyring(master, index)), index)

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
            f"master key {master.key_id} (from KAIKU_MASTER_KEY or {config.master_key_file}) "
            f"is not the key of the register at {index.location} ({expected})"
        )


async def _vouched(config: Config, index: Index, identity: Identity) -> Identity:
    """The person at the keyboard as the configuration says to tell: the OS login given,
    or the database login the index authenticated as."""
    if config.identity == "database":
        return await database_identity(index, identity)
    return identity


def _refused_login(identity: Identity, person: Person | None) -> AuditEvent:
    why = "not a named person" if person is None else "person is disabled"
    return new_event(identity, (), "session.open", "denied", detail=why)
