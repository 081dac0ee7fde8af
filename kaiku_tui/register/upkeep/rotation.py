"""Data key rotation: a new wrapping key, every organisation key re-wrapped with it.

The data key is one file of the key store (`data.key`, vault/keystore.py); the
audit MAC, checkpoint and search keys are files of their own and are not touched.
Two places hold the state — the key file and the index's wrapped keys with
their `master_key_id` — so the rotation goes in three steps, each leaving a
register that opens:

1. the new key (fresh random bytes) is written beside the old one (`<file>.new`,
   0600, fsynced);
   a crash here leaves the old state, and the stray file is replaced by the
   next rotation;
2. one index transaction re-wraps every organisation key, sets the register's
   `master_key_id` to the new key's, and appends the `keys.rotate` event: the
   commit point;
3. the old file is kept as `<file>.retired-<key id>` (a hard link) and the new
   one renamed over it.

A crash between 2 and 3 leaves the old key in the file and the new one
beside it; opening the register (`settled`) notices that the index names the
new key, takes it and finishes step 3. Blobs are never touched: their keys
are wrapped by record keys, those by organisation keys.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from kaiku_tui.errors import ConfigError
from kaiku_tui.index.base import Index
from kaiku_tui.index.records import OrgRewrap, StoredOrg
from kaiku_tui.register.rowseal import RowSeal
from kaiku_tui.vault.keys import ENV_VAR, MasterKey, fsync_directory
from kaiku_tui.vault.keystore import KeyStore

MASTER_KEY_ID = "master_key_id"


def pending_file(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".new")


def retired_file(key_file: Path, key_id: str) -> Path:
    return key_file.with_name(f"{key_file.name}.retired-{key_id}")


def start(key_file: Path) -> MasterKey:
    """Step 1: the new key beside the old one. A `.new` left by a rotation that never
    committed (the index still names the current key) is not any register's key."""
    pending = pending_file(key_file)
    pending.unlink(missing_ok=True)
    new = MasterKey.generate()
    new.write_new_file(pending)
    return new


def finish(key_file: Path, old_key_id: str) -> Path:
    """Step 3: keep the old file as retired, put the new one in its place. Idempotent."""
    retired = retired_file(key_file, old_key_id)
    if not retired.exists():
        os.link(key_file, retired)
    os.replace(pending_file(key_file), key_file)
    fsync_directory(key_file.parent)
    return retired


async def settled(index: Index, store: KeyStore, environ: Mapping[str, str]) -> KeyStore:
    """The store with the data key the index names: its own, or the `.new` of a rotation
    that committed in the index but stopped before its files were swapped (then swapped)."""
    master, key_file = store.data, store.data_file
    if ENV_VAR in environ:
        return store
    pending = pending_file(key_file)
    if not pending.exists() or await index.get_info(MASTER_KEY_ID) == master.key_id:
        return store
    new = MasterKey.from_file(pending, "key store file")
    if await index.get_info(MASTER_KEY_ID) != new.key_id:
        return store  # a stray .new of a rotation that never committed: ignored
    try:
        finish(key_file, master.key_id)
    except OSError as exc:
        raise ConfigError(
            f"data key file {key_file}: a rotation committed but the new key "
            f"could not be put in place ({exc.strerror}); move {pending} over it"
        ) from None
    return store.with_data(new)


def rewrapped(
    orgs: list[StoredOrg], old: MasterKey, new: MasterKey, rows: RowSeal
) -> list[OrgRewrap]:
    """Step 2's rows: each organisation key that is not destroyed, wrapped by the new
    master key, with the row's new MAC (rowseal.py); each applies only while the row
    still has the MAC it was read with."""
    out = []
    for o in orgs:
        if o.wrapped_key is None:
            continue
        key = new.wrap_org_key(o.org.code, old.unwrap_org_key(o.org.code, o.wrapped_key))
        mac = rows.org_mac(replace(o, wrapped_key=key, master_key_id=new.key_id))
        out.append(OrgRewrap(o.org.code, key, mac, o.mac))
    return out
