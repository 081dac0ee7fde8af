"""The register's coaching facet: random samples of recordings per agent, scored by
reviewers, and the samples drawn so far, to come back to.

A sample names recordings by id only (no content), so reading a sample and the
list of samples are not cut to organisations; scoring and opening a recording
are. A score's comment is sealed with the recording's key (sealing.py).
"""

from __future__ import annotations

import json
from typing import Protocol

from kaiku_tui.domain.access import Action
from kaiku_tui.domain.annotation import (
    CoachingSample,
    RecordedScore,
    SampleSpec,
    Score,
    draw_sample,
)
from kaiku_tui.domain.browse import Cursor, RecordingFilter, Sort
from kaiku_tui.errors import NotFound, UsageError
from kaiku_tui.index.protocols import Annotations, Recordings
from kaiku_tui.index.records import StoredSample, StoredScore
from kaiku_tui.register import sealing
from kaiku_tui.register.annotations import QUALITY, record_key_or_fail
from kaiku_tui.register.gate import Gate, now, record_fields


class SampleStore(Annotations, Recordings, Protocol):
    """Samples and scores, and the recordings they are drawn from."""


class Coaching:
    def __init__(self, gate: Gate, index: SampleStore) -> None:
        self._gate = gate
        self._index = index

    async def draw(self, spec: SampleSpec) -> CoachingSample:
        """`per_agent` recordings per agent, drawn with the seed from those in scope that
        match; recorded (spec and ids), so the same sample can be shown and redrawn."""
        criteria = spec.criteria()
        await self._gate.authorize(Action.ANNOTATE, criteria=criteria)
        drawn: list[int] = []
        for agent in spec.agents:
            candidates = await self._candidates(spec, agent)
            drawn.extend(draw_sample(candidates, spec.per_agent, spec.seed))
        stored = StoredSample(0, self._gate.person.login, now(), spec.seed,
                              json.dumps(criteria, sort_keys=True), tuple(drawn))  # fmt: skip
        event = self._gate.event("sample.draw", criteria=criteria, result_count=len(drawn),
                                 revealed=tuple(str(i) for i in drawn))  # fmt: skip
        sample_id = await self._index.add_sample(stored, event)
        await self._gate.counted()
        return CoachingSample(sample_id, stored.drawn_by, stored.drawn_at, spec, tuple(drawn))

    async def _candidates(self, spec: SampleSpec, agent: str) -> list[int]:
        where = RecordingFilter(
            started_from=spec.started_from, started_before=spec.started_before,
            min_duration=spec.min_duration, max_duration=spec.max_duration,
            orgs=self._gate.person.orgs, agent=agent,
        )  # fmt: skip
        ids: list[int] = []
        after: Cursor | None = None
        oldest_first = Sort(descending=False)
        while True:
            page = await self._index.page(where, oldest_first, after=after, limit=1000)
            ids.extend(r.id for r in page.rows)
            if not page.has_after or page.last is None:
                return ids
            after = page.last

    async def sample(self, sample_id: int) -> CoachingSample:
        await self._gate.authorize(Action.ANNOTATION_READ, target=f"sample:{sample_id}")
        stored = await self._index.get_sample(sample_id)
        if stored is None:
            err = NotFound(f"sample {sample_id} does not exist (kaiku-tui samples list)")
            await self._gate.failed(Action.ANNOTATION_READ, err, target=f"sample:{sample_id}")
            raise err
        sample = sealing.sample_of(stored)
        await self._gate.audit("sample.read", target=f"sample:{sample_id}",
                               result_count=len(stored.record_ids))  # fmt: skip
        return sample

    async def score(self, sample_id: int, score: Score) -> None:
        """Score one recording of a sample (once per scorer); the comment sealed."""
        target = f"sample:{sample_id}"
        await self._gate.authorize(Action.ANNOTATE, target=target)
        sample = await self._index.get_sample(sample_id)
        if sample is None or score.record_id not in sample.record_ids:
            err = NotFound(f"recording {score.record_id} is not in sample {sample_id}")
            criteria = {"sample": sample_id, "record": score.record_id}
            await self._gate.failed(Action.ANNOTATE, err, target=target, criteria=criteria)
            raise err
        stored = await self._gate.recording(Action.ANNOTATE, score.record_id, QUALITY)
        fields = record_fields(stored, QUALITY)
        key = await record_key_or_fail(self._gate, stored, Action.ANNOTATE, fields)
        comment = sealing.seal_text(key, sealing.COMMENT_FIELD, score.comment.strip())
        row = StoredScore(sample_id, score.record_id, self._gate.person.login, now(),
                          sealing.scores_json(score), comment)  # fmt: skip
        event = self._gate.event("sample.score", **fields, criteria={"sample": sample_id,
                                 **dict(score.scores)})  # fmt: skip
        await self._index.add_score(row, event)
        await self._gate.counted()

    async def scores(self, sample_id: int) -> list[RecordedScore]:
        """Every score given in the sample (in scope), comments decrypted; audited."""
        target = f"sample:{sample_id}"
        await self._gate.authorize(Action.ANNOTATION_READ, target=target)
        if await self._index.get_sample(sample_id) is None:
            err = NotFound(f"sample {sample_id} does not exist (kaiku-tui samples list)")
            await self._gate.failed(Action.ANNOTATION_READ, err, target=target)
            raise err
        out: list[RecordedScore] = []
        for row in await self._index.scores(sample_id):
            stored = await self._index.get_recording(row.record_id)
            if stored is None or not self._gate.person.sees_org(stored.summary.org):
                continue
            out.append(sealing.recorded_score(row, await self._gate.keys.record_key(stored)))
        await self._gate.audit("sample.scores", target=target, result_count=len(out))
        return out

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
        await self._gate.authorize(Action.ANNOTATION_READ, criteria=criteria)
        found = await self._index.samples(before_id=before_id, limit=limit)
        await self._gate.audit(
            "sample.list", criteria=criteria, result_count=len(found),
            revealed=tuple(f"sample:{s.id}" for s in found),
        )  # fmt: skip
        return [sealing.sample_of(s) for s in found]

    async def agents(self, where: RecordingFilter) -> list[str]:
        """The agents of the recordings in scope that match (dates and durations): whom a
        sample is drawn for when no agent is named. Audited as `agent.list`."""
        criteria = where.criteria()
        await self._gate.authorize(Action.ANNOTATE, criteria=criteria)
        scoped, _ = await self._gate.scoped(where)
        found = await self._index.agents(scoped)
        await self._gate.audit("agent.list", criteria=criteria, result_count=len(found))
        return found
