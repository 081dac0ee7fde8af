"""SQLite schema, as numbered migrations; `PRAGMA user_version` says which have run.

Indexes are chosen for the browse queries (docs/ARCHITECTURE.md): each sort
index covers the columns the filters test, so a filtered page is read from the
index alone and only the page's own rows touch the table.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the register core
    """
    -- Facts about the register itself, e.g. which master key it is sealed under.
    CREATE TABLE register_info (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE organisation (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        contract_start TEXT,
        contract_end TEXT,
        retention_days INTEGER,
        wrapped_key BLOB,
        master_key_id TEXT NOT NULL
    ) STRICT;

    CREATE TABLE person (
        login TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        roles TEXT NOT NULL,
        orgs TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1
    ) STRICT;

    CREATE TABLE recording (
        id INTEGER PRIMARY KEY,
        org TEXT NOT NULL REFERENCES organisation(code),
        channel INTEGER NOT NULL CHECK (channel IN (0, 1)),
        direction INTEGER NOT NULL CHECK (direction IN (0, 1)),
        started_at INTEGER NOT NULL,
        duration_s INTEGER NOT NULL CHECK (duration_s >= 0),
        agent TEXT NOT NULL,
        queue TEXT NOT NULL,
        source_id TEXT NOT NULL,
        phone_masked TEXT NOT NULL DEFAULT '',
        phone_enc BLOB,
        phone_bidx BLOB,
        transcript_enc BLOB,
        blob_ref TEXT,
        wrapped_key BLOB,
        notice_played INTEGER NOT NULL DEFAULT 0,
        legal_hold INTEGER NOT NULL DEFAULT 0,
        retention_until INTEGER,
        UNIQUE (org, source_id)
    ) STRICT;
    CREATE INDEX recording_by_date
        ON recording (started_at, id, duration_s, channel, direction, org);
    CREATE INDEX recording_by_duration
        ON recording (duration_s, started_at, id, channel, direction, org);
    CREATE INDEX recording_by_agent ON recording (agent, started_at, id);
    CREATE INDEX recording_by_phone ON recording (phone_bidx) WHERE phone_bidx IS NOT NULL;

    CREATE TABLE recording_tag (
        tag TEXT NOT NULL,
        recording_id INTEGER NOT NULL REFERENCES recording(id),
        PRIMARY KEY (tag, recording_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX recording_tag_by_recording ON recording_tag (recording_id, tag);

    -- The audit chain. `body` (canonical JSON) is the one source of truth; the
    -- columns people search by are generated from it, so they cannot disagree.
    CREATE TABLE audit_event (
        seq INTEGER PRIMARY KEY,
        body TEXT NOT NULL,
        prev_hash BLOB NOT NULL,
        hash BLOB NOT NULL,
        mac BLOB NOT NULL,
        at TEXT GENERATED ALWAYS AS (json_extract(body, '$.at')) VIRTUAL,
        actor TEXT GENERATED ALWAYS AS (json_extract(body, '$.actor')) VIRTUAL,
        action TEXT GENERATED ALWAYS AS (json_extract(body, '$.action')) VIRTUAL,
        subject TEXT GENERATED ALWAYS AS (json_extract(body, '$.subject')) VIRTUAL
    ) STRICT;
    CREATE INDEX audit_by_at ON audit_event (at);
    CREATE INDEX audit_by_actor ON audit_event (actor, seq);
    CREATE INDEX audit_by_subject ON audit_event (subject, seq) WHERE subject IS NOT NULL;

    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END;
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END;
    """,
    # 2: duration order within one channel (chats are rare among short recordings)
    """
    CREATE INDEX recording_by_channel_duration
        ON recording (channel, duration_s, started_at, id, direction, org);
    """,
)
