"""The vault: keys, encryption of fields and audio blobs, and the encrypted blob store.

Only the register and the room-level maintenance tools use it; faces never import it.
It imports only `errors` (and `cryptography`).
"""

from kaiku_tui.vault.blobs import BlobStore
from kaiku_tui.vault.fields import blind_index, decrypt_field, encrypt_field
from kaiku_tui.vault.keys import MasterKey, OrgKey, RecordKey, new_data_key
from kaiku_tui.vault.stream import HEADER_LEN, SEGMENT_SIZE, BlobReader, BlobWriter, encrypt_stream

__all__ = [
    "HEADER_LEN",
    "SEGMENT_SIZE",
    "BlobReader",
    "BlobStore",
    "BlobWriter",
    "MasterKey",
    "OrgKey",
    "RecordKey",
    "blind_index",
    "decrypt_field",
    "encrypt_field",
    "encrypt_stream",
    "new_data_key",
]
