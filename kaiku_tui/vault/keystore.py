"""The key store: one secret per purpose, in a directory of its own outside the data.

A directory (0700, owned by the login that runs the register) with one file per
purpose (0600 each, checked like the master key file of old: vault/keys.py):

* `data.key`: the data key (a `MasterKey`): it wraps the organisation keys, and its
  key id is the one the index, the backups' manifests and the checkpoints name.
  `keys rotate` replaces it (`data.key.new`, `data.key.retired-<id>` beside it);
* `audit-mac.key`: the MAC key of every audit event;
* `checkpoint.key`: the Ed25519 seed that signs the checkpoints of the audit chain;
* `search.key`: the blind-index key (phone numbers are found by an HMAC under it).

A new register gets four independent random secrets, so rotating or destroying one
touches none of the others. `KeyStore.split` is the one-time migration of a register
whose keys all came from one master key: each file then holds what that key derived,
so every MAC, blind index, checkpoint and wrapped key already written stays valid.

Every file is written whole before it gets its name (write, fsync, rename, fsync the
directory), and `data.key` last: a store holding a `data.key` is complete. Nothing
here is ever written anywhere but the store itself, and never into a backup.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kaiku_tui.errors import ConfigError
from kaiku_tui.vault.keys import (
    ENV_VAR,
    KEY_LEN,
    MasterKey,
    check_owner_only,
    fsync_directory,
    new_data_key,
    read_key_file,
    write_new_key_file,
)

DATA_FILE = "data.key"
AUDIT_MAC_FILE = "audit-mac.key"
CHECKPOINT_FILE = "checkpoint.key"
SEARCH_FILE = "search.key"
# Written in this order; data.key last, so a store with a data key is a whole store.
FILES = (AUDIT_MAC_FILE, CHECKPOINT_FILE, SEARCH_FILE, DATA_FILE)

_HEADERS = {
    AUDIT_MAC_FILE: "kaiku-tui audit-mac key v1",
    CHECKPOINT_FILE: "kaiku-tui checkpoint-signing key v1",
    SEARCH_FILE: "kaiku-tui blind-index key v1",
}
_WHAT = "key store file"


@dataclass(frozen=True, eq=False, repr=False)
class KeyStore:
    """The register's keys, one per purpose. Use `open`, `create` or `split`."""

    directory: Path
    data: MasterKey  # wraps organisation keys; KAIKU_MASTER_KEY may supply it instead
    audit_mac_key: bytes
    search_key: bytes
    _checkpoint_seed: bytes

    def __repr__(self) -> str:
        return f"KeyStore({str(self.directory)!r}, key_id={self.key_id!r})"

    @property
    def key_id(self) -> str:
        """The data key's id: what the index, the manifests and the checkpoints name."""
        return self.data.key_id

    @property
    def checkpoint_signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self._checkpoint_seed)

    @property
    def data_file(self) -> Path:
        return self.directory / DATA_FILE

    def with_data(self, data: MasterKey) -> KeyStore:
        """The same store after a rotation of the data key (the other keys unchanged)."""
        return replace(self, data=data)

    def same_keys(self, other: KeyStore) -> bool:
        """Whether `other` holds the same four keys (e.g. the store read back after writing)."""
        public = (
            s.checkpoint_signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            for s in (self, other)
        )
        return (
            self.key_id == other.key_id
            and self.audit_mac_key == other.audit_mac_key
            and self.search_key == other.search_key
            and next(public) == next(public)
        )

    # -- opening ------------------------------------------------------------------------

    @staticmethod
    def present(directory: Path) -> bool:
        """Whether `directory` holds (some of) a key store: then nothing may be written there."""
        return any((directory / name).exists() for name in FILES)

    @classmethod
    def open(cls, directory: Path, environ: Mapping[str, str] | None = None) -> KeyStore:
        """Read the store, refusing a directory or a file that others can reach. With
        KAIKU_MASTER_KEY in `environ` the data key comes from the variable; the other keys
        always come from the store."""
        check_directory(directory)
        if environ is not None and ENV_VAR in environ:
            data = MasterKey.from_env_or_file(None, environ)
        else:
            data = MasterKey.from_file(directory / DATA_FILE, _WHAT)
        return cls(
            directory,
            data.wrapping_only(),
            _read_secret(directory, AUDIT_MAC_FILE),
            _read_secret(directory, SEARCH_FILE),
            _read_secret(directory, CHECKPOINT_FILE),
        )

    # -- writing ------------------------------------------------------------------------

    @classmethod
    def create(cls, directory: Path) -> KeyStore:
        """A new store of four independent random keys (a new register)."""
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        new = cls(directory, MasterKey.generate(), new_data_key(), new_data_key(), seed)
        return new._written()

    @classmethod
    def derived(cls, master: MasterKey, directory: Path) -> KeyStore:
        """In memory, nothing written: the store `split` would write for `master`."""
        seed = master.checkpoint_signing_key().private_bytes_raw()
        return cls(
            directory, master.wrapping_only(), master.audit_mac_key(), master.search_key(), seed
        )

    @classmethod
    def split(cls, master: MasterKey, directory: Path) -> KeyStore:
        """The one-time migration of an old register: each file holds what `master`
        derived (or carried through its rotations), so everything written stays valid."""
        return cls.derived(master, directory)._written()

    def _written(self) -> KeyStore:
        """Write every file, then read the store back and compare: the store returned is
        the one on disk."""
        _prepare(self.directory)
        texts = {
            AUDIT_MAC_FILE: _secret_text(AUDIT_MAC_FILE, self.audit_mac_key),
            CHECKPOINT_FILE: _secret_text(CHECKPOINT_FILE, self._checkpoint_seed),
            SEARCH_FILE: _secret_text(SEARCH_FILE, self.search_key),
        }
        for name in FILES:
            if name == DATA_FILE:
                tmp = self.directory / f".{name}.tmp"
                tmp.unlink(missing_ok=True)
                self.data.write_new_file(tmp)
                _rename(tmp, self.directory / name)
            else:
                _write_file(self.directory, name, texts[name])
        opened = KeyStore.open(self.directory)
        if not self.same_keys(opened):
            self.remove_files()
            raise ConfigError(f"key store {self.directory} does not read back what was written")
        return opened

    def remove_files(self) -> None:
        """Delete the store's key files (a store just written that must not be used)."""
        for name in FILES:
            (self.directory / name).unlink(missing_ok=True)
        fsync_directory(self.directory)


