"""The register's maintenance facet: what an admin runs to keep a register sound.

`register.upkeep`; every method authorizes `register.maintain`
(admins only; a refusal is audited by the register) and audits what it did.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kaiku_tui.audit.chain import event_from_body
from kaiku_tui.audit.cut import cut_file
from kaiku_tui.domain.access import Action
from kaiku_tui.errors import KaikuError, StoreError, UsageError
from kaiku_tui.index import upkeep as index_upkeep
from kaiku_tui.index.base import Index
from kaiku_tui.index.transfer import RECORDING
from kaiku_tui.maintenance import backup as files
from kaiku_tui.maintenance import pg_tools
from kaiku_tui.maintenance.checks import Check, fail, ok, warn
from kaiku_tui.maintenance.scan import (
    PROGRESS_FILE,
    Candidate,
    Finding,
    Progress,
    ScanState,
    check_record,
    orphans,
)
from kaiku_tui.register.audit_log import AuditLog
from kaiku_tui.register.gate import Gate
from kaiku_tui.register.sealing import record_ref
from kaiku_tui.register.upkeep import doctor, rotation
from kaiku_tui.vault.blobs import BlobStore
from kaiku_tui.vault.keys import ENV_VAR

ACTION = Action.MAINTAIN.value
_BATCH = 500
_PENDING_LIMIT = 100_000
_CLOCK_WINDOW = 100  # the last events whose times are compared with the clock
_CLOCK_SLACK = timedelta(seconds=60)  # two hosts' clocks a few seconds apart are normal
MIN_FREE_BYTES = 1 << 30
# Column positions in a recording row of `transfer.RECORDING`.
_ID, _ORG, _SOURCE, _TRANSCRIPT, _BLOB, _KEY = (
    RECORDING.columns.index(c)
    for c in ("id", "org", "source_id", "transcript_enc", "blob_ref", "wrapped_key")
)


@dataclass(frozen=True)
class ScanReport:
    records: int
    blobs: int
    blob_bytes: int
    shredded: int
    findings: tuple[Finding, ...]
    resumed_after: int
    seconds: float


@dataclass(frozen=True)
class OrgKeyState:
    code: str
    name: str
    present: bool  # False: destroyed (crypto-shredded)
    master_key_id: str
    added: datetime | None  # from the audit log's org.add event


@dataclass(frozen=True)
class RotationReport:
    old_key_id: str
    new_key_id: str
    orgs: int  # organisation keys re-wrapped (destroyed ones stay destroyed)
    retired: Path | None  # where the old key is kept; None: destroyed


@dataclass(frozen=True)
class KeyStatus:
    master_key_id: str
    master_key_file: Path | None  # None: from KAIKU_MASTER_KEY
    master_key_since: datetime | None
    orgs: tuple[OrgKeyState, ...]


class Upkeep:
    """Doctor (the checks that need the register), scan, backup, index upkeep, key status."""

    def __init__(self, gate: Gate, index: Index, blobs: BlobStore, audit_log: AuditLog) -> None:
        self._gate = gate
        self._index = index
        self._blobs = blobs
        self._audit_log = audit_log

    async def _authorize(self, task: str) -> None:
        await self._gate.authorize(Action.MAINTAIN, criteria={"task": task})

    async def _audit(self, task: str, outcome: str = "ok", **fields: Any) -> None:
        criteria = {"task": task, **fields.pop("criteria", {})}
        await self._gate.audit(ACTION, outcome, criteria=criteria, **fields)

    # -- doctor ---------------------------------------------------------------------

    async def doctor(
        self,
        environ: Mapping[str, str] = os.environ,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> list[Check]:
        """The doctor's checks for a register already open (the TUI's admin screen): the
        same list as `kaiku-tui doctor`, without opening a second session. Admins only."""
        config = self._gate.config
        checks = [ok("configuration", f"{config.source or 'defaults'} is valid")]
        checks += [doctor.key_file(config, environ), *doctor.index_file(config)]
        checks += [doctor.ssh(environ), doctor.audio(config, environ)]
        checks.append(ok("register opens", f"at {self._index.location}"))
        return checks + await self.health(now)

    async def health(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[Check]:
        """The checks that need the open register, each ok / warn / fail with a fix."""
        await self._authorize("doctor")
        checks = [
            await self._integrity(),
            doctor.mode(self._gate.door, [p.person for p in await self._index.list_persons()]),
            *await self._privileges(),
            await self._rows(),
            await self._chain(),
            await self._clock(now()),
            _checkpoint_file(self._gate.config.checkpoint_file),
            _blob_store(self._blobs.root),
            *await self._shred_rekey(),
        ]
        failed = sum(c.status != "ok" for c in checks)
        await self._audit("doctor", result_count=len(checks), detail=f"{failed} not ok")
        return checks

    async def _integrity(self) -> Check:
        name = "index integrity"
        try:
            problems = await index_upkeep.integrity(self._index)
        except KaikuError as err:
            return fail(name, str(err), "check the database server and the network")
        if problems:
            return fail(
                name,
                f"{len(problems)} problems, first: {problems[0]}",
                "stop writers, restore the last backup (kaiku-tui restore) or ask for help",
            )
        kind = "quick_check" if index_upkeep.is_sqlite(self._index) else "connection"
        return ok(name, f"{kind} passed at {self._index.location}")

    async def _shred_rekey(self) -> list[Check]:
        """Only when something is wrong: an organisation key was destroyed but the data
        key that wrapped it (in every older copy of the index) was not rotated yet."""
        from kaiku_tui.index.retention_sql import REKEY

        if await self._index.get_info(REKEY) != "pending":
            return []
        return [
            fail(
                "crypto-shredding",
                "an organisation key was destroyed, but older copies of the index can still "
                "unwrap it with the master key",
                "run kaiku-tui retention purge again with the key store's data key (not "
                "KAIKU_MASTER_KEY), or kaiku-tui keys rotate --destroy-old and delete "
                "data.key.retired-* in the key store",
            )
        ]

    async def _privileges(self) -> list[Check]:
        granted = await index_upkeep.audit_privileges(self._index)
        if granted is None:
            return []
        name = "audit privileges"
        wrong = [p for p in index_upkeep.AUDIT_REFUSED if granted.get(p)]
        wrong += [f"no {p}" for p in index_upkeep.AUDIT_GRANTED if not granted.get(p)]
        if wrong:
            return [
                fail(
                    name,
                    f"the application role on audit_event: {', '.join(wrong)}",
                    "as the owner: REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM the "
                    "<database>_app role; GRANT INSERT, SELECT (migration 3)",
                )
            ]
        return [ok(name, "the application role may only INSERT and SELECT audit_event")]

    async def _chain(self) -> Check:
        name = "audit chain"
        try:
            report = await self._audit_log.verify()
        except KaikuError as err:  # e.g. the checkpoint file cannot be read
            return fail(name, str(err), "fix the file or store named; then kaiku-tui audit verify")
        if report.problem is not None:
            return fail(
                name,
                str(report.problem),
                "treat it as an incident: keep the index and checkpoint file as they are, "
                "run kaiku-tui audit verify, compare with the last backup",
            )
        detail = f"{report.checked} events verify, head seq {report.head_seq}"
        if report.checkpoints == 0:
            return warn(name, detail + ", no signed checkpoint", "a checkpoint is written on close")
        return ok(name, f"{detail}, {report.checkpoints} signed checkpoints agree")

    async def _clock(self, now: datetime) -> Check:
        """Audit times never go backwards; an event later than now says the clock is behind."""
        name = "clock"
        head = await self._index.audit_head()
        rows = (
            await self._index.audit_rows(max(0, head[0] - _CLOCK_WINDOW), _CLOCK_WINDOW)
            if (head)
            else []
        )
        times = [event_from_body(r.body)[1].at for r in rows]
        latest = max(times, default=None)
        if latest is not None and latest > now + _CLOCK_SLACK:
            return fail(
                name,
                f"the last audit event is at {latest:%Y-%m-%d %H:%M:%S}Z, after now "
                f"({now:%Y-%m-%d %H:%M:%S}Z): the clock is behind",
                "set the clock right (timedatectl, NTP) before anyone uses the register",
            )
        if any(b < a - _CLOCK_SLACK for a, b in zip(times, times[1:], strict=False)):
            return warn(
                name,
                "audit times went backwards among the last events",
                "check NTP on every host that runs kaiku-tui",
            )
        return ok(name, f"now {now:%Y-%m-%d %H:%M:%S}Z is after the last audit event")

    # -- index upkeep -----------------------------------------------------------------

    async def tidy(self, *, vacuum: bool) -> list[index_upkeep.Step]:
        """ANALYZE, WAL checkpoint, VACUUM (when asked); audited with the time it took."""
        await self._authorize("maintenance")
        steps = await index_upkeep.upkeep(self._index, vacuum=vacuum)
        total = sum(s.seconds for s in steps)
        done = ", ".join(f"{s.what} {s.seconds:.2f} s" for s in steps)
        await self._audit(
            "maintenance", criteria={"vacuum": vacuum}, detail=f"{done}; {total:.2f} s"
        )
        return steps

    # -- keys -----------------------------------------------------------------------

    async def key_status(self) -> KeyStatus:
        await self._authorize("keys.status")
        orgs = await self._gate.keys.rows.orgs(self._index)
        added = await self._org_added()
        states = tuple(
            OrgKeyState(
                o.org.code, o.org.name, o.wrapped_key is not None, o.master_key_id,
                added.get(o.org.code),
            )
            for o in orgs
        )  # fmt: skip
        key_file = None if ENV_VAR in os.environ else self._gate.keys.store.data_file
        since = _mtime(key_file) if key_file else None
        await self._audit("keys.status", result_count=len(states))
        return KeyStatus(self._gate.keys.key_id, key_file, since, states)

    async def rotate_keys(
        self, environ: Mapping[str, str], *, destroy_old: bool = False
    ) -> RotationReport:
        """A new data key; every organisation key re-wrapped with it in one transaction;
        the old key retired (kept beside it in the key store, or destroyed); the audit MAC,
        checkpoint and search keys untouched. See `rotation` for the steps."""
        await self._authorize("keys.rotate")
        if ENV_VAR in environ:
            raise UsageError(
                f"keys rotate works on a key file; unset {ENV_VAR}, rotate the file, then "
                "put the new file's content in the variable"
            )
        old = self._gate.keys.data
        key_file = self._gate.keys.store.data_file
        new = await asyncio.to_thread(rotation.start, key_file)
        rows = self._gate.keys.rows
        wrapped = rotation.rewrapped(await rows.orgs(self._index), old, new, rows)
        criteria = {"task": "keys.rotate", "from": old.key_id, "to": new.key_id}
        event = self._gate.event(ACTION, criteria=criteria, result_count=len(wrapped))
        await self._index.rewrap_org_keys(wrapped, new.key_id, event)
        self._gate.keys.rekeyed(new)
        retired = await asyncio.to_thread(rotation.finish, key_file, old.key_id)
        if destroy_old:
            retired.unlink()
        await self._audit(
            "keys.retire",
            criteria={"key_id": old.key_id, "destroyed": destroy_old},
            target=None if destroy_old else str(retired),
        )
        return RotationReport(
            old.key_id, new.key_id, len(wrapped), None if destroy_old else retired
        )

    async def _rows(self) -> Check:
        """Every person and organisation row against its MAC (rowseal.py)."""
        bad = await self._gate.keys.rows.bad_rows(self._index)
        if bad:
            return fail(
                "persons and organisations",
                f"{len(bad)} rows do not verify (changed behind the program's back): "
                + ", ".join(bad),
                "treat it as an incident: restore the rows from the last backup; an admin "
                "may re-state a person with kaiku-tui persons set",
            )
        return ok("persons and organisations", "every row's MAC verifies")

    async def _org_added(self) -> dict[str, datetime]:
        from kaiku_tui.domain.auditlog import AuditQuery

        bodies = await self._index.audit_bodies(AuditQuery(action="org.add", limit=10_000))
        out: dict[str, datetime] = {}
        for body in bodies:
            event = event_from_body(body)[1]
            if event.org and event.outcome == "ok":  # org.add names the code as its org
                out.setdefault(event.org, event.at)
        return out

    # -- scan -----------------------------------------------------------------------

    async def scan(
        self, *, org: str | None, sample: int | None, full: bool, progress: Progress
    ) -> ScanReport:
        """Every recording (of `org`; a random `sample`) against its blob and keys; then,
        for a whole scan, the blobs no recording names. Resumes an unfinished scan."""
        await self._authorize("scan")
        if org is not None:  # an admin limited to some organisations scans only those
            await self._gate.authorize_org(Action.MAINTAIN, org, criteria={"task": "scan"})
        options: dict[str, object] = {"org": org, "sample": sample, "full": full}
        path = self._gate.config.data_dir / PROGRESS_FILE
        state = (None if sample else ScanState.load(path, options)) or ScanState(options)
        resumed = state.after_id
        await self._audit("scan", criteria={**options, "resumed_after": resumed})
        started = time.monotonic()
        try:
            await self._scan_records(state, path, sample, full, progress)
            if org is None and sample is None:
                named = await self._named_blobs()
                state.findings += await asyncio.to_thread(orphans, self._blobs, named)
        except KaikuError as err:
            await self._audit("scan", "error", detail=str(err), result_count=state.records)
            raise
        path.unlink(missing_ok=True)
        report = ScanReport(
            state.records, state.blobs, state.blob_bytes, state.shredded,
            tuple(state.findings), resumed, time.monotonic() - started,
        )  # fmt: skip
        outcome = "ok" if not report.findings else "error"
        detail = f"{len(report.findings)} problems, {report.blobs} blobs, {report.blob_bytes} bytes"
        await self._audit("scan", outcome, result_count=report.records, detail=detail)
        return report

    async def _scan_records(
        self, state: ScanState, path: Path, sample: int | None, full: bool, progress: Progress
    ) -> None:
        org = state.options["org"]
        if sample is not None:
            batches = [await self._sampled(sample, org)]
            total = len(batches[0])
            for batch in batches:
                await self._check_batch(state, batch, full)
                progress(state.records, total)
            return
        total = await self._last_id()
        while batch := await self._batch_after(state.after_id):
            wanted = [c for c in batch if org is None or c.org == org]
            await self._check_batch(state, wanted, full)
            state.after_id = batch[-1].id
            await asyncio.to_thread(state.save, path)
            progress(state.after_id, total)

    async def _check_batch(self, state: ScanState, batch: list[Candidate], full: bool) -> None:
        for c in batch:
            state.records += 1
            if c.wrapped_key is None:
                state.shredded += 1
                continue
            try:
                org_key = await self._gate.keys.org_key(c.org)
            except KaikuError as err:
                state.findings.append(Finding(c.id, "no-org-key", str(err)))
                continue
            ref = record_ref(c.org, c.source_id)
            found, read = await asyncio.to_thread(
                check_record, self._blobs, org_key, c, ref, full=full
            )
            state.findings += found
            state.blobs += read > 0
            state.blob_bytes += read

    async def _batch_after(self, after_id: int) -> list[Candidate]:
        async with self._index.export() as snapshot:
            after = (after_id,) if after_id else None
            rows = await snapshot.rows(RECORDING.name, after, _BATCH)
        return [_candidate(r) for r in rows]

    async def _last_id(self) -> int:
        async with self._index.export() as snapshot:
            last = await snapshot.last(RECORDING.name)
        return int(last[_ID]) if last else 0

    async def _sampled(self, n: int, org: object) -> list[Candidate]:
        everyone: list[Candidate] = []
        after = 0
        while batch := await self._batch_after(after):
            everyone += [c for c in batch if org is None or c.org == org]
            after = batch[-1].id
        return sorted(random.sample(everyone, min(n, len(everyone))), key=lambda c: c.id)

    async def _named_blobs(self) -> set[str]:
        # The files an interrupted retention purge left are named by their tombstones
        # (the next purge deletes them): known, not orphans. At most a batch or two.
        named = {ref for _, ref in await self._index.pending_blobs(_PENDING_LIMIT)}
        after = 0
        while batch := await self._batch_after(after):
            named.update(c.blob_ref for c in batch if c.blob_ref)
            after = batch[-1].id
        return named

    # -- backup -----------------------------------------------------------------------

    async def backup(self, to: Path, *, link: bool) -> files.BackupReport:
        """A snapshot of the index, the blobs it names, the checkpoint file, a manifest.

        Audited before the snapshot (so the backup holds its own event) and after."""
        await self._authorize("backup")
        files.empty_target(to)
        await self._audit("backup", criteria={"to": str(to), "link": link})
        started = time.monotonic()
        try:
            report = await self._write_backup(to, link=link, started=started)
        except (KaikuError, OSError) as err:
            await self._audit("backup", "error", detail=str(err))
            raise StoreError(f"backup to {to} failed: {err}") from None
        outcome = "ok" if not report.missing else "error"
        detail = f"{report.blobs} blobs, {report.blob_bytes} bytes, head seq {report.head_seq}"
        if report.missing:
            detail += f", {len(report.missing)} blobs missing in the store"
        await self._audit("backup", outcome, result_count=report.blobs, detail=detail)
        await self._index.put_info(
            "maintenance.last_backup",
            f"{datetime.now(UTC).isoformat(timespec='seconds')} {to}",
            self._gate.event(ACTION, criteria={"task": "backup.recorded"}),
        )
        return report

    async def _write_backup(self, to: Path, *, link: bool, started: float) -> files.BackupReport:
        # The checkpoint files first, the snapshot after: every checkpoint copied then
        # covers a seq the snapshot holds (a later one would read as a truncated log).
        await self._gate.checkpoint()
        config = self._gate.config
        for source, name in (
            (config.checkpoint_file, files.CHECKPOINT_FILE),
            (cut_file(config.checkpoint_file).path, files.CUTS_FILE),
        ):
            if source.exists():
                shutil.copyfile(source, to / name)
        if index_upkeep.is_sqlite(self._index):
            snapshot = to / files.INDEX_FILE
            await index_upkeep.snapshot(self._index, snapshot)
            refs, head = files.blob_refs_of(snapshot), files.head_seq_of(snapshot)
            facts: dict[str, object] = {"index_kind": "sqlite"}
        else:
            refs, head, facts = await self._dump(to / files.PG_DUMP_FILE)
        entries, missing = await asyncio.to_thread(
            files.copy_blobs, self._blobs, refs, to, link=link
        )
        manifest = {**files.new_manifest(self._gate.keys.key_id, head, entries), **facts}
        for name in files.INDEX_FILES:
            if (to / name).exists():
                files.add_file(to, manifest, name)
        files.write_manifest(to, manifest)
        size = sum(int(str(e["size"])) for e in entries)
        return files.BackupReport(
            to, len(entries), size, tuple(missing), head, time.monotonic() - started
        )

    async def _dump(self, target: Path) -> tuple[list[str], int, dict[str, object]]:
        """pg_dump of an exported snapshot, held open while it runs, whose blob references
        are read in the same transaction; then the dump is read back and compared."""
        config = self._gate.config
        async with index_upkeep.pg_snapshot(self._index) as snap:
            await asyncio.to_thread(pg_tools.dump, config, snap.id, target)
        found = await asyncio.to_thread(pg_tools.check_dump, config, target)
        if (found.rows, found.head) != (snap.audit_rows, snap.audit_head):
            raise StoreError(
                f"{target}: the dump holds {found.rows} audit events up to "
                f"{_seq_of(found.head)}, the snapshot saw {snap.audit_rows} up to "
                f"{_seq_of(snap.audit_head)}"
            )
        head = snap.audit_head
        facts: dict[str, object] = {
            "index_kind": "postgresql",
            "audit_rows": snap.audit_rows,
            "audit_head_hash": head[1].hex() if head else None,
        }
        return snap.blob_refs, head[0] if head else 0, facts

    async def last_backup(self) -> str | None:
        return await self._index.get_info("maintenance.last_backup")

    async def restoring(self, source: Path, head_seq: int) -> None:
        """May this person restore? Asked of the restored index before any blob is placed:
        a refusal is audited there and the index stays (maintenance/restore.py)."""
        criteria = {"task": "restore", "from": str(source), "backup_head_seq": head_seq}
        await self._gate.authorize(Action.MAINTAIN, criteria=criteria)

    async def restored(
        self, source: Path, head_seq: int, blobs: int, *, resumed: bool = False
    ) -> None:
        """The restored register's own record of where it came from; `resumed`: over the
        index an earlier, refused or stopped restore of the same backup left."""
        await self._authorize("restore")
        criteria: dict[str, Any] = {"from": str(source), "backup_head_seq": head_seq}
        if resumed:
            criteria["resumed"] = True
        await self._audit("restore", criteria=criteria, result_count=blobs)


def _seq_of(head: tuple[int, bytes] | None) -> str:
    return "no event" if head is None else f"seq {head[0]}"


def _candidate(row: tuple[Any, ...]) -> Candidate:
    return Candidate(
        int(row[_ID]), str(row[_ORG]), str(row[_SOURCE]),
        _bytes(row[_TRANSCRIPT]), row[_BLOB], _bytes(row[_KEY]),
    )  # fmt: skip


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None


def _checkpoint_file(path: Path) -> Check:
    """Opened for appending, as the register does (nothing is written): `os.access` says
    yes to root even for a file on a read-only mount, an immutable file or a directory."""
    name = "checkpoint file"
    fix = f"give the kaiku-tui logins write access to {path} (it is append-only by use)"
    if not path.exists():
        if not os.access(path.parent, os.W_OK | os.X_OK):
            return fail(name, f"{path.parent} is not writable by this login", fix)
        return ok(name, f"{path} can be created")
    try:
        with path.open("ab"):
            pass
    except OSError as err:
        return fail(name, f"{path} cannot be appended to ({err.strerror})", fix)
    return ok(name, f"{path} writable")


def _blob_store(root: Path) -> Check:
    name = "blob store"
    if not root.is_dir():
        return fail(
            name,
            f"{root} does not exist or is not a directory",
            "mount the blob store (shared mount?) or fix [blobs] path in the configuration",
        )
    if not os.access(root, os.W_OK | os.X_OK):
        return fail(name, f"{root} is not writable", f"give the kaiku-tui logins access to {root}")
    usage = shutil.disk_usage(root)
    free = f"{usage.free / (1 << 30):.1f} GiB free of {usage.total / (1 << 30):.1f} GiB"
    if usage.free < MIN_FREE_BYTES:
        return warn(
            name, f"{root}: only {free}", "free space or grow the file system before ingest"
        )
    return ok(name, f"{root}: {free}")
