"""The Register's retention facet: organisations' rules, the plan, the purge, the shred.

`register.retention` hands one out. The rule and the dates are pure
(`domain/retention.py`); this module reads and destroys through the index, in
batches, each batch one transaction with one `retention.purge` event per
recording (the data subject's log request finds the destruction by the
recording's phone blind index, as it finds every other use). Blob files are
deleted after the commit; a purge that stopped finds the tombstones whose
`blob_ref` is still set, deletes those files and goes on (docs/ARCHITECTURE.md,
"Retention and legal holds").
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kaiku_tui.domain.access import Action
from kaiku_tui.domain.dates import local
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.retention import (
    EVERYTHING,
    UPCOMING_DAYS,
    Hold,
    OrgPlan,
    Planned,
    RetentionPlan,
    RetentionRule,
    Tombstone,
    check_retention_days,
    cutoff,
    due,
)
from kaiku_tui.errors import KaikuError, NotFound, UsageError
from kaiku_tui.index import upkeep as index_upkeep
from kaiku_tui.index.protocols import Directory, Recordings, RetentionStore
from kaiku_tui.index.records import DueRecording, StoredOrg, StoredTombstone
from kaiku_tui.index.retention_sql import REKEY
from kaiku_tui.register.directory import Orgs
from kaiku_tui.register.gate import Gate
from kaiku_tui.register.upkeep.facet import Upkeep
from kaiku_tui.vault.blobs import BlobStore
from kaiku_tui.vault.keys import fsync_directory

if TYPE_CHECKING:
    from kaiku_tui.audit.chain import AuditEvent

BATCH = 500
FIRST_IDS = 10  # ids the plan names per organisation and kind
LOWEST = -EVERYTHING
Progress = Callable[[int, int], None]


class Keep:
    """An option of `orgs set` that was not given: the value stays."""


KEEP = Keep()


@dataclass(frozen=True)
class PurgeReport:
    destroyed: int
    held: int  # due but kept by a hold
    blobs_deleted: int
    resumed_blobs: int  # blob files of an earlier, interrupted purge
    shredded: tuple[str, ...]  # organisations whose key was destroyed
    rekeyed: str | None  # the new master key id after a shred
    rekey_problem: str | None  # why the master key could not be rotated (then do it by hand)


def rule_of(org: Organisation, grace_days: int) -> RetentionRule:
    return RetentionRule(org.code, org.retention_days, org.contract_end, grace_days)


class PurgeStore(RetentionStore, Directory, Recordings, Protocol):
    """The rules and what is due, the organisations' keys and facts, the recordings."""


