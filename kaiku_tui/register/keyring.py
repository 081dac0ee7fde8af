"""The keys the register's facets may use, behind one small object.

The key store (vault/keystore.py) holds one key per purpose: the data key only
wraps organisation keys (read only from a row whose MAC verifies, rowseal.py), and an
organisation key only wraps the keys of its recordings and feedback cases; the audit
MAC key, the checkpoint signing key and the blind-index key are secrets of their own.
Opened organisation keys are kept for the session (an import needs one per row); a
rotation of the data key hands the keyring the new one and empties that cache.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kaiku_tui.config import Config
from kaiku_tui.errors import ConfigError, NotFound, VaultError
from kaiku_tui.index.protocols import Directory
from kaiku_tui.index.records import StoredCase, StoredRecording
from kaiku_tui.register.rowseal import RowSeal
from kaiku_tui.register.sealing import case_key_ref, record_ref
from kaiku_tui.vault.fields import blind_index
from kaiku_tui.vault.keys import MasterKey, OrgKey, RecordKey
from kaiku_tui.vault.keystore import KeyStore

SPLIT_COMMAND = "kaiku-tui keys split"


def open_key_store(config: Config, environ: Mapping[str, str]) -> KeyStore:
    """The register's key store; an old register (its one master key file, no key store)
    is refused with one line naming the command that moves it."""
    if not KeyStore.present(config.key_store) and config.master_key_file.exists():
        raise ConfigError(
            f"the register at {config.data_dir} still keeps every key in {config.master_key_file}; "
            f"run '{SPLIT_COMMAND}' once to move them into the key store {config.key_store}"
        )
    return KeyStore.open(config.key_store, environ)


class Keyring:
    def __init__(self, store: KeyStore, directory: Directory) -> None:
        self._store = store
        self._directory = directory
        self._org_keys: dict[str, OrgKey] = {}
        # Row MACs (rowseal.py): under the audit MAC key, which a rotation carries over.
        self.rows = RowSeal(store.audit_mac_key)

    @property
    def store(self) -> KeyStore:
        return self._store

    @property
    def data(self) -> MasterKey:
        """The data key: it wraps organisation keys, nothing else."""
        return self._store.data

    @property
    def key_id(self) -> str:
        return self._store.key_id

    @property
    def audit_mac_key(self) -> bytes:
        return self._store.audit_mac_key

    @property
    def checkpoint_signing_key(self) -> Ed25519PrivateKey:
        return self._store.checkpoint_signing_key

    def rekeyed(self, data: MasterKey) -> None:
        """After a rotation: the new data key, no cached organisation keys."""
        self._store = self._store.with_data(data)
        self._org_keys.clear()

    def forget(self, org: str) -> None:
        """Drop an organisation's opened key (it was just destroyed)."""
        self._org_keys.pop(org, None)

    def blind_index(self, e164: str) -> bytes:
        return blind_index(self._store.search_key, e164)

    async def org_key(self, code: str) -> OrgKey:
        if code not in self._org_keys:
            stored = await self.rows.org(self._directory, code)
            if stored is None:
                raise NotFound(f"organisation {code!r} does not exist (kaiku-tui orgs list)")
            if stored.wrapped_key is None:
                raise VaultError(f"organisation {code}: its key is destroyed or missing")
            self._org_keys[code] = self._store.data.open_org_key(code, stored.wrapped_key)
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
