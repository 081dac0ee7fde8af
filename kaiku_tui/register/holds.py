"""The Register's legal-hold facet: set, release and list holds (supervisors and admins).

`register.holds`. A hold names one recording or one feedback
case (covering every recording linked to it, also those linked later). What a
hold does lives elsewhere, each in one place: the purge skips held recordings
(`index.held`), and the gate (`Gate.recording`) refuses opening a held recording for any
purpose but a hold's (`domain.retention.refusing_hold`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from kaiku_tui.domain.access import Action, Purpose
from kaiku_tui.domain.retention import Hold, check_hold_text
from kaiku_tui.errors import NotFound, UsageError
from kaiku_tui.index.protocols import Annotations, Recordings, RetentionStore
from kaiku_tui.register.gate import Gate

ACTION = Action.LEGAL_HOLD


class HoldStore(RetentionStore, Recordings, Annotations, Protocol):
    """Holds, and the recordings and cases they are on."""


class Holds:
    def __init__(self, gate: Gate, index: HoldStore) -> None:
        self._gate = gate
        self._index = index

    async def set(
        self,
        *,
        record_ids: Sequence[int] = (),
        case_id: int | None = None,
        reason: str,
        ref: str,
        purpose: Purpose = Purpose.LEGAL_HOLD,
    ) -> list[Hold]:
        """One hold per recording, or one on the case; each audited (`hold.set`)."""
        await self._gate.authorize(ACTION, request_ref=ref, purpose=purpose.value)
        if bool(record_ids) == (case_id is not None):
            raise UsageError("a hold is on --recording IDs or on one --case, not both or neither")
        reason, ref = check_hold_text(reason, ref)
        now = int(datetime.now(UTC).timestamp())
        login = self._gate.person.login
        targets: list[tuple[int | None, int | None, str]] = []
        for one in dict.fromkeys(record_ids):
            targets.append((one, None, await self._recording_org(one)))
        if case_id is not None:
            targets.append((None, case_id, await self._case_org(case_id)))
        held: list[Hold] = []
        for record_id, case, org in targets:
            hold = Hold(0, record_id, case, reason, ref, purpose, login, now)
            event = self._gate.event(
                "hold.set", org=org, target=hold.target, purpose=purpose.value,
                request_ref=ref, detail=reason,
            )  # fmt: skip
            hold_id = await self._index.add_hold(hold, event)
            await self._gate.counted()
            held.append(Hold(hold_id, record_id, case, reason, ref, purpose, login, now))
        return held

    async def release(self, hold_id: int) -> Hold:
        target = f"hold:{hold_id}"
        await self._gate.authorize(ACTION, target=target)
        hold = await self._index.get_hold(hold_id)
        if hold is None:
            err = NotFound(f"hold {hold_id} does not exist (kaiku-tui hold list)")
            await self._gate.failed(ACTION, err, target=target)
            raise err
        org = await self._org_of(hold)
        await self._gate.authorize_org(ACTION, org, target=target)
        if not hold.active:
            twice = UsageError(f"hold {hold_id} is released already")
            await self._gate.failed(ACTION, twice, org=org, target=target)
            raise twice
        now = int(datetime.now(UTC).timestamp())
        login = self._gate.person.login
        event = self._gate.event(
            "hold.release", org=org, target=target, purpose=hold.purpose.value,
            request_ref=hold.ref, criteria={"held": hold.target},
        )  # fmt: skip
        await self._index.release_hold(hold_id, login, now, event)
        await self._gate.counted()
        return Hold(hold.id, hold.record_id, hold.case_id, hold.reason, hold.ref, hold.purpose,
                    hold.set_by, hold.set_at, login, now)  # fmt: skip

    async def list(self, *, active_only: bool = True) -> list[Hold]:
        """The holds on what this person's scope covers; audited (`hold.list`)."""
        await self._gate.authorize(ACTION)
        person = self._gate.person
        holds = [
            h
            for h in await self._index.list_holds(active_only=active_only)
            if person.sees_org(await self._org_of(h))
        ]
        await self._gate.audit("hold.list", result_count=len(holds),
                                    criteria={"active_only": active_only})  # fmt: skip
        return holds

    async def _recording_org(self, record_id: int) -> str:
        stored = await self._index.get_recording(record_id)
        if stored is None:
            err = NotFound(f"recording {record_id} does not exist")
            await self._gate.failed(ACTION, err, target=str(record_id))
            raise err
        org = stored.summary.org
        await self._gate.authorize_org(ACTION, org, target=str(record_id))
        return org

    async def _case_org(self, case_id: int) -> str:
        case = await self._index.get_case(case_id)
        if case is None:
            err = NotFound(f"case {case_id} does not exist")
            await self._gate.failed(ACTION, err, target=f"case:{case_id}")
            raise err
        await self._gate.authorize_org(ACTION, case.org, target=f"case:{case_id}")
        return case.org

    async def _org_of(self, hold: Hold) -> str:
        if hold.case_id is not None:
            case = await self._index.get_case(hold.case_id)
            return case.org if case else ""
        assert hold.record_id is not None  # the table's CHECK: one or the other
        stored = await self._index.get_recording(hold.record_id)
        if stored is not None:
            return stored.summary.org
        stone = await self._index.tombstone(hold.record_id)
        return stone.org if stone else ""
