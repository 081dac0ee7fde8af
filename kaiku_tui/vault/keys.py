"""The key hierarchy: master key -> organisation keys -> record keys -> subkeys.

The master key never encrypts data; it only wraps organisation keys, and an
organisation key only wraps record keys. That is what makes crypto-shredding
work: deleting one wrapped record key destroys that record, deleting an
organisation key destroys every recording of the organisation, also in old
backups. Every wrap binds the ids it belongs to as associated data, so a
wrapped key cannot be moved to another organisation or record.

Error messages name the file, variable, organisation or record, and never
contain key material.
"""

from __future__ import annotations

import base64
import binascii
import errno
import os
import shlex
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kaiku_tui.errors import ConfigError, VaultError

KEY_LEN = 32
ENV_VAR = "KAIKU_MASTER_KEY"

# Sealed format shared by key wraps and encrypted fields:
# version byte || 96-bit random nonce || AES-256-GCM ciphertext and tag.
SEALED_VERSION = 1
NONCE_LEN = 12
TAG_LEN = 16

_INFO_KEY_ID = b"kaiku-tui key-id v1"
_INFO_AUDIT_MAC = b"kaiku-tui audit-mac v1"
_INFO_SEARCH = b"kaiku-tui blind-index v1"
_INFO_CHECKPOINT = b"kaiku-tui checkpoint-signing v1"
_INFO_ORG_WRAP = b"kaiku-tui org-key-wrap v1"
_INFO_BLOB = b"kaiku-tui blob v1"
_INFO_FIELD = b"kaiku-tui field v1"

_AD_ORG_KEY = b"kaiku-tui org-key v1\x00"

# A key file after a rotation: the carried derived keys and the wrapping key, labelled.
_ROTATED_HEADER = "kaiku-tui master key v2"
_ROTATED_LABELS = ("audit-mac", "search", "checkpoint", "wrap")
_AD_RECORD_KEY = b"kaiku-tui record-key v1\x00"

_FSYNC_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOTSUP})

# A key file is about 45 bytes; never read an arbitrary large file into memory.
_MAX_KEY_FILE = 4096


def derive_key(ikm: bytes, info: bytes, length: int = KEY_LEN) -> bytes:
    """HKDF-SHA256 without salt: every purpose gets its own label, so no two share a key."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(ikm)


def new_data_key() -> bytes:
    """A fresh 256-bit key from the operating system's CSPRNG."""
    return os.urandom(KEY_LEN)


def seal(key: bytes, associated_data: bytes, plaintext: bytes) -> bytes:
    """AES-256-GCM with a random nonce, in the versioned sealed format.

    Random 96-bit nonces are safe here because each key seals far fewer than
    2**32 messages (one org key per organisation's records, one field key per record).
    """
    nonce = os.urandom(NONCE_LEN)
    sealed = AESGCM(key).encrypt(nonce, plaintext, associated_data)
    return bytes([SEALED_VERSION]) + nonce + sealed


def unseal(key: bytes, associated_data: bytes, blob: bytes) -> bytes | None:
    """Open a sealed blob, or None when it does not authenticate.

    Returning None rather than raising lets each caller say *what* failed to
    open (organisation, record, field) in its own words.
    """
    if len(blob) < 1 + NONCE_LEN + TAG_LEN or blob[0] != SEALED_VERSION:
        return None
    nonce, sealed = blob[1 : 1 + NONCE_LEN], blob[1 + NONCE_LEN :]
    try:
        return AESGCM(key).decrypt(nonce, sealed, associated_data)
    except InvalidTag:
        return None


def _require_key_len(key: bytes, what: str) -> bytes:
    """Keys of the wrong length are programming errors; say the length, never the bytes."""
    if len(key) != KEY_LEN:
        raise ValueError(f"{what} must be {KEY_LEN} bytes, got {len(key)}")
    return bytes(key)


def _require_no_nul(value: str, what: str) -> None:
    """Ids are NUL-separated in associated data; a NUL inside one would make it ambiguous."""
    if "\x00" in value:
        raise ValueError(f"{what} must not contain a NUL character")


