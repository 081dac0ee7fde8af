"""Copying a register into another database: SQLite to PostgreSQL and back.

Every table is copied row for row from one snapshot of the source — ids,
wrapped keys, ciphertext, blob references and the audit chain (seq, body,
prev_hash, hash, mac) as they are — in keyset batches, each batch one
transaction on the target, so memory stays bounded at any size. The blobs
themselves stay where they are: the target names the same blob store.

The target is usable only at the end. The first write puts a marker fact
(`migration`) into it, and the last removes the marker and writes the
register's `master_key_id` in one transaction; until then `Register.open`
refuses the target. A copy that stopped half-way is resumed by running it
again, when the source has not changed since (only reads, refusals and errors
in its log); otherwise the message says how to start afresh.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kaiku_tui.config import Config
from kaiku_tui.domain.migration import TableCopied, changes_nothing
from kaiku_tui.errors import KaikuError, StoreError, UsageError
from kaiku_tui.index import Index, open_index
from kaiku_tui.index.records import AuditRow, Export, Row
from kaiku_tui.index.transfer import AUDIT_EVENT, REGISTER_INFO, TABLES, Table

MARKER = "migration"  # the fact that makes an unfinished copy unusable
MASTER_KEY_ID = "master_key_id"
BATCH = 10_000
Progress = Callable[[TableCopied], None]


@dataclass(frozen=True)
class Copy:
    tables: tuple[TableCopied, ...]
    resumed: bool


async def open_target(config: Config, mac_key: bytes, label: str) -> Index:
    """The target index, created (schema only) if it has none."""
    try:
        return await open_index(config, mac_key, create=True)
    except KaikuError:
        raise
    except (ValueError, TypeError) as exc:  # asyncpg's word on a malformed URL
        raise UsageError(f"--to {label}: not a usable database URL ({exc})") from None


async def copy_register(
    source: Index, target: Index, key_id: str, fresh_start: str, progress: Progress
) -> Copy:
    """Copy `source` into the empty (or half-copied) `target`; the marker stays on.

    `fresh_start` tells a person how to empty the target, for the messages."""
    batch = BATCH
    async with source.export() as snapshot:
        last = await snapshot.last(AUDIT_EVENT.name)
        snapshot_seq = last[0] if last else 0
        resumed = await _check_target(source, snapshot, target, key_id, fresh_start)
        marker = json.dumps({"key_id": key_id, "source": source.location, "seq": snapshot_seq})
        await target.import_rows(REGISTER_INFO.name, [(MARKER, marker)])
        copied = [await _copy_table(snapshot, target, t, progress, batch) for t in TABLES]
    tail = await _catch_up(source, target, fresh_start, batch)
    audit = copied[-1]
    copied[-1] = TableCopied(audit.table, audit.rows + tail, audit.seconds, True)
    return Copy(tuple(copied), resumed)


async def finish(target: Index, key_id: str) -> None:
    """Make the target usable: the marker goes, the master key's id comes, at once."""
    await target.finish_import(MARKER, [(MASTER_KEY_ID, key_id)])


async def unfinished(index: Index) -> str | None:
    """Where an unfinished copy in `index` came from, or None."""
    marker = await index.get_info(MARKER)
    if marker is None:
        return None
    try:
        return str(json.loads(marker).get("source", "?"))
    except (ValueError, AttributeError):
        return "?"


# -- the target's state --------------------------------------------------------------


async def _check_target(
    source: Index, snapshot: Export, target: Index, key_id: str, fresh_start: str
) -> bool:
    """False for an empty target, True for an unfinished copy that can be resumed;
    anything else is refused, saying what to do."""
    async with target.export() as held:
        facts = {r[0]: r[1] for r in await held.rows(REGISTER_INFO.name, None, 100)}
        marker = facts.get(MARKER)
        if marker is None:
            filled = [t.name for t in TABLES if await held.last(t.name) is not None]
            if filled:
                raise UsageError(
                    f"target {target.location} is not empty (rows in {', '.join(filled)}); "
                    "migrate copies a register only into an empty database"
                )
            return False
        last = await held.last(AUDIT_EVENT.name)
    state = _state(marker, target, fresh_start)
    if state.get("key_id") != key_id:
        raise UsageError(
            f"target {target.location} holds an unfinished copy of another register "
            f"(master key {state.get('key_id')}); {fresh_start}"
        )
    await _check_prefix(source, target, last, fresh_start)
    await _check_unchanged(snapshot, int(state.get("seq", 0)), target, fresh_start)
    return True


