"""PostgreSQL schema, as numbered migrations; the `schema_version` table says which have run.

The same tables, columns and migration numbers as `sqlite_schema.py`, so both
backends hold the same register. Where PostgreSQL differs:

* Text that is sorted or compared by range (`login`, `code`, the audit `at`)
  is `COLLATE "C"`: byte order, as SQLite compares, whatever the database's
  locale (under a natural-language collation `at >= '2026-05-02T08:00:00'`
  would not be a plain prefix comparison).
* The browse indexes carry their non-key columns with `INCLUDE`, so a filtered
  page is still read from the index alone (an index-only scan).
* The audit columns people search by are STORED generated columns parsed from
  `body`, so they cannot disagree with what was hashed. jsonb cannot hold
  U+0000, and `body::jsonb` fails on any `\u0000` in the body, which would
  make such an event impossible to append; `audit_json` parses a copy with
  those escapes (and only real escapes, not an escaped backslash before
  `u0000`) replaced by U+FFFD. `body` itself is stored as written.
* A statement trigger refuses UPDATE, DELETE and TRUNCATE of `audit_event`.
* Migration 3 (no SQLite counterpart: SQLite has no logins) makes the database
  enforce what the application promises: the application role
  `<database>_app` (APP_ROLE_SUFFIX) may only INSERT and SELECT the audit
  table, and row-level security limits every non-owner login to the
  organisations of its own person row (docs/ARCHITECTURE.md, "PostgreSQL").
"""

from __future__ import annotations

from kaiku_tui.index import schema_row_macs

# The application role is named after the database, so that two registers on one
# cluster (roles are cluster-wide) get two roles, and every schema of one database
# (the tests make one per test) shares one.
APP_ROLE_SUFFIX = "_app"

