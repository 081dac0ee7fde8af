"""SQLite schema, as numbered migrations; `PRAGMA user_version` says which have run.

Migration numbers are shared with `postgres_schema.py`. PostgreSQL's migration 3
(roles and row-level security) has no SQLite counterpart, so SQLite's is an empty
script: `_migrate` runs it like any other and `user_version` goes 2 → 3 → 4, so
the same number means the same tables on both backends.

Indexes are chosen for the browse queries (docs/ARCHITECTURE.md): each sort
index covers the columns the filters test, so a filtered page is read from the
index alone and only the page's own rows touch the table.
"""

from __future__ import annotations

from kaiku_tui.index import schema_row_macs

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
    # 3: PostgreSQL's roles and row-level security; nothing to do in SQLite (no logins)
    "",
    # 4: annotations (docs/ARCHITECTURE.md, "Annotations"). Tags stay in recording_tag.
    """
    -- A note is a chain of versions, never updated: an edit or a withdrawal adds a
    -- row. A note's id is the row id of its first version (first_id NULL there).
    CREATE TABLE note (
        id INTEGER PRIMARY KEY,
        first_id INTEGER REFERENCES note(id),
        version INTEGER NOT NULL CHECK (version >= 1),
        recording_id INTEGER NOT NULL REFERENCES recording(id),
        author TEXT NOT NULL,
        written_at INTEGER NOT NULL,
        at_s REAL,
        message INTEGER,
        withdrawn INTEGER NOT NULL DEFAULT 0,
        text_enc BLOB
    ) STRICT;
    CREATE UNIQUE INDEX note_version ON note (coalesce(first_id, id), version);
    CREATE INDEX note_by_recording ON note (recording_id, id);

    CREATE TABLE feedback_case (
        id INTEGER PRIMARY KEY,
        org TEXT NOT NULL REFERENCES organisation(code),
        ref TEXT NOT NULL,
        received TEXT NOT NULL,
        summary TEXT NOT NULL,
        status TEXT NOT NULL,
        owner TEXT NOT NULL DEFAULT '',
        wrapped_key BLOB,
        findings_enc BLOB,
        resolution_enc BLOB,
        UNIQUE (org, ref)
    ) STRICT;
    CREATE INDEX feedback_case_by_status ON feedback_case (status, id);

    CREATE TABLE case_link (
        case_id INTEGER NOT NULL REFERENCES feedback_case(id),
        recording_id INTEGER NOT NULL REFERENCES recording(id),
        PRIMARY KEY (case_id, recording_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX case_link_by_recording ON case_link (recording_id, case_id);

    -- What was asked (criteria as JSON) and what was drawn, so a sample can be redrawn.
    CREATE TABLE coaching_sample (
        id INTEGER PRIMARY KEY,
        drawn_by TEXT NOT NULL,
        drawn_at INTEGER NOT NULL,
        seed INTEGER NOT NULL,
        criteria TEXT NOT NULL,
        record_ids TEXT NOT NULL
    ) STRICT;

    CREATE TABLE sample_score (
        sample_id INTEGER NOT NULL REFERENCES coaching_sample(id),
        recording_id INTEGER NOT NULL REFERENCES recording(id),
        scorer TEXT NOT NULL,
        scored_at INTEGER NOT NULL,
        scores TEXT NOT NULL,
        comment_enc BLOB,
        PRIMARY KEY (sample_id, recording_id, scorer)
    ) STRICT;
    """,
    # 5: retention and legal holds (docs/ARCHITECTURE.md, "Retention and legal holds")
    """
    -- What is left of a destroyed recording: no content, enough for the audit log to
    -- read sensibly. Its id is the recording's; blob_ref is kept only until the blob
    -- file is deleted (after the commit), so a purge that stopped resumes there.
    CREATE TABLE tombstone (
        id INTEGER PRIMARY KEY,
        org TEXT NOT NULL REFERENCES organisation(code),
        channel INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        duration_s INTEGER NOT NULL,
        destroyed_at INTEGER NOT NULL,
        reason TEXT NOT NULL,
        blob_ref TEXT
    ) STRICT;
    CREATE INDEX tombstone_blob_pending ON tombstone (id) WHERE blob_ref IS NOT NULL;

    -- A hold names one recording or one case; released holds stay (who, when). No
    -- foreign key to recording: a released hold outlives the recording it held.
    CREATE TABLE legal_hold (
        id INTEGER PRIMARY KEY,
        recording_id INTEGER,
        case_id INTEGER REFERENCES feedback_case(id),
        reason TEXT NOT NULL,
        ref TEXT NOT NULL,
        purpose TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at INTEGER NOT NULL,
        released_by TEXT,
        released_at INTEGER,
        CHECK ((recording_id IS NULL) != (case_id IS NULL))
    ) STRICT;
    CREATE INDEX legal_hold_on_recording ON legal_hold (recording_id)
        WHERE released_at IS NULL AND recording_id IS NOT NULL;
    CREATE INDEX legal_hold_on_case ON legal_hold (case_id)
        WHERE released_at IS NULL AND case_id IS NOT NULL;

    -- The plan's and the purge's range: one organisation's recordings by date.
    CREATE INDEX recording_by_org ON recording (org, started_at, id);
    """,
    # 6: data subjects' requests, the disclosure log (luovutusloki), and the audit log's
    # events by target, for the log report of a data subject (docs/ARCHITECTURE.md,
    # "Data subjects' rights")
    """
    CREATE TABLE subject_request (
        ref TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('access', 'log', 'authority')),
        received TEXT NOT NULL,
        answered TEXT,
        subject TEXT,
        handled_by TEXT NOT NULL
    ) STRICT;

    CREATE TABLE disclosure (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        disclosed_by TEXT NOT NULL,
        authority TEXT NOT NULL,
        legal_basis TEXT NOT NULL,
        request_ref TEXT NOT NULL REFERENCES subject_request(ref),
        record_ids TEXT NOT NULL,
        manifest_sha256 TEXT NOT NULL
    ) STRICT;

    -- The events about one recording (open, play, notes, tags, denials): `target` is
    -- the recording's id as text. An expression index, so the table is not rewritten.
    CREATE INDEX audit_by_target ON audit_event (json_extract(body, '$.target'), seq)
        WHERE json_extract(body, '$.target') IS NOT NULL;
    """,
    # 7: audit retention (kaiku_tui/audit/cut.py). DELETE stays refused, except for the
    # rows up to the cut recorded in register_info ('audit.cut', "<seq> <hash hex>"),
    # which `audit retain` writes in the transaction that deletes them. A condition
    # rather than dropping and re-creating the trigger around the DELETE: no moment
    # in which any row could go, and nothing past the recorded cut ever can; the
    # record itself is checked against the signed cut checkpoints by `audit verify`.
    # CAST reads the leading seq of "<seq> <hash hex>".
    """
    DROP TRIGGER audit_event_no_delete;
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    WHEN OLD.seq > coalesce(
        (SELECT CAST(value AS INTEGER) FROM register_info WHERE name = 'audit.cut'), 0)
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused past the audit cut');
    END;
    """,
    # 8: the tag filter walks the tag's rows in date order (docs/ARCHITECTURE.md,
    # "The tag filter"): a recording's start, copied into each of its tags, never changes.
    """
    ALTER TABLE recording_tag ADD COLUMN started_at INTEGER;
    UPDATE recording_tag
        SET started_at = (SELECT r.started_at FROM recording r WHERE r.id = recording_id);
    CREATE INDEX recording_tag_by_date ON recording_tag (tag, started_at, recording_id);
    -- Every writer of tags (an import, a tag added, a copy by migrate) gets the date
    -- without knowing of it.
    CREATE TRIGGER recording_tag_started AFTER INSERT ON recording_tag
        WHEN NEW.started_at IS NULL
    BEGIN
        UPDATE recording_tag
            SET started_at = (SELECT r.started_at FROM recording r WHERE r.id = NEW.recording_id)
            WHERE tag = NEW.tag AND recording_id = NEW.recording_id;
    END;
    """,
    # 9: the events that showed a recording without naming it as their target (list and
    # search pages, a case's links and export, a coaching sample, copies): each name in
    # an event's `revealed`, for the log report of a data subject (docs/ARCHITECTURE.md,
    # "Data subjects' rights"). json_each cannot be indexed, so a side table, written
    # by a trigger in the event's own transaction: every writer of events (the
    # register, a copy by migrate) fills it without knowing of it. The audit cut
    # deletes its rows with the events'.
    """
    CREATE TABLE audit_revealed (
        name TEXT NOT NULL,  -- as `revealed` says it: a recording's id, case:REF, sample:N
        seq INTEGER NOT NULL,
        PRIMARY KEY (name, seq)
    ) STRICT, WITHOUT ROWID;
    INSERT OR IGNORE INTO audit_revealed (name, seq)
        SELECT j.value, a.seq FROM audit_event a, json_each(a.body, '$.revealed') j
        WHERE json_extract(a.body, '$.revealed') IS NOT NULL;
    CREATE TRIGGER audit_revealed_names AFTER INSERT ON audit_event
        WHEN json_extract(NEW.body, '$.revealed') IS NOT NULL
    BEGIN
        INSERT OR IGNORE INTO audit_revealed (name, seq)
            SELECT value, NEW.seq FROM json_each(NEW.body, '$.revealed');
    END;
    """,
    # 10: person and organisation rows carry a MAC (schema_row_macs.py)
    schema_row_macs.SQLITE,
)
