"""Small encrypted values in the index (transcripts as JSON bytes, phone numbers),
and the blind index that lets an exact phone search work without decrypting.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC

from kaiku_tui.errors import VaultError
from kaiku_tui.vault.keys import RecordKey, seal, unseal

BLIND_INDEX_LEN = 16

_AD_FIELD = b"kaiku-tui field v1\x00"


def _field_ad(key: RecordKey, field: str) -> bytes:
    """Record and field name in the associated data: a transcript cannot be pasted
    into another record, nor a phone number into the transcript column."""
    if "\x00" in field:
        raise ValueError("field name must not contain a NUL character")
    return _AD_FIELD + key.ref.encode("utf-8") + b"\x00" + field.encode("utf-8")


def encrypt_field(key: RecordKey, field: str, plaintext: bytes) -> bytes:
    return seal(key.field_key, _field_ad(key, field), plaintext)


def decrypt_field(key: RecordKey, field: str, blob: bytes) -> bytes:
    plaintext = unseal(key.field_key, _field_ad(key, field), blob)
    if plaintext is None:
        raise VaultError(
            f"record {key.ref}: the {field} does not decrypt (altered, or under another key)"
        )
    return plaintext


def blind_index(search_key: bytes, e164: str) -> bytes:
    """Keyed, so that the index alone does not let anyone test guessed numbers;
    truncated to 16 bytes, which keeps collisions negligible and the column small."""
    mac = HMAC(search_key, hashes.SHA256())
    mac.update(e164.encode("utf-8"))
    return mac.finalize()[:BLIND_INDEX_LEN]