def _state(marker: str, target: Index, fresh_start: str) -> dict[str, Any]:
    try:
        state = json.loads(marker)
    except ValueError:
        state = None
    if not isinstance(state, dict):
        raise UsageError(
            f"target {target.location}: its '{MARKER}' fact is unreadable; {fresh_start}"
        )
    return state


async def _check_prefix(source: Index, target: Index, last: Row | None, fresh_start: str) -> None:
    """The target's audit rows must be the source's own first rows."""
    if last is None:
        return
    found = await source.audit_rows(last[0] - 1, 1)
    if not found or found[0].seq != last[0] or found[0].hash != last[3]:
        raise UsageError(
            f"target {target.location}: its audit row seq {last[0]} is not the source's; "
            f"{fresh_start}"
        )


async def _check_unchanged(snapshot: Export, since: int, target: Index, fresh_start: str) -> None:
    """Resuming is right only if nothing changed in the source since the first snapshot:
    the rows already copied are then still the source's."""
    after: Row | None = (since,)
    while rows := await snapshot.rows(AUDIT_EVENT.name, after, BATCH):
        for row in rows:
            action, outcome = _action(row[1])
            if not changes_nothing(action, outcome):
                raise UsageError(
                    f"cannot resume the unfinished copy in {target.location}: the source "
                    f"changed since it began (seq {row[0]}: {action}); {fresh_start}"
                )
        after = rows[-1]


def _action(body: str | bytes) -> tuple[str, str]:
    fields = json.loads(body)
    return str(fields.get("action")), str(fields.get("outcome"))


# -- copying ---------------------------------------------------------------------------


async def _copy_table(
    snapshot: Export, target: Index, t: Table, progress: Progress, batch: int
) -> TableCopied:
    """One table in key order, from where an earlier copy stopped."""
    started = time.monotonic()
    after, present = await _resume_point(target, t)
    count = 0
    while rows := await snapshot.rows(t.name, after, batch):
        after = rows[-1]
        fresh = [r for r in rows if r[0] not in present and _copied_as_is(t, r)]
        if fresh:
            await target.import_rows(t.name, fresh)
        count += len(fresh)
        progress(TableCopied(t.name, count, time.monotonic() - started, False))
    done = TableCopied(t.name, count, time.monotonic() - started, True)
    progress(done)
    return done


async def _resume_point(target: Index, t: Table) -> tuple[Row | None, frozenset[object]]:
    """Where to start: after the target's last key where keys are integers (rising
    ids, seqs); for the small tables keyed by text (whose order differs between
    backends) the keys already there, to be skipped."""
    async with target.export() as held:
        if t.columns[0] in ("id", "recording_id", "seq"):
            return await held.last(t.name), frozenset()
        keys: set[object] = set()
        after: Row | None = None
        while rows := await held.rows(t.name, after, BATCH):
            keys.update(r[0] for r in rows)
            after = rows[-1]
    return None, frozenset(keys)


def _copied_as_is(t: Table, row: Row) -> bool:
    """The master key's id is written last, by `finish`: it makes the copy usable."""
    return t is not REGISTER_INFO or row[0] not in (MARKER, MASTER_KEY_ID)


async def _catch_up(source: Index, target: Index, fresh_start: str, batch: int) -> int:
    """The events appended to the source during the copy, if they changed nothing."""
    count = 0
    last = await target.audit_head()
    while rows := await source.audit_rows(last[0] if last else 0, batch):
        _refuse_changes(rows, target, fresh_start)
        await target.import_rows(AUDIT_EVENT.name, [_audit_row(r) for r in rows])
        count += len(rows)
        last = (rows[-1].seq, rows[-1].hash)
    return count


def _refuse_changes(rows: Sequence[AuditRow], target: Index, fresh_start: str) -> None:
    for row in rows:
        action, outcome = _action(row.body)
        if not changes_nothing(action, outcome):
            raise StoreError(
                f"the source changed during the copy (seq {row.seq}: {action}), so the copy "
                f"in {target.location} is left unfinished and unusable; stop other writers, "
                f"then {fresh_start}"
            )


def _audit_row(row: AuditRow) -> Row:
    return (row.seq, row.body.decode("utf-8"), row.prev_hash, row.hash, row.mac)


def fresh_start(config: Config) -> str:
    """How to empty a target, for the messages that refuse it."""
    if config.is_network:
        return "drop and re-create that database (or schema), then run migrate again"
    path = config.sqlite_path
    return f"delete {path} (and {path.name}-wal, {path.name}-shm), then run migrate again"
