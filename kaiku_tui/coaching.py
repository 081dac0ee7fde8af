"""The Register's coaching facet: the samples drawn so far, to come back to.

`Register.coaching()` hands one out. Drawing, reading and scoring a sample
are the register's own (`draw_sample`, `sample`, `score`, `scores`); this is
what a reviewer needs to find a sample again. A sample names recordings by id
only (no content), so, as `sample()`, the list is not cut to organisations;
scoring and opening a recording are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kaiku_tui import annotating
from kaiku_tui.domain.access import Action
from kaiku_tui.domain.annotation import CoachingSample
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.errors import UsageError
from kaiku_tui.index.base import Index

if TYPE_CHECKING:
    from kaiku_tui.register import Register


class Coaching:
    def __init__(self, register: Register, index: Index) -> None:
        self._register = register
        self._index = index

    async def samples(
        self, *, before_id: int | None = None, limit: int = 100
    ) -> list[CoachingSample]:
        """A page of samples, newest first (`before_id` for the next); audited as
        `sample.list` with the ids listed."""
        criteria: dict[str, object] = {"limit": limit}
        if before_id is not None:
            criteria["before_id"] = before_id
        if not 1 <= limit <= 1_000:
            raise UsageError(f"limit {limit} is not between 1 and 1,000")
        await self._register._authorize(Action.ANNOTATION_READ, criteria=criteria)
        found = await self._index.samples(before_id=before_id, limit=limit)
        await self._register._audit(
            "sample.list", criteria=criteria, result_count=len(found),
            revealed=tuple(f"sample:{s.id}" for s in found),
        )  # fmt: skip
        return [annotating.sample_of(s) for s in found]

    async def agents(self, where: RecordingFilter) -> list[str]:
        """The agents of the recordings in scope that match (dates and durations): whom a
        sample is drawn for when no agent is named. Audited as `agent.list`."""
        criteria = where.criteria()
        await self._register._authorize(Action.ANNOTATE, criteria=criteria)
        scoped, _ = await self._register._scoped(where)
        found = await self._index.agents(scoped)
        await self._register._audit("agent.list", criteria=criteria, result_count=len(found))
        return found