def check_directory(directory: Path) -> None:
    """The store's directory: a real directory (not a symlink), 0700, this login's."""
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        raise ConfigError(f"key store {directory} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"key store {directory} cannot be read: {exc.strerror}") from None
    check_owner_only(directory, st, "key store", directory=True)


def _prepare(directory: Path) -> None:
    """The directory, made 0700 if it is new; refused if it already holds a key."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        directory.mkdir(mode=0o700)
        os.chmod(directory, 0o700)  # exactly, whatever the umask
        fsync_directory(directory.parent)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"key store {directory} cannot be created: {exc.strerror}") from None
    check_directory(directory)
    if KeyStore.present(directory):
        raise ConfigError(
            f"key store {directory} already holds keys; refusing to overwrite them "
            "(a register whose keys are replaced can never be read again)"
        )


def _write_file(directory: Path, name: str, content: bytes) -> None:
    tmp = directory / f".{name}.tmp"
    tmp.unlink(missing_ok=True)  # a crashed write's leftover: never any register's key
    write_new_key_file(tmp, content, _WHAT)
    _rename(tmp, directory / name)


def _rename(tmp: Path, final: Path) -> None:
    try:
        os.replace(tmp, final)
        fsync_directory(final.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"{_WHAT} {final} cannot be put in place: {exc.strerror}") from None


def _secret_text(name: str, secret: bytes) -> bytes:
    return f"{_HEADERS[name]}\n".encode("ascii") + base64.b64encode(secret) + b"\n"


def _read_secret(directory: Path, name: str) -> bytes:
    path = directory / name
    lines = read_key_file(path, _WHAT).split("\n")
    header = _HEADERS[name]
    if lines[0].strip() != header or len(lines) < 2:
        raise ConfigError(f"{_WHAT} {path} is not a {header} (a file swapped or damaged?)")
    try:
        raw = base64.b64decode("".join(lines[1:]).strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != KEY_LEN:
        raise ConfigError(f"{_WHAT} {path} does not hold a key of {KEY_LEN} bytes in base64")
    return raw
