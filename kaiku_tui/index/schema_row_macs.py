"""Migration 10 on both backends: person and organisation rows carry a `mac`.

The MAC (HMAC-SHA256 under a key derived from the audit MAC key, over a canonical
encoding of the row with its table and primary key) is computed and checked by the
register (register/rowseal.py); the index only stores it. A migration runs inside
the index and holds no key, so it adds the column and nothing else: the rows that
exist now keep a NULL `mac` until the register seals them, once, at its first open
after this migration, in the transaction that appends `register.rows_sealed` and
writes the fact `rows.sealed`. From then on a NULL `mac` is a bad row like any other
(docs/ARCHITECTURE.md, "Row MACs").
"""

from __future__ import annotations

SQLITE = """
    ALTER TABLE person ADD COLUMN mac BLOB;
    ALTER TABLE organisation ADD COLUMN mac BLOB;
"""

# The application role's UPDATE and INSERT on both tables (migration 3) cover the column.
POSTGRES = """
    ALTER TABLE person ADD COLUMN mac bytea;
    ALTER TABLE organisation ADD COLUMN mac bytea;
"""
