"""The register's feedback-case facet: cases, their findings, and the recordings
linked to them (supervisors).

A case has a key of its own, wrapped by its organisation's key (sealing.py):
findings and resolution are sealed under it; the reference and the summary stay
in clear for lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Protocol

from kaiku_tui.domain.access import Action, Purpose
from kaiku_tui.domain.annotation import (
    CaseFile,
    CaseFilter,
    CaseStatus,
    FeedbackCase,
    check_case_ref,
    check_case_text,
    check_move,
)
from kaiku_tui.errors import NotFound, UsageError, VaultError
from kaiku_tui.index.protocols import Annotations, Directory, Recordings
from kaiku_tui.index.records import StoredCase
from kaiku_tui.register import sealing
from kaiku_tui.register.gate import Gate
from kaiku_tui.vault.keys import new_data_key

_ALL_CASES = CaseFilter()


class CaseStore(Annotations, Recordings, Directory, Protocol):
    """Cases, the recordings linked to them, and the persons who own them."""


class Cases:
    def __init__(self, gate: Gate, index: CaseStore) -> None:
        self._gate = gate
        self._index = index

    async def add(
        self, org: str, ref: str, summary: str, received: date | None = None
    ) -> FeedbackCase:
        ref = check_case_ref(ref)
        summary = check_case_text("a case summary", summary, 2_000)
        if not summary:
            raise UsageError("a case needs a summary")
        target = f"case:{ref}"
        await self._gate.authorize_org(Action.CASE_MANAGE, org, target=target)
        org_key = await self._gate.keys.org_key(org)
        raw = new_data_key()
        day = (received or datetime.now(UTC).date()).isoformat()
        wrapped = org_key.wrap_record_key(sealing.case_key_ref(org, ref), raw)
        login = self._gate.person.login
        stored = StoredCase(0, org, ref, day, summary, CaseStatus.OPEN.value, login, wrapped)
        event = self._gate.event("case.add", org=org, target=target, criteria={"received": day})
        case_id = await self._index.add_case(stored, event)
        await self._gate.counted()
        return sealing.case_of(replace(stored, id=case_id), None)

    async def link(self, case_id: int, record_ids: Sequence[int]) -> int:
        """Link recordings to the case (each must be in the person's scope); new links."""
        stored = await self.stored(Action.CASE_MANAGE, case_id)
        for record_id in record_ids:
            record = await self._gate.recording(Action.CASE_MANAGE, record_id, Purpose.FEEDBACK)
            if record.summary.org != stored.org:  # feedback is one client's, so are its calls
                theirs, ours = record.summary.org, stored.org
                raise UsageError(f"recording {record_id} is {theirs}'s, case {case_id} {ours}'s")
        event = self._gate.event("case.link", org=stored.org, target=f"case:{stored.ref}",
                                 revealed=tuple(str(r) for r in record_ids))  # fmt: skip
        added = await self._index.link_case(case_id, record_ids, event)
        await self._gate.counted()
        return added

    async def move(self, case_id: int, to: CaseStatus) -> FeedbackCase:
        stored = await self.stored(Action.CASE_MANAGE, case_id)
        check_move(CaseStatus(stored.status), to)
        moved = replace(stored, status=to.value)
        return await self._update(moved, "case.move", {"from": stored.status, "to": to.value})

    async def change(
        self,
        case_id: int,
        *,
        owner: str | None = None,
        findings: str | None = None,
        resolution: str | None = None,
    ) -> FeedbackCase:
        """Change the owner (a login), the findings or the resolution; None leaves one as is."""
        stored = await self.stored(Action.CASE_MANAGE, case_id)
        key = await self._gate.keys.case_key(stored)
        changed, criteria = stored, dict[str, object]()
        if owner is not None:
            if await self._gate.keys.rows.person(self._index, owner) is None:
                raise NotFound(f"person {owner!r} does not exist")
            changed, criteria["owner"] = replace(changed, owner=owner), owner
        if findings is not None:
            text = check_case_text("findings", findings)
            changed = replace(changed, findings_enc=sealing.seal_text(key, "findings", text))
            criteria["findings"] = "(changed)"
        if resolution is not None:
            text = check_case_text("a resolution", resolution)
            sealed = sealing.seal_text(key, "resolution", text)
            changed, criteria["resolution"] = replace(changed, resolution_enc=sealed), "(changed)"
        return await self._update(changed, "case.set", criteria)

    async def _update(
        self, changed: StoredCase, action: str, criteria: dict[str, object]
    ) -> FeedbackCase:
        event = self._gate.event(action, org=changed.org, target=f"case:{changed.ref}",
                                 criteria=criteria)  # fmt: skip
        await self._index.update_case(changed, event)
        await self._gate.counted()
        return sealing.case_of(changed, await self._gate.keys.case_key(changed))

    async def stored(self, action: Action, case_id: int) -> StoredCase:
        """The stored case, once the role and the case's organisation allow `action`."""
        target = f"case:{case_id}"
        await self._gate.authorize(action, target=target)
        stored = await self._index.get_case(case_id)
        if stored is None:
            err = NotFound(f"case {case_id} does not exist (kaiku-tui cases list)")
            await self._gate.failed(action, err, target=target)
            raise err
        await self._gate.authorize_org(action, stored.org, target=f"case:{stored.ref}")
        return stored

    async def find(self, where: CaseFilter = _ALL_CASES) -> list[FeedbackCase]:
        """A page of cases in scope, newest first (`where.before_id` for the next):
        reference, summary, status, owner (no findings)."""
        criteria = where.criteria()
        person = self._gate.person
        await self._gate.authorize(Action.CASE_READ, criteria=criteria)
        outside = [o for o in where.orgs if not person.sees_org(o)]
        if outside:
            message = f"{person.login} may not see organisation {outside[0]}"
            await self._gate.deny(Action.CASE_READ.value, "outside scope", message,
                                  criteria=criteria)  # fmt: skip
        orgs = person.scope(where.orgs)
        status = None if where.status is None else where.status.value
        found = await self._index.list_cases(
            status, orgs, before_id=where.before_id, limit=where.limit
        )
        await self._gate.audit("case.list", criteria=criteria, result_count=len(found),
                               revealed=tuple(f"case:{c.ref}" for c in found))  # fmt: skip
        return [sealing.case_of(c, None) for c in found]

    async def read(self, case_id: int) -> FeedbackCase:
        """One case with its findings, resolution and linked recordings; audited."""
        stored = await self.stored(Action.CASE_READ, case_id)
        opened = await self._opened(stored, Action.CASE_READ)
        await self._gate.audit("case.read", org=stored.org, target=f"case:{stored.ref}")
        return opened

    async def _opened(self, stored: StoredCase, action: Action) -> FeedbackCase:
        try:
            return sealing.case_of(stored, await self._gate.keys.case_key(stored))
        except VaultError as err:
            await self._gate.failed(action, err, org=stored.org, target=f"case:{stored.ref}")
            raise

    async def export(self, case_id: int, recipient: str) -> CaseFile:
        """The case file (case, findings, linked recordings' metadata — no transcripts, no
        numbers) for writing out; audited as `case.export` with the recipient (a file)."""
        stored = await self.stored(Action.CASE_EXPORT, case_id)
        opened = await self._opened(stored, Action.CASE_EXPORT)
        rows = [await self._index.get_recording(r) for r in stored.records]
        summaries = tuple(r.summary for r in rows if r is not None)
        await self._gate.audit(
            Action.CASE_EXPORT.value, org=stored.org, target=f"case:{stored.ref}",
            purpose=Purpose.FEEDBACK.value, recipient=recipient,
            result_count=len(summaries), revealed=tuple(str(r.id) for r in summaries),
        )  # fmt: skip
        return CaseFile(opened, summaries)

    async def ref_of(self, case_id: int, record_id: int, purpose: Purpose) -> str:
        """The reference of the case a recording is opened from (linked, in scope)."""
        if purpose is not Purpose.FEEDBACK:
            raise UsageError(f"a recording opened from a case is for feedback, not {purpose}")
        stored = await self.stored(Action.CASE_READ, case_id)
        if record_id not in stored.records:
            raise UsageError(f"recording {record_id} is not linked to case {case_id}")
        return stored.ref