MIGRATIONS: tuple[str, ...] = (
    # 1: the register core
    r"""
    -- Facts about the register itself, e.g. which master key it is sealed under.
    CREATE TABLE register_info (
        name text PRIMARY KEY,
        value text NOT NULL
    );

    CREATE TABLE organisation (
        code text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        contract_start date,
        contract_end date,
        retention_days integer,
        wrapped_key bytea,
        master_key_id text NOT NULL
    );

    CREATE TABLE person (
        login text COLLATE "C" PRIMARY KEY,
        display_name text NOT NULL,
        roles text NOT NULL,
        orgs text NOT NULL DEFAULT '',
        active boolean NOT NULL DEFAULT true
    );

    -- Every integer a keyset cursor is compared with is a bigint: the cursor
    -- sentinels (sql.LOWEST, sql.HIGHEST) are ±2^62.
    CREATE TABLE recording (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        org text NOT NULL REFERENCES organisation(code),
        channel smallint NOT NULL CHECK (channel IN (0, 1)),
        direction smallint NOT NULL CHECK (direction IN (0, 1)),
        started_at bigint NOT NULL,
        duration_s bigint NOT NULL CHECK (duration_s >= 0),
        agent text NOT NULL,
        queue text NOT NULL,
        source_id text NOT NULL,
        phone_masked text NOT NULL DEFAULT '',
        phone_enc bytea,
        phone_bidx bytea,
        transcript_enc bytea,
        blob_ref text,
        wrapped_key bytea,
        notice_played boolean NOT NULL DEFAULT false,
        legal_hold boolean NOT NULL DEFAULT false,
        retention_until bigint,
        UNIQUE (org, source_id)
    );
    CREATE INDEX recording_by_date
        ON recording (started_at, id) INCLUDE (duration_s, channel, direction, org);
    CREATE INDEX recording_by_duration
        ON recording (duration_s, started_at, id) INCLUDE (channel, direction, org);
    CREATE INDEX recording_by_agent ON recording (agent, started_at, id);
    CREATE INDEX recording_by_phone ON recording (phone_bidx) WHERE phone_bidx IS NOT NULL;

    CREATE TABLE recording_tag (
        tag text NOT NULL,
        recording_id bigint NOT NULL REFERENCES recording(id),
        PRIMARY KEY (tag, recording_id)
    );
    CREATE INDEX recording_tag_by_recording ON recording_tag (recording_id, tag);

    -- The body as jsonb for the generated columns, with \u0000 escapes made U+FFFD.
    CREATE FUNCTION audit_json(body text) RETURNS jsonb
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN regexp_replace(body, '(?<!\\)((?:\\\\)*)\\u0000', '\1\\ufffd', 'g')::jsonb;

    -- The audit chain. `body` (canonical JSON) is the one source of truth; the
    -- columns people search by are generated from it, so they cannot disagree.
    CREATE TABLE audit_event (
        seq bigint PRIMARY KEY,
        body text NOT NULL,
        prev_hash bytea NOT NULL,
        hash bytea NOT NULL,
        mac bytea NOT NULL,
        at text COLLATE "C" GENERATED ALWAYS AS (audit_json(body) ->> 'at') STORED,
        actor text COLLATE "C" GENERATED ALWAYS AS (audit_json(body) ->> 'actor') STORED,
        action text COLLATE "C" GENERATED ALWAYS AS (audit_json(body) ->> 'action') STORED,
        subject text COLLATE "C" GENERATED ALWAYS AS (audit_json(body) ->> 'subject') STORED
    );
    CREATE INDEX audit_by_at ON audit_event (at);
    CREATE INDEX audit_by_actor ON audit_event (actor, seq);
    CREATE INDEX audit_by_subject ON audit_event (subject, seq) WHERE subject IS NOT NULL;

    CREATE FUNCTION audit_event_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
    -- Per statement, so that even a statement that matches no row is refused.
    CREATE TRIGGER audit_event_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse();
    """,
    # 2: duration order within one channel (chats are rare among short recordings)
    """
    CREATE INDEX recording_by_channel_duration
        ON recording (channel, duration_s, started_at, id) INCLUDE (direction, org);
    """,
    # 3: the application role's privileges, and row-level security by organisation scope
    r"""
    DO $migration$
    DECLARE
        app name := current_database() || '_app';
    BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app) THEN
            IF NOT (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user)
            THEN
                RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = format(
                    'the application role %s does not exist and %s may not create it: run '
                    || 'CREATE ROLE %s NOLOGIN as a role that may, or grant %s CREATEROLE',
                    app, current_user, app, current_user);
            END IF;
            EXECUTE format('CREATE ROLE %I NOLOGIN', app);
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), app);
        EXECUTE format('GRANT SELECT ON schema_version, register_info TO %I', app);
        -- The audit log: appended and read, never changed. The trigger refuses
        -- the rest too, but a privilege is checked before any trigger runs.
        EXECUTE format('GRANT SELECT, INSERT ON audit_event TO %I', app);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON person, organisation TO %I', app);
        -- Recordings are purged at the end of their retention.
        EXECUTE format(
            'GRANT SELECT, INSERT, UPDATE, DELETE ON recording, recording_tag TO %I', app);

        -- Whose row the policies read: SECURITY DEFINER, so that the row is read
        -- whatever the caller may read, with the search_path pinned to this schema
        -- (a caller's own schema first on the path must not supply a fake `person`).
        -- session_user is the login that authenticated; SET ROLE does not change it.
        -- NULL: not an active person, sees nothing. '{}': no restriction. Else the codes.
        EXECUTE format($f$
            CREATE FUNCTION kaiku_scope() RETURNS text[]
                LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %I, pg_temp
                AS $body$
                    SELECT CASE WHEN p.orgs = '' THEN '{}'::text[]
                                ELSE string_to_array(p.orgs, ',') END
                    FROM person p WHERE p.login = session_user AND p.active
                $body$
        $f$, current_schema());
        EXECUTE format($f$
            CREATE FUNCTION kaiku_is_admin() RETURNS boolean
                LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %I, pg_temp
                AS $body$
                    SELECT coalesce(bool_or(p.active
                                            AND 'admin' = ANY (string_to_array(p.roles, ','))),
                                    false)
                    FROM person p WHERE p.login = session_user
                $body$
        $f$, current_schema());
    END
    $migration$;

    -- Row-level security binds every login but the tables' owner (who runs the
    -- migrations). Each function is wrapped in a scalar subquery: an InitPlan,
    -- evaluated once per statement, not once per row.
    ALTER TABLE recording ENABLE ROW LEVEL SECURITY;
    CREATE POLICY recording_in_scope ON recording
        USING ((SELECT kaiku_scope()) = '{}' OR org = ANY ((SELECT kaiku_scope())::text[]));

    -- A tag is seen, set or removed only with its recording (itself under the policy).
    ALTER TABLE recording_tag ENABLE ROW LEVEL SECURITY;
    CREATE POLICY recording_tag_in_scope ON recording_tag
        USING (EXISTS (SELECT FROM recording r WHERE r.id = recording_id));

    ALTER TABLE organisation ENABLE ROW LEVEL SECURITY;
    CREATE POLICY organisation_in_scope ON organisation FOR SELECT
        USING ((SELECT kaiku_scope()) = '{}' OR code = ANY ((SELECT kaiku_scope())::text[]));
    CREATE POLICY organisation_added_by_admin ON organisation FOR INSERT
        WITH CHECK ((SELECT kaiku_is_admin()));
    CREATE POLICY organisation_changed_by_admin ON organisation FOR UPDATE
        USING ((SELECT kaiku_is_admin())
               AND ((SELECT kaiku_scope()) = '{}' OR code = ANY ((SELECT kaiku_scope())::text[])));

    -- Persons are readable (a session reads its own row to start), but only an
    -- admin may add or change one: otherwise any login could widen its own scope.
    ALTER TABLE person ENABLE ROW LEVEL SECURITY;
    CREATE POLICY person_readable ON person FOR SELECT USING (true);
    CREATE POLICY person_added_by_admin ON person FOR INSERT
        WITH CHECK ((SELECT kaiku_is_admin()));
    CREATE POLICY person_changed_by_admin ON person FOR UPDATE
        USING ((SELECT kaiku_is_admin()));
    """,
    # 4: annotations (docs/ARCHITECTURE.md, "Annotations"). Tags stay in recording_tag.
    r"""
    -- A note is a chain of versions, never updated: an edit or a withdrawal adds a
    -- row. A note's id is the row id of its first version (first_id NULL there).
    CREATE TABLE note (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        first_id bigint REFERENCES note(id),
        version integer NOT NULL CHECK (version >= 1),
        recording_id bigint NOT NULL REFERENCES recording(id),
        author text NOT NULL,
        written_at bigint NOT NULL,
        at_s double precision,
        message integer,
        withdrawn boolean NOT NULL DEFAULT false,
        text_enc bytea
    );
    CREATE UNIQUE INDEX note_version ON note ((coalesce(first_id, id)), version);
    CREATE INDEX note_by_recording ON note (recording_id, id);

    CREATE TABLE feedback_case (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        org text COLLATE "C" NOT NULL REFERENCES organisation(code),
        ref text NOT NULL,
        received text NOT NULL,
        summary text NOT NULL,
        status text NOT NULL,
        owner text NOT NULL DEFAULT '',
        wrapped_key bytea,
        findings_enc bytea,
        resolution_enc bytea,
        UNIQUE (org, ref)
    );
    CREATE INDEX feedback_case_by_status ON feedback_case (status, id);

    CREATE TABLE case_link (
        case_id bigint NOT NULL REFERENCES feedback_case(id),
        recording_id bigint NOT NULL REFERENCES recording(id),
        PRIMARY KEY (case_id, recording_id)
    );
    CREATE INDEX case_link_by_recording ON case_link (recording_id, case_id);

    CREATE TABLE coaching_sample (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        drawn_by text NOT NULL,
        drawn_at bigint NOT NULL,
        seed bigint NOT NULL,
        criteria text NOT NULL,
        record_ids text NOT NULL
    );

    CREATE TABLE sample_score (
        sample_id bigint NOT NULL REFERENCES coaching_sample(id),
        recording_id bigint NOT NULL REFERENCES recording(id),
        scorer text NOT NULL,
        scored_at bigint NOT NULL,
        scores text NOT NULL,
        comment_enc bytea,
        PRIMARY KEY (sample_id, recording_id, scorer)
    );

    DO $migration$
    DECLARE
        app name := current_database() || '_app';
    BEGIN
        -- Versions are added, never changed; DELETE for the retention purge only.
        EXECUTE format('GRANT SELECT, INSERT, DELETE ON note, case_link, sample_score TO %I', app);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON feedback_case TO %I', app);
        EXECUTE format('GRANT SELECT, INSERT ON coaching_sample TO %I', app);
    END
    $migration$;

    -- As recording_tag: a note, a link or a score is seen only with its recording
    -- (itself under recording_in_scope); a case only in its organisation's scope.
    ALTER TABLE note ENABLE ROW LEVEL SECURITY;
    CREATE POLICY note_in_scope ON note
        USING (EXISTS (SELECT FROM recording r WHERE r.id = recording_id));
    ALTER TABLE sample_score ENABLE ROW LEVEL SECURITY;
    CREATE POLICY sample_score_in_scope ON sample_score
        USING (EXISTS (SELECT FROM recording r WHERE r.id = recording_id));
    ALTER TABLE feedback_case ENABLE ROW LEVEL SECURITY;
    CREATE POLICY feedback_case_in_scope ON feedback_case
        USING ((SELECT kaiku_scope()) = '{}' OR org = ANY ((SELECT kaiku_scope())::text[]));
    ALTER TABLE case_link ENABLE ROW LEVEL SECURITY;
    CREATE POLICY case_link_in_scope ON case_link
        USING (EXISTS (SELECT FROM feedback_case c WHERE c.id = case_id)
               AND EXISTS (SELECT FROM recording r WHERE r.id = recording_id));
    -- A sample names recordings by id only; any active person of the register.
    ALTER TABLE coaching_sample ENABLE ROW LEVEL SECURITY;
    CREATE POLICY coaching_sample_by_persons ON coaching_sample
        USING ((SELECT kaiku_scope()) IS NOT NULL);
    """,
    # 5: retention and legal holds (docs/ARCHITECTURE.md, "Retention and legal holds")
    r"""
    CREATE TABLE tombstone (
        id bigint PRIMARY KEY,
        org text COLLATE "C" NOT NULL REFERENCES organisation(code),
        channel smallint NOT NULL,
        started_at bigint NOT NULL,
        duration_s bigint NOT NULL,
        destroyed_at bigint NOT NULL,
        reason text NOT NULL,
        blob_ref text
    );
    CREATE INDEX tombstone_blob_pending ON tombstone (id) WHERE blob_ref IS NOT NULL;

    CREATE TABLE legal_hold (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        recording_id bigint,
        case_id bigint REFERENCES feedback_case(id),
        reason text NOT NULL,
        ref text NOT NULL,
        purpose text NOT NULL,
        set_by text NOT NULL,
        set_at bigint NOT NULL,
        released_by text,
        released_at bigint,
        CHECK ((recording_id IS NULL) <> (case_id IS NULL))
    );
    CREATE INDEX legal_hold_on_recording ON legal_hold (recording_id)
        WHERE released_at IS NULL AND recording_id IS NOT NULL;
    CREATE INDEX legal_hold_on_case ON legal_hold (case_id)
        WHERE released_at IS NULL AND case_id IS NOT NULL;

    CREATE INDEX recording_by_org ON recording (org, started_at, id);

    DO $migration$
    DECLARE
        app name := current_database() || '_app';
    BEGIN
        -- A tombstone is written by the purge and loses its blob_ref once the file is gone.
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON tombstone, legal_hold TO %I', app);
    END
    $migration$;

    ALTER TABLE tombstone ENABLE ROW LEVEL SECURITY;
    CREATE POLICY tombstone_in_scope ON tombstone
        USING ((SELECT kaiku_scope()) = '{}' OR org = ANY ((SELECT kaiku_scope())::text[]));
    -- A hold names an id only; any active person of the register sees the list (the
    -- register shows a person the holds of recordings in their scope).
    ALTER TABLE legal_hold ENABLE ROW LEVEL SECURITY;
    CREATE POLICY legal_hold_by_persons ON legal_hold
        USING ((SELECT kaiku_scope()) IS NOT NULL);
    """,
    # 6: data subjects' requests, the disclosure log (luovutusloki), and the audit log's
    # events by target (as sqlite_schema.py). Neither table has an organisation: both
    # are the DPO's, guarded by the policy; they hold no patient content.
    r"""
    CREATE TABLE subject_request (
        ref text COLLATE "C" PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('access', 'log', 'authority')),
        received text NOT NULL,
        answered text,
        subject text,
        handled_by text NOT NULL
    );

    CREATE TABLE disclosure (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at bigint NOT NULL,
        disclosed_by text NOT NULL,
        authority text NOT NULL,
        legal_basis text NOT NULL,
        request_ref text COLLATE "C" NOT NULL REFERENCES subject_request(ref),
        record_ids text NOT NULL,
        manifest_sha256 text NOT NULL
    );

    -- The same expression as the query's (subject_sql.py), so the planner matches it.
    CREATE INDEX audit_by_target ON audit_event ((audit_json(body) ->> 'target'), seq)
        WHERE (audit_json(body) ->> 'target') IS NOT NULL;

    DO $migration$
    DECLARE
        app name := current_database() || '_app';
    BEGIN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON subject_request TO %I', app);
        EXECUTE format('GRANT SELECT, INSERT ON disclosure TO %I', app);
        -- As kaiku_is_admin (migration 3): whose row, read whatever the caller may read.
        EXECUTE format($f$
            CREATE FUNCTION kaiku_is_dpo() RETURNS boolean
                LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %I, pg_temp
                AS $body$
                    SELECT coalesce(bool_or(p.active
                                            AND 'dpo' = ANY (string_to_array(p.roles, ','))),
                                    false)
                    FROM person p WHERE p.login = session_user
                $body$
        $f$, current_schema());
    END
    $migration$;

    -- The database keeps the policy too: requests are the DPO's; the disclosure log is
    -- written by the DPO and read by the DPO and admins (domain/access.py).
    ALTER TABLE subject_request ENABLE ROW LEVEL SECURITY;
    CREATE POLICY subject_request_by_dpo ON subject_request
        USING ((SELECT kaiku_is_dpo())) WITH CHECK ((SELECT kaiku_is_dpo()));
    ALTER TABLE disclosure ENABLE ROW LEVEL SECURITY;
    CREATE POLICY disclosure_read ON disclosure FOR SELECT
        USING ((SELECT kaiku_is_dpo()) OR (SELECT kaiku_is_admin()));
    CREATE POLICY disclosure_written_by_dpo ON disclosure FOR INSERT
        WITH CHECK ((SELECT kaiku_is_dpo()));
    """,
    # 7: audit retention (kaiku_tui/audit/cut.py, docs/ARCHITECTURE.md "Audit retention")
    r"""
    -- UPDATE, DELETE and TRUNCATE stay refused per statement (even one that matches
    -- no row), except the DELETE of kaiku_audit_cut below, which says so in a
    -- transaction-local setting. Only the owner and that function may DELETE at all
    -- (privileges), and the owner may disable triggers anyway: the setting is no
    -- door for anyone else. Whatever the setting, no row past the cut recorded in
    -- register_info ('audit.cut', "<seq> <hash hex>") can go: an AFTER statement
    -- trigger over the deleted rows checks that, once per statement.
    CREATE OR REPLACE FUNCTION audit_event_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND current_setting('kaiku.audit_cut', true) = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;

    DO $migration$
    DECLARE
        app name := current_database() || '_app';
    BEGIN
        EXECUTE format($f$
            CREATE FUNCTION audit_event_cut_only() RETURNS trigger
                LANGUAGE plpgsql SET search_path = %I, pg_temp
                AS $body$
                DECLARE
                    cut bigint := coalesce((SELECT split_part(value, ' ', 1)::bigint
                                            FROM register_info WHERE name = 'audit.cut'), 0);
                    past bigint;
                BEGIN
                    SELECT min(seq) INTO past FROM gone WHERE seq > cut;
                    IF past IS NOT NULL THEN
                        RAISE EXCEPTION
                            'audit_event is append-only: DELETE of seq %% refused (cut at %%)',
                            past, cut
                            USING ERRCODE = 'insufficient_privilege';
                    END IF;
                    RETURN NULL;
                END
                $body$
        $f$, current_schema());

        -- The one way for a login to delete audit rows: SECURITY DEFINER (the owner's
        -- rights; the application role has no DELETE), for an active admin's login or
        -- the owner, only a prefix, none of whose events names a recording that still
        -- exists, only up to a row whose hash the caller names (the
        -- application verified the chain and signed a cut checkpoint of that row
        -- first; PostgreSQL cannot check an Ed25519 signature itself), always
        -- leaving rows after it, and recording the cut in the same transaction.
        EXECUTE format($f$
            CREATE FUNCTION kaiku_audit_cut(upto bigint, upto_hash bytea) RETURNS bigint
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = %I, pg_temp
                AS $body$
                DECLARE
                    previous bigint := coalesce((SELECT split_part(value, ' ', 1)::bigint
                                               FROM register_info WHERE name = 'audit.cut'), 0);
                    removed bigint;
                BEGIN
                    IF NOT (kaiku_is_admin() OR pg_has_role(session_user,
                            (SELECT relowner FROM pg_class WHERE oid = 'audit_event'::regclass),
                            'MEMBER')) THEN
                        RAISE EXCEPTION 'only an admin may cut the audit log'
                            USING ERRCODE = 'insufficient_privilege';
                    END IF;
                    IF upto <= previous THEN
                        RAISE EXCEPTION 'the audit log is already cut at seq %%', previous;
                    END IF;
                    IF NOT EXISTS (SELECT FROM audit_event WHERE seq = upto AND hash = upto_hash)
                    THEN
                        RAISE EXCEPTION 'audit seq %% with the verified hash is not in the log',
                            upto;
                    END IF;
                    -- Whatever the caller's row-level security let it see: no event
                    -- that goes may name a recording that still exists.
                    IF EXISTS (
                        SELECT FROM audit_event a
                        CROSS JOIN LATERAL (
                            SELECT audit_json(a.body) ->> 'target' AS name
                            UNION ALL
                            SELECT jsonb_array_elements_text(
                                coalesce(audit_json(a.body) -> 'revealed', '[]'))
                        ) n
                        JOIN recording r ON r.id = CASE WHEN n.name ~ '^[0-9]{1,18}$'
                                                        THEN n.name::bigint END
                        WHERE a.seq > previous AND a.seq <= upto
                    ) THEN
                        RAISE EXCEPTION
                            'audit events up to seq %% name a recording that still exists', upto;
                    END IF;
                    IF NOT EXISTS (SELECT FROM audit_event WHERE seq > upto) THEN
                        RAISE EXCEPTION 'an audit cut must leave the events after it';
                    END IF;
                    INSERT INTO register_info (name, value)
                        VALUES ('audit.cut', upto || ' ' || encode(upto_hash, 'hex'))
                        ON CONFLICT (name) DO UPDATE SET value = excluded.value;
                    PERFORM set_config('kaiku.audit_cut', 'on', true);
                    DELETE FROM audit_event WHERE seq <= upto;
                    GET DIAGNOSTICS removed = ROW_COUNT;
                    PERFORM set_config('kaiku.audit_cut', 'off', true);
                    RETURN removed;
                END
                $body$
        $f$, current_schema());
        EXECUTE 'REVOKE ALL ON FUNCTION kaiku_audit_cut(bigint, bytea) FROM PUBLIC';
        EXECUTE format('GRANT EXECUTE ON FUNCTION kaiku_audit_cut(bigint, bytea) TO %I', app);
    END
    $migration$;

    CREATE TRIGGER audit_event_cut_only
        AFTER DELETE ON audit_event REFERENCING OLD TABLE AS gone
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_cut_only();
    """,
    # 8: the tag filter walks the tag's rows in date order (docs/ARCHITECTURE.md,
    # "The tag filter"): a recording's start, copied into each of its tags, never changes.
    """
    ALTER TABLE recording_tag ADD COLUMN started_at bigint;
    UPDATE recording_tag t SET started_at = r.started_at FROM recording r
        WHERE r.id = t.recording_id;
    CREATE INDEX recording_tag_by_date ON recording_tag (tag, started_at, recording_id);
    -- Every writer of tags (an import, a tag added, a copy by migrate) gets the date
    -- without knowing of it; under row-level security the recording is in scope anyway.
    CREATE FUNCTION recording_tag_started() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.started_at IS NULL THEN
            SELECT r.started_at INTO NEW.started_at FROM recording r WHERE r.id = NEW.recording_id;
        END IF;
        RETURN NEW;
    END
    $$;
    CREATE TRIGGER recording_tag_started BEFORE INSERT ON recording_tag
        FOR EACH ROW EXECUTE FUNCTION recording_tag_started();
    """,
    # 9: the events that showed a recording without naming it as their target (list and
    # search pages, a case's links and export, a coaching sample, copies), for the log
    # report of a data subject (docs/ARCHITECTURE.md, "Data subjects' rights"). SQLite
    # keeps a side table; here a GIN index on the `revealed` array answers `?|` itself
    # (no table, so no privileges or row-level security to add; the cut's DELETE
    # takes the entries with the rows).
    """
    CREATE INDEX audit_by_revealed ON audit_event USING gin ((audit_json(body) -> 'revealed'));
    """,
    schema_row_macs.POSTGRES,  # 10: person and organisation rows carry a MAC
)
# The application role's privileges as migrations 3 to 7 leave them, in one
# script: a restore (maintenance/pg_tools.py) takes the dump without the source's
# privileges — they name the source database's role — and runs this in the new
# database. Keep it in step with the GRANTs above: tests/maintenance/test_postgres.py
# compares a restored database's grants with a migrated one's.
APP_PRIVILEGES = r"""
DO $grants$
DECLARE
    app name := current_database() || '_app';
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', app);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), app);
    EXECUTE format('GRANT SELECT ON schema_version, register_info TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT ON audit_event TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON person, organisation TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON recording, recording_tag TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON note, case_link, sample_score TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON feedback_case TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT ON coaching_sample TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON tombstone, legal_hold TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON subject_request TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT ON disclosure TO %I', app);
    EXECUTE 'REVOKE ALL ON FUNCTION kaiku_audit_cut(bigint, bytea) FROM PUBLIC';
    EXECUTE format('GRANT EXECUTE ON FUNCTION kaiku_audit_cut(bigint, bytea) TO %I', app);
END
$grants$;
"""
