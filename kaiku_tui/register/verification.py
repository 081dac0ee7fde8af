"""Verifying the whole audit log, on two cores when it is long.

Reading a row from SQLite and checking it cost about the same (~1 µs each
here), and Python threads would only take turns, so one process tops out near
half a million events a second. A long log is cut in two: a second process
verifies the second half from the stored link at the cut, while this one
verifies the first half; the cut itself is checked when both are done.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass
from multiprocessing import get_context

from kaiku_tui.audit.chain import ChainVerifier, Problem
from kaiku_tui.audit.checkpoint import Checkpoint
from kaiku_tui.config import Config
from kaiku_tui.index import open_index
from kaiku_tui.index.protocols import AuditStore

PARALLEL_FROM = 200_000  # rows; below this a second process costs more than it saves
BATCH = 2_000  # rows; a batch that stays in the CPU cache verifies faster


@dataclass(frozen=True)
class Verified:
    count: int
    head: tuple[int, bytes] | None
    problem: Problem | None


async def verify_log(
    index: AuditStore,
    config: Config,
    mac_key: bytes,
    checkpoints: Sequence[Checkpoint],
    origin: tuple[int, bytes] | None = None,
    witness: Sequence[Checkpoint] = (),
) -> Verified:
    """The first problem in the whole log (or None), and how many rows were checked.

    `origin`: after an audit cut (audit/cut.py), the first seq left and the hash its
    prev_hash must equal, as a signed cut checkpoint vouches; None: seq 1. `witness`:
    the witness's checkpoints, compared like the checkpoint file's."""
    head = await index.audit_head()
    first_seq = 1 if origin is None else origin[0]
    if head is None or head[0] - first_seq < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        return await verify_range(index, mac_key, checkpoints, start=origin, witness=witness)
    cut = (first_seq + head[0]) // 2
    (boundary,) = await index.audit_rows(cut, 1)
    start = (boundary.seq, boundary.prev_hash)
    later = ([c for c in checkpoints if c.seq > cut], [c for c in witness if c.seq > cut])
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        second = loop.run_in_executor(pool, _verify_elsewhere, config, mac_key, later, start)
        first = await verify_range(
            index,
            mac_key,
            [c for c in checkpoints if c.seq <= cut],
            start=origin,
            until=cut,
            witness=[c for c in witness if c.seq <= cut],
        )
        rest = await second
    return _joined(first, rest, start)


async def verify_range(
    index: AuditStore,
    mac_key: bytes,
    checkpoints: Sequence[Checkpoint],
    *,
    start: tuple[int, bytes] | None = None,
    until: int | None = None,
    witness: Sequence[Checkpoint] = (),
) -> Verified:
    verifier = ChainVerifier(mac_key, checkpoints, start=start, witness=witness)
    after = 0 if start is None else start[0] - 1
    async with aclosing(index.audit_scan(after, until, BATCH)) as batches:
        async for rows in batches:
            verifier.feed(rows)
    problem = verifier.finish()
    return Verified(verifier.count, verifier.head, problem)


def _verify_elsewhere(
    config: Config,
    mac_key: bytes,
    checkpoints: tuple[Sequence[Checkpoint], Sequence[Checkpoint]],
    start: tuple[int, bytes],
) -> Verified:
    """In the second process: open the index afresh and verify from `start` to the end
    (`checkpoints`: the checkpoint file's and the witness's after the cut)."""

    async def run() -> Verified:
        index = await open_index(config, mac_key)
        try:
            return await verify_range(
                index, mac_key, checkpoints[0], start=start, witness=checkpoints[1]
            )
        finally:
            await index.close()

    return asyncio.run(run())


def _joined(first: Verified, rest: Verified, start: tuple[int, bytes]) -> Verified:
    """The two halves as one: the first problem, and the link across the cut."""
    count = first.count + rest.count
    problem = first.problem
    if problem is None and (first.head is None or first.head[1] != start[1]):
        seq = start[0]
        problem = Problem(
            seq,
            "link",
            f"seq {seq}: its prev_hash is not the hash of seq {seq - 1}"
            " (rows were inserted, deleted or reordered)",
        )
    return Verified(count, rest.head or first.head, problem or rest.problem)