class Retention:
    """Rules, plan, purge and crypto-shredding; authorized and audited through the register."""

    def __init__(
        self, gate: Gate, index: PurgeStore, blobs: BlobStore, orgs: Orgs, upkeep: Upkeep
    ) -> None:
        self._gate = gate
        self._index = index
        self._blobs = blobs
        self._orgs_facet = orgs
        self._upkeep = upkeep
        self._grace = gate.config.grace_days

    # -- rules -----------------------------------------------------------------------

    async def rules(self) -> dict[str, RetentionRule]:
        """Every organisation's rule in scope, for a browse row's "destroyed in N days"
        (`domain.retention.days_left(rule, started_at, today)`)."""
        orgs = await self._orgs_facet.listing()
        return {o.code: rule_of(o, self._grace) for o in orgs}

    async def set_org(
        self,
        code: str,
        *,
        contract_end: date | None | Keep = KEEP,
        retention_days: int | None | Keep = KEEP,
    ) -> Organisation:
        """Change an organisation's contract end and retention days; audited old -> new."""
        await self._gate.authorize_org(Action.ORG_MANAGE, code, target=code)
        rows = self._gate.keys.rows
        stored = await rows.org(self._index, code)
        if stored is None:
            err = NotFound(f"organisation {code!r} does not exist (kaiku-tui orgs list)")
            await self._gate.failed(Action.ORG_MANAGE, err, org=code, target=code)
            raise err
        old = stored.org
        end = old.contract_end if isinstance(contract_end, Keep) else contract_end
        days = old.retention_days if isinstance(retention_days, Keep) else retention_days
        check_retention_days(days)
        changes = {
            "contract_end": [_iso(old.contract_end), _iso(end)],
            "retention_days": [old.retention_days, days],
        }
        event = self._gate.event("org.set", org=code, target=code, criteria=changes)
        new = Organisation(old.code, old.name, old.contract_start, end, days)
        mac = rows.org_mac(replace(stored, org=new))
        await self._index.set_org_rule(code, end, days, event, mac=mac, was=stored.mac)
        await self._gate.counted()
        return new

    # -- the plan --------------------------------------------------------------------

    async def _orgs(self, org: str | None) -> list[StoredOrg]:
        criteria = {"org": org}
        await self._gate.authorize(Action.RETENTION, criteria=criteria)
        if org is not None:
            await self._gate.authorize_org(Action.RETENTION, org, criteria=criteria)
            stored = await self._gate.keys.rows.org(self._index, org)
            if stored is None:
                raise NotFound(f"organisation {org!r} does not exist (kaiku-tui orgs list)")
            return [stored]
        person = self._gate.person
        orgs = await self._gate.keys.rows.orgs(self._index)
        return [o for o in orgs if person.sees_org(o.org.code)]

    async def plan(self, org: str | None = None, as_of: date | None = None) -> RetentionPlan:
        """What is due on `as_of` (today), and within UPCOMING_DAYS after, per organisation;
        what a hold keeps, and why. Counts are index ranges on (org, started_at)."""
        day = as_of or _today()
        plans = [await self._org_plan(o, day) for o in await self._orgs(org)]
        plan = RetentionPlan(day, tuple(plans))
        await self._gate.audit(
            "retention.plan",
            criteria={"org": org, "as_of": day.isoformat()},
            result_count=plan.due_now,
        )
        return plan

    async def _org_plan(self, stored: StoredOrg, day: date) -> OrgPlan:
        rule = rule_of(stored.org, self._grace)
        code = rule.org
        now_cut = cutoff(rule, day)
        soon_cut = cutoff(rule, day + timedelta(days=UPCOMING_DAYS))
        holds = dict(await self._index.held(code))
        held = await self._held_planned(rule, holds, day + timedelta(days=UPCOMING_DAYS))
        held_now = sum(1 for p in held if p.due is not None and p.due.on <= day)
        due_all = await self._count(code, LOWEST, now_cut)
        soon_all = await self._count(code, now_cut or LOWEST, soon_cut)
        first_due = await self._first(rule, holds, now_cut, None)
        after = None if now_cut is None else (now_cut - 1, EVERYTHING)
        first_soon = await self._first(rule, holds, soon_cut, after)
        contract_over = rule.contract_bound is not None and rule.contract_bound <= day
        return OrgPlan(
            code, rule, due_all - held_now, first_due, soon_all - (len(held) - held_now),
            first_soon, tuple(held), contract_over, stored.wrapped_key is None,
        )  # fmt: skip

    async def _count(self, org: str, low: int, high: int | None) -> int:
        if high is None or high <= low:
            return 0
        return await self._index.retention_count(org, low, high)

    async def _first(
        self,
        rule: RetentionRule,
        holds: Mapping[int, Hold],
        bound: int | None,
        after: tuple[int, int] | None,
    ) -> tuple[Planned, ...]:
        if bound is None:
            return ()
        rows = await self._index.retention_rows(rule.org, bound, after, FIRST_IDS + len(holds))
        kept = [r for r in rows if r.id not in holds][:FIRST_IDS]
        return tuple(Planned(r.id, r.started_at, due(rule, r.started_at)) for r in kept)

    async def _held_planned(
        self, rule: RetentionRule, holds: Mapping[int, Hold], until: date
    ) -> list[Planned]:
        out: list[Planned] = []
        for record_id, hold in sorted(holds.items()):
            stored = await self._index.get_recording(record_id)
            if stored is None:
                continue
            when = due(rule, stored.summary.started_at)
            if when is not None and when.on <= until:
                out.append(Planned(record_id, stored.summary.started_at, when, hold))
        return out

    # -- the purge -------------------------------------------------------------------

    async def purge(
        self,
        *,
        org: str | None = None,
        progress: Progress = lambda done, total: None,
        environ: Mapping[str, str] | None = None,
        as_of: date | None = None,
    ) -> PurgeReport:
        """Destroy everything due today (not held), batch by batch; then destroy the keys of
        organisations whose contract is over and that have nothing left, and rotate the
        master key so that no old copy of the index can unwrap them."""
        orgs = await self._orgs(org)
        day = as_of or _today()
        await self._gate.audit("retention.purge", criteria={"org": org, "as_of": str(day)},
                                    detail="started")  # fmt: skip
        run = _Run()
        try:
            run.resumed = await self._finish_blobs()
            for stored in orgs:
                await self._purge_org(rule_of(stored.org, self._grace), day, run, progress)
            await self._close_run(run)
            shredded = [o for o in orgs if await self._shred_if_due(o, day)]
            await index_upkeep.after_purge(self._index)
        except KaikuError as err:
            await self._gate.audit("retention.purge", "error", detail=str(err),
                                        result_count=run.destroyed)  # fmt: skip
            raise
        rekeyed, problem = await self._rekey_if_pending(environ)
        return PurgeReport(
            run.destroyed, run.held, run.blobs, run.resumed,
            tuple(o.org.code for o in shredded), rekeyed, problem,
        )  # fmt: skip

    async def _purge_org(
        self, rule: RetentionRule, day: date, run: _Run, progress: Progress
    ) -> None:
        bound = cutoff(rule, day)
        if bound is None:
            return
        holds = dict(await self._index.held(rule.org))
        total = run.destroyed + await self._count(rule.org, LOWEST, bound)
        after: tuple[int, int] | None = None
        while rows := await self._index.retention_rows(rule.org, bound, after, BATCH):
            after = (rows[-1].started_at, rows[-1].id)
            batch = [r for r in rows if r.id not in holds]
            run.held += len(rows) - len(batch)
            await self._destroy(rule, batch, run)
            progress(run.destroyed + run.held, total)

    async def _destroy(self, rule: RetentionRule, batch: Sequence[DueRecording], run: _Run) -> None:
        now = int(datetime.now(UTC).timestamp())
        tombstones, events = [], []
        for r in batch:
            reason = _reason(rule, r.started_at)
            stone = Tombstone(r.id, rule.org, r.channel, r.started_at, r.duration_s, now, reason)
            tombstones.append(StoredTombstone(stone, r.blob_ref))
            events.append(self._purge_event(r, rule.org, reason))
        if not events:
            return
        await self._index.purge(tombstones, events, run.blobs_pending)
        run.blobs_pending = []
        run.destroyed += len(batch)
        await self._gate.counted()
        refs = [(r.id, r.blob_ref) for r in batch if r.blob_ref is not None]
        await asyncio.to_thread(self._delete_blobs, [ref for _, ref in refs])
        run.blobs += len(refs)
        run.blobs_pending = [i for i, _ in refs]

    def _purge_event(self, r: DueRecording, org: str, reason: str) -> AuditEvent:
        return self._gate.event(
            "retention.purge",
            org=org,
            target=str(r.id),
            subject=r.phone_bidx.hex() if r.phone_bidx else None,
            detail=reason,
        )

    def _delete_blobs(self, refs: Sequence[str]) -> None:
        for ref in refs:
            self._blobs.delete(ref)  # idempotent; a failure stops the purge (resumed later)

    async def _finish_blobs(self) -> int:
        """Blob files left by a purge that stopped between its commit and their deletion."""
        done = 0
        while pending := await self._index.pending_blobs(BATCH):
            await asyncio.to_thread(self._delete_blobs, [ref for _, ref in pending])
            ids = [i for i, _ in pending]
            event = self._gate.event(
                "retention.purge", criteria={"blobs_of": ids}, result_count=len(ids),
                detail="resumed: blob files of destroyed recordings deleted",
            )  # fmt: skip
            await self._index.blobs_gone(ids, event)
            done += len(ids)
        return done

    async def _close_run(self, run: _Run) -> None:
        event = self._gate.event(
            "retention.purge", result_count=run.destroyed,
            criteria={"held": run.held, "blobs": run.blobs}, detail="finished",
        )  # fmt: skip
        await self._index.blobs_gone(run.blobs_pending, event)
        run.blobs_pending = []

    # -- crypto-shredding ----------------------------------------------------------------

    async def _shred_if_due(self, stored: StoredOrg, day: date) -> bool:
        rule = rule_of(stored.org, self._grace)
        bound = rule.contract_bound
        if stored.wrapped_key is None or bound is None or bound > day:
            return False
        if await self._count(rule.org, LOWEST, EVERYTHING) > 0:
            return False  # held recordings keep the key
        event = self._gate.event(
            "retention.shred", org=rule.org, target=rule.org,
            detail=f"contract ended {_iso(rule.contract_end)} + grace {rule.grace_days}; "
            "organisation key and its cases' content destroyed",
        )  # fmt: skip
        mac = self._gate.keys.rows.org_mac(replace(stored, wrapped_key=None))
        await self._index.shred_org(rule.org, event, mac=mac, was=stored.mac)
        self._gate.keys.forget(rule.org)
        await self._gate.counted()
        return True

    async def _rekey_if_pending(
        self, environ: Mapping[str, str] | None
    ) -> tuple[str | None, str | None]:
        """After a shred: a new master key (the old one wrapped the destroyed organisation
        key in every older copy of the index), and every retired master key file deleted."""
        if await self._index.get_info(REKEY) != "pending":
            return None, None
        try:
            report = await self._upkeep.rotate_keys(
                os.environ if environ is None else environ, destroy_old=True
            )
        except UsageError as err:
            detail = f"master key not rotated after a shred: {err}"
            await self._gate.audit("retention.rekey", "error", detail=detail)
            return None, str(err)
        # The key store's retired data keys, and an old master key file's retired keys
        # (from before `keys split`): each opens older backups.
        key_files = (self._gate.keys.store.data_file, self._gate.config.master_key_file)
        removed = await asyncio.to_thread(_destroy_retired, key_files)
        event = self._gate.event(
            "retention.rekey", criteria={"to": report.new_key_id, "retired_destroyed": removed},
            detail="every retired master key destroyed: older backups can no longer be read",
        )  # fmt: skip
        await self._index.put_info(REKEY, "done", event)
        await self._gate.counted()
        return report.new_key_id, None


@dataclass
class _Run:
    destroyed: int = 0
    held: int = 0
    blobs: int = 0
    resumed: int = 0
    # Ids whose blob files were deleted after the last commit: the next transaction
    # clears their tombstones' blob_ref.
    blobs_pending: list[int] = field(default_factory=list)


def _destroy_retired(key_files: tuple[Path, ...]) -> list[str]:
    """Delete `<key file>.retired-*`: each could unwrap a destroyed organisation key in a
    backup made while it was the data (or master) key."""
    removed = []
    for key_file in key_files:
        found = sorted(key_file.parent.glob(key_file.name + ".retired-*"))
        for path in found:
            path.unlink()
            removed.append(path.name)
        if found:
            fsync_directory(key_file.parent)
    return removed


def _reason(rule: RetentionRule, started_at: int) -> str:
    found = due(rule, started_at)
    return found.reason if found is not None else "retention"


def _today() -> date:
    return local(int(datetime.now(UTC).timestamp())).date()


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
