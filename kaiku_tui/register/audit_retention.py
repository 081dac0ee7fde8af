"""The register's audit retention facet: `kaiku-tui audit retain [--yes] [--as-of D]`.

Audit events are never purged with the data they describe; this rule cuts the
oldest of them, later, as its own admin command (audit/cut.py says how the chain
stays verifiable). The cut is a prefix of the chain, seq ≤ S, with S as large as
the rule allows: every event up to S is older than the rule (`[audit]
retain_years`, or `retain_days`, before the day it is applied on) and none of
them describes a recording that is still kept: still in the index, or destroyed
less than the rule ago (its tombstone's destroyed_at).

A cut first verifies the whole chain (the cut vouches for the hash of S: it must
be the true one), then signs a cut checkpoint of (S, hash), then in one
transaction appends its own `audit.retain` event — which lands after the cut —,
records the cut and deletes the rows. Admins only, and only one who sees every
organisation: whether a recording still exists decides what may go, and
row-level security would hide another organisation's recordings from a scoped
admin. Refusals and failures are audited by the register.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Protocol

from kaiku_tui.audit.chain import AuditEvent, event_from_body
from kaiku_tui.audit.cut import cut_file, first_kept, named_recordings, retain_since
from kaiku_tui.domain.access import Action
from kaiku_tui.errors import KaikuError, StoreError, TamperDetected, UsageError
from kaiku_tui.index.protocols import AuditStore, Recordings
from kaiku_tui.index.records import AuditRow
from kaiku_tui.register.audit_log import AuditLog
from kaiku_tui.register.gate import Gate

ACTION = Action.AUDIT_RETAIN
_BATCH = 2_000


@dataclass(frozen=True)
class RetainPlan:
    as_of: date
    since: date  # events from before this day (UTC) may go
    first_seq: int  # the first event in the log now (1, or after an earlier cut)
    upto: int  # the last event that goes; first_seq - 1: nothing goes
    upto_hash: bytes | None
    events: int  # how many go
    kept_because: str | None  # why the cut stops there; None: it reached the head

    def criteria(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "since": self.since.isoformat(),
            "first_seq": self.first_seq,
            "upto": self.upto,
            "upto_hash": None if self.upto_hash is None else self.upto_hash.hex(),
        }


class CutStore(AuditStore, Recordings, Protocol):
    """The audit chain, and which recordings its oldest events name are still kept."""


class AuditRetention:
    """Plan the cut (a dry run, audited) or make it."""

    def __init__(
        self,
        gate: Gate,
        index: CutStore,
        audit_log: AuditLog,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self._gate = gate
        self._index = index
        self._audit_log = audit_log
        self._today = today

    async def plan(self, as_of: date | None = None) -> RetainPlan:
        day = await self._authorized(as_of)
        plan = await self._plan(day)
        await self._gate.audit(
            ACTION.value, criteria={**plan.criteria(), "dry_run": True}, result_count=plan.events
        )
        return plan

    async def cut(self, as_of: date | None = None) -> tuple[RetainPlan, int]:
        """The plan made real: (the plan, how many events were deleted)."""
        day = await self._authorized(as_of)
        criteria = {"as_of": day.isoformat()}
        try:
            return await self._cut(day)
        except KaikuError as err:
            await self._gate.failed(ACTION, err, criteria=criteria)
            raise

    async def _authorized(self, as_of: date | None) -> date:
        criteria: dict[str, Any] = {"as_of": None if as_of is None else as_of.isoformat()}
        await self._gate.authorize(ACTION, criteria=criteria)
        person = self._gate.person
        if person.orgs:
            message = (
                f"{person.login} sees only some organisations; the audit cut needs an admin "
                "who sees them all (whether a recording still exists decides what may go)"
            )
            await self._gate.deny(ACTION.value, "outside scope", message, criteria=criteria)
        today = self._today()
        if as_of is not None and as_of > today:
            err = UsageError(f"--as-of {as_of}: after today ({today}); the rule is a minimum")
            await self._gate.failed(ACTION, err, criteria=criteria)
            raise err
        return as_of or today

    async def _cut(self, day: date) -> tuple[RetainPlan, int]:
        report = await self._audit_log.verify()
        if report.problem is not None:
            raise TamperDetected(
                f"the audit chain does not verify ({report.problem}); nothing was cut: "
                "treat it as an incident first"
            )
        plan = await self._plan(day)
        if plan.upto_hash is None:
            await self._gate.audit(ACTION.value, criteria=plan.criteria(), result_count=0)
            return plan, 0
        await self._sign(plan.upto, plan.upto_hash)
        event = self._gate.event(ACTION.value, criteria=plan.criteria(), result_count=plan.events)
        removed = await self._index.cut_audit(plan.upto, plan.upto_hash, event)
        await self._gate.counted()
        if removed != plan.events:  # the transaction is committed: say so, loudly
            raise StoreError(
                f"audit cut at seq {plan.upto}: {removed} events deleted, {plan.events} planned"
            )
        return plan, removed

    async def _sign(self, seq: int, digest: bytes) -> None:
        """The signed cut checkpoint, before any row goes: a cut is never unvouched."""
        keys = self._gate.keys
        config = self._gate.config
        # the witness's cut file first (audit/witness.py): a cut it does not hold fails verify
        for cuts in (cut_file(config.witness), cut_file(config.checkpoint_file)):
            written = await asyncio.to_thread(
                cuts.append, seq, digest, keys.checkpoint_signing_key, keys.key_id
            )
            if (written.seq, written.hash) != (seq, digest):
                raise StoreError(
                    f"{cuts.path} already vouches for a later cut (seq {written.seq}) than the "
                    "index records; run kaiku-tui audit verify"
                )

    async def _plan(self, day: date) -> RetainPlan:
        config = self._gate.config
        since = retain_since(day, config.audit_retain_years, config.audit_retain_days)
        before = datetime.combine(since, time(), UTC)
        first: int | None = None
        last: AuditRow | None = None
        count = 0
        reason: str | None = None
        async with aclosing(self._index.audit_scan(0, None, _BATCH)) as batches:
            async for batch in batches:
                rows = [AuditRow(*r) for r in batch]  # SQLite streams plain tuples
                first = rows[0].seq if first is None else first
                events = [event_from_body(r.body) for r in rows]
                stop = first_kept(events, before, await self._kept(events, before))
                taken = len(rows) if stop is None else stop[0]
                count += taken
                last = rows[taken - 1] if taken else last
                if stop is not None:
                    reason = stop[1]
                    break
        first = first or 1
        return RetainPlan(
            day, since, first, last.seq if last else first - 1,
            last.hash if last else None, count, reason,
        )  # fmt: skip

    async def _kept(self, events: Sequence[tuple[int, AuditEvent]], before: datetime) -> set[int]:
        """The recordings these events name whose data is still kept: still in the index,
        or destroyed less than the rule ago (their tombstones' destroyed_at)."""
        named: set[int] = set()
        for _, event in events:
            named |= named_recordings(event)
        if not named:
            return set()
        return await self._index.recordings_kept(sorted(named), int(before.timestamp()))