@dataclass(frozen=True, eq=False, repr=False)
class MasterKey:
    """The root of the key hierarchy, loaded from a 0600 key file or KAIKU_MASTER_KEY.

    `key_id` identifies the key (e.g. to tell which master key wrapped an
    organisation key) without revealing anything about it.

    `_raw` wraps the organisation keys. The audit MAC, search (blind index) and
    checkpoint-signing keys are derived from the first master key of a register
    and then carried, as derived keys, through every rotation (`rotated`): the
    audit chain, the checkpoints and the phone index stay valid, while the new
    file does not hold the old `_raw` — HKDF is one-way — so destroying a retired
    key still shreds the organisation keys it wrapped in old backups.
    """

    _raw: bytes
    # (audit MAC, search, checkpoint seed); None: derived from `_raw` (a first key)
    _carried: tuple[bytes, bytes, bytes] | None = None
    key_id: str = field(init=False)

    def __post_init__(self) -> None:
        raw = _require_key_len(self._raw, "master key")
        object.__setattr__(self, "_raw", raw)
        if self._carried is not None:
            for part in self._carried:
                _require_key_len(part, "carried master key part")
        object.__setattr__(self, "key_id", derive_key(raw, _INFO_KEY_ID, 8).hex())

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r})"

    @classmethod
    def generate(cls) -> MasterKey:
        """A random in-memory master key (tests, and `create_file`)."""
        return cls(new_data_key())

    @classmethod
    def from_bytes(cls, b: bytes) -> MasterKey:
        return cls(b)

    @classmethod
    def from_env_or_file(cls, path: Path | None, environ: Mapping[str, str]) -> MasterKey:
        """The variable wins over the file, so a deployment can keep the key off the disk."""
        value = environ.get(ENV_VAR)
        if value is not None:
            return cls._parse(value, f"the variable {ENV_VAR}")
        if path is None:
            raise ConfigError(
                f"no master key: set {ENV_VAR} or name a master key file in the configuration"
            )
        return cls.from_file(path)

    @classmethod
    def from_file(cls, path: Path, what: str = "master key file") -> MasterKey:
        """The key in `path`, which must be a 0600 regular file owned by this login."""
        return cls._parse(read_key_file(path, what), f"{what} {path}")

    @classmethod
    def _parse(cls, text: str, where: str) -> MasterKey:
        if text.startswith(_ROTATED_HEADER):
            parts = _decode_rotated(text, where)
            return cls(parts[-1], (parts[0], parts[1], parts[2]))
        return cls(_decode_key_text(text, where))

    @classmethod
    def create_file(cls, path: Path) -> MasterKey:
        """Write a new key file with mode 0600.

        It never overwrites one: replacing a master key would shred every recording.
        """
        key = cls.generate()
        key.write_new_file(path)
        return key

    def write_new_file(self, path: Path) -> None:
        """This key into a new 0600 file (never over an existing one)."""
        write_new_key_file(path, self._file_text())

    def _file_text(self) -> bytes:
        if self._carried is None:
            return base64.b64encode(self._raw) + b"\n"
        lines = [_ROTATED_HEADER.encode("ascii")]
        lines += [
            f"{label} ".encode("ascii") + base64.b64encode(part)
            for label, part in zip(_ROTATED_LABELS, (*self._carried, self._raw), strict=True)
        ]
        return b"\n".join(lines) + b"\n"

    def wrapping_only(self) -> MasterKey:
        """This key without the carried audit, search and checkpoint keys: what the key
        store's data key file holds (same key id, same wrapping of organisation keys)."""
        return MasterKey(self._raw)

    def rotated(self) -> MasterKey:
        """A new master key for wrapping; the audit, search and checkpoint keys carried over."""
        return MasterKey(new_data_key(), self._derived())

    def _derived(self) -> tuple[bytes, bytes, bytes]:
        if self._carried is not None:
            return self._carried
        return (
            derive_key(self._raw, _INFO_AUDIT_MAC),
            derive_key(self._raw, _INFO_SEARCH),
            derive_key(self._raw, _INFO_CHECKPOINT),
        )

    def audit_mac_key(self) -> bytes:
        return self._derived()[0]

    def search_key(self) -> bytes:
        """Organisation-independent, so a phone number is found across organisations."""
        return self._derived()[1]

    def checkpoint_signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self._derived()[2])

    def _wrap_key(self) -> bytes:
        return derive_key(self._raw, _INFO_ORG_WRAP)

    def wrap_org_key(self, org_code: str, org_key: bytes) -> bytes:
        """Bind the organisation code as associated data: a wrapped key opens only for its org."""
        _require_key_len(org_key, "organisation key")
        return seal(self._wrap_key(), _org_ad(org_code), org_key)

    def unwrap_org_key(self, org_code: str, wrapped: bytes) -> bytes:
        key = unseal(self._wrap_key(), _org_ad(org_code), wrapped)
        if key is None or len(key) != KEY_LEN:
            raise VaultError(
                f"organisation key of '{org_code}' does not open with this master key "
                "(wrong master key or altered key)"
            )
        return key

    def open_org_key(self, org_code: str, wrapped: bytes) -> OrgKey:
        """Unwrap straight into an `OrgKey`, the form the rest of the vault takes."""
        return OrgKey(org_code, self.unwrap_org_key(org_code, wrapped))


def _org_ad(org_code: str) -> bytes:
    return _AD_ORG_KEY + org_code.encode("utf-8")


