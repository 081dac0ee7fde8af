"""The keys the register's facets may use, behind one small object.

The master key only wraps organisation keys (read only from a row whose MAC verifies,
rowseal.py); an organisation key wraps the keys of its recordings and feedback cases.
Opened organisation keys are kept for the session (an import needs one per row); a key
rotation hands the keyring the new master key and empties that cache.
"""

from __future__ import annotations

from kaiku_tui.errors import NotFound, VaultError
from kaiku_tui.index.protocols import Directory
from kaiku_tui.index.records import StoredCase, StoredRecording
from kaiku_tui.register.rowseal import RowSeal
from kaiku_tui.register.sealing import case_key_ref, record_ref
from kaiku_tui.vault.fields import blind_index
from kaiku_tui.vault.keys import MasterKey, OrgKey, RecordKey


class Keyring:
    def __init__(self, master: MasterKey, directory: Directory) -> None:
        self._master = master
        self._directory = directory
        self._org_keys: dict[str, OrgKey] = {}
        self._search_key = master.search_key()  # derived once: an import needs one per row
        # Row MACs (rowseal.py): under the audit MAC key, which a rotation carries over.
        self.rows = RowSeal(master.audit_mac_key())

    @property
    def master(self) -> MasterKey:
        return self._master

    @property
    def key_id(self) -> str:
        return self._master.key_id

    def rekeyed(self, master: MasterKey) -> None:
        """After a key rotation: the new master key, no cached organisation keys."""
        self._master = master
        self._org_keys.clear()

    def forget(self, org: str) -> None:
        """Drop an organisation's opened key (it was just destroyed)."""
        self._org_keys.pop(org, None)

    def blind_index(self, e164: str) -> bytes:
        return blind_index(self._search_key, e164)

    async def org_key(self, code: str) -> OrgKey:
        if code not in self._org_keys:
            stored = await self.rows.org(self._directory, code)
            if stored is None:
                raise NotFound(f"organisation {code!r} does not exist (kaiku-tui orgs list)")
            if stored.wrapped_key is None:
                raise VaultError(f"organisation {code}: its key is destroyed or missing")
            self._org_keys[code] = self._master.open_org_key(code, stored.wrapped_key)
        return self._org_keys[code]

    async def record_key(self, stored: StoredRecording) -> RecordKey:
        ref = record_ref(stored.summary.org, stored.summary.source_id)
        if stored.wrapped_key is None:
            raise VaultError(f"record {ref}: its key is destroyed")
        org_key = await self.org_key(stored.summary.org)
        return org_key.unwrap_record_key(ref, stored.wrapped_key)

    async def case_key(self, stored: StoredCase) -> RecordKey:
        if stored.wrapped_key is None:
            raise VaultError(f"case {stored.ref} of {stored.org}: its key is destroyed")
        org_key = await self.org_key(stored.org)
        return org_key.unwrap_record_key(case_key_ref(stored.org, stored.ref), stored.wrapped_key)