@dataclass(frozen=True, eq=False, repr=False)
class OrgKey:
    """An organisation's key: it wraps the keys of that organisation's records."""

    code: str
    _key: bytes

    def __post_init__(self) -> None:
        _require_no_nul(self.code, "organisation code")
        object.__setattr__(self, "_key", _require_key_len(self._key, "organisation key"))

    def __repr__(self) -> str:
        return f"OrgKey(code={self.code!r})"

    def _ad(self, record_ref: str) -> bytes:
        _require_no_nul(record_ref, "record reference")
        return _AD_RECORD_KEY + self.code.encode("utf-8") + b"\x00" + record_ref.encode("utf-8")

    def wrap_record_key(self, record_ref: str, record_key: bytes) -> bytes:
        _require_key_len(record_key, "record key")
        return seal(self._key, self._ad(record_ref), record_key)

    def unwrap_record_key(self, record_ref: str, wrapped: bytes) -> RecordKey:
        key = unseal(self._key, self._ad(record_ref), wrapped)
        if key is None or len(key) != KEY_LEN:
            raise VaultError(
                f"record {record_ref}: its key does not open "
                "(wrong organisation key, or the key was altered or destroyed)"
            )
        return RecordKey(record_ref, key)


@dataclass(frozen=True, eq=False, repr=False)
class RecordKey:
    """One record's key and its subkeys, one per use, so blob and field ciphertexts
    never share a key. `ref` names the record in every associated data."""

    ref: str
    _key: bytes
    blob_key: bytes = field(init=False)
    field_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        _require_no_nul(self.ref, "record reference")
        key = _require_key_len(self._key, "record key")
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "blob_key", derive_key(key, _INFO_BLOB))
        object.__setattr__(self, "field_key", derive_key(key, _INFO_FIELD))

    def __repr__(self) -> str:
        return f"RecordKey(ref={self.ref!r})"


def _decode_key_text(text: str, where: str) -> bytes:
    """Standard base64 of exactly 32 bytes; whitespace (the trailing newline) is ignored."""
    compact = "".join(text.split())
    try:
        raw = base64.b64decode(compact.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != KEY_LEN:
        raise ConfigError(
            f"{where} does not hold a master key: expected one line of base64 of {KEY_LEN} bytes"
        )
    return raw


def _decode_rotated(text: str, where: str) -> list[bytes]:
    """The labelled lines of a rotated key file, in `_ROTATED_LABELS` order."""
    lines = text.split("\n")[1:]
    found = [line.split() for line in lines if line.strip()]
    if [f[0] for f in found if len(f) == 2] != list(_ROTATED_LABELS) or len(found) != 4:
        raise ConfigError(f"{where} is not a complete rotated master key ({_ROTATED_HEADER})")
    return [_decode_key_text(value, where) for _, value in found]


def read_key_file(path: Path, what: str = "master key file") -> str:
    """Open first, then check the open file, so the checks and the read see the same file.

    O_NONBLOCK keeps a FIFO planted under the key's name from hanging the app.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be opened: {exc.strerror}") from None
    try:
        check_owner_only(path, os.fstat(fd), what)
        data = _read_limited(fd, _MAX_KEY_FILE + 1)
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    return data.decode("ascii", errors="replace")


def check_owner_only(
    path: Path, st: os.stat_result, what: str = "master key file", *, directory: bool = False
) -> None:
    """Refuse a key file (or the key store's directory) that anyone but its owner can
    touch, or that another login owns: it opens every recording."""
    kind_ok = stat.S_ISDIR(st.st_mode) if directory else stat.S_ISREG(st.st_mode)
    if not kind_ok:
        raise ConfigError(f"{what} {path} is not a {'directory' if directory else 'regular file'}")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        access = "readable" if mode & 0o044 else "accessible"
        quoted = shlex.quote(str(path))
        raise ConfigError(
            f"{what} {path} is {access} by others (mode {mode:04o}); "
            f"run chmod {'700' if directory else '600'} {quoted}"
        )
    uid = os.getuid()
    if st.st_uid != uid:
        raise ConfigError(
            f"{what} {path} is owned by uid {st.st_uid}, not by the current user (uid {uid})"
        )


def _read_limited(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = os.read(fd, limit - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def write_new_key_file(path: Path, content: bytes, what: str = "master key file") -> None:
    """O_EXCL refuses an existing file (and a symlink); a failed write leaves no file behind."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigError(f"{what} {path} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be created: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)  # a umask may have narrowed it further; make it exact
        _write_all(fd, content)
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise ConfigError(f"{what} {path} cannot be written: {exc.strerror}") from None
    os.close(fd)
    try:
        fsync_directory(path.parent)
    except OSError as exc:
        raise ConfigError(
            f"{what} {path} was written but its directory could not be synced: {exc.strerror}"
        ) from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_directory(directory: Path) -> None:
    """Make a new or removed directory entry durable, not only the file's bytes.

    A file system that cannot sync a directory (EINVAL, ENOTSUP: some network
    mounts) is not an error; any other OSError is the caller's to report.
    """
    fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _FSYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)
