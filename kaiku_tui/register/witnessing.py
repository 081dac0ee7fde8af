"""The witness in the register: what `audit verify` compares, and when a head may be signed.

What verify compares (`verify_chain`): every row (position, link, hash and MAC) from
genesis or from the audit cut, every checkpoint of the checkpoint file and of the
witness (seq -> head hash; the first that disagrees is named, one beyond the log's
head means a truncated log), and the two files against each other. A log with events
needs both files, each ending at the same checkpoint: a missing, emptied or truncated
witness or checkpoint file is a failure, never "0 checkpoints agree". Checkpoints at
or before an audit cut are checked against the cut record (the rows are gone), and a
cut made while the witness was kept must be in the witness's own cut file too.

The signing rule (`Signer`): a checkpoint is signed only over a head verified in this
process. Before signing, the rows after the witness's last checkpoint W are verified
from W's hash (links, hashes, every MAC), row W must still carry W's hash, and the head
that verified is what is signed: by induction every checkpoint in the witness vouches
for a chain that was verified whole. With no witness yet (a new register, or one from
before the witness) the whole chain is verified against the checkpoint file first, and
the start is itself an audit event (`audit.witness`, or for a new register its
`register.init` naming the witness): a witness that goes missing after
that is never started afresh (nor while its cut file is there), every signing is refused
and verify fails until it is put back. (Only the file's append-only attribute or owner,
set by the installer, keeps the service account itself from removing it.)
A session whose verify found a fault signs nothing more (`refuse`), not even at close.
The witness is written before the checkpoint file.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kaiku_tui.audit.chain import Problem, event_from_body
from kaiku_tui.audit.checkpoint import Checkpoint, CheckpointFile
from kaiku_tui.audit.cut import CUT_INFO, cut_file, parse_marker, verified_start
from kaiku_tui.audit.format import format_utc
from kaiku_tui.audit.witness import FileWitness
from kaiku_tui.config import Config
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.errors import TamperDetected
from kaiku_tui.index.protocols import AuditStore, Directory
from kaiku_tui.register.verification import verify_log, verify_range

START_ACTION = "audit.witness"  # the event that starts a witness; criteria: its path


class ChainKeys(Protocol):
    """The keys that verify and sign the chain (the keyring has them)."""

    @property
    def key_id(self) -> str: ...

    @property
    def audit_mac_key(self) -> bytes: ...

    @property
    def checkpoint_signing_key(self) -> Ed25519PrivateKey: ...


class WitnessStore(AuditStore, Directory, Protocol):
    """The audit chain, and the index's record of the audit cut."""


async def started_at(index: WitnessStore, config: Config) -> str | None:
    """Where the register says it started the witness at this path ("at seq N", or its
    cut file), or None for one that never kept a witness there. A witness at another
    path (a restored copy, a new `[audit] witness`) is started afresh, audited."""
    path = str(config.witness)
    for action in (START_ACTION, "register.init"):
        for body in reversed(await index.audit_bodies(AuditQuery(action=action, limit=1000))):
            seq, event = event_from_body(body)
            if event.criteria and event.criteria.get("witness") == path:
                return f"at seq {seq}"
    cuts = cut_file(config.witness).path
    return f"(its cut file {cuts} is there)" if cuts.exists() else None


@dataclass(frozen=True)
class Findings:
    checked: int
    head: tuple[int, bytes] | None  # the last row verified, or the log's head after a fault
    checkpoints: int  # in the checkpoint file
    witnessed: int  # in the witness
    problem: Problem | None
    cut_seq: int  # the log starts after this seq (audit retention); 0: at seq 1


async def verify_chain(
    index: WitnessStore, config: Config, master: ChainKeys, *, starting: bool = False
) -> Findings:
    """The first problem of the chain against both files (None: it verifies).

    `starting`: the witness is about to be started, so it may be missing or empty."""
    public = master.checkpoint_signing_key.public_key()
    checkpoints = await asyncio.to_thread(CheckpointFile(config.checkpoint_file).read, public)
    witness = await asyncio.to_thread(FileWitness(config.witness).read, public)
    cuts = await asyncio.to_thread(cut_file(config.checkpoint_file).read, public)
    witness_cuts = await asyncio.to_thread(cut_file(config.witness).read, public)
    head = await index.audit_head()
    marker = await index.get_info(CUT_INFO)
    origin, problem = verified_start(marker, cuts)
    cut_seq = 0 if origin is None else origin[0] - 1
    if problem is None and not starting:
        problem = _missing(config, head, cut_seq, checkpoints, witness)
    if problem is None and marker is not None and witness and witness[0].seq <= cut_seq:
        problem = _unwitnessed_cut(marker, witness_cuts, config)
    if problem is not None:
        return Findings(0, head, len(checkpoints), len(witness), problem, cut_seq)
    mac_key = master.audit_mac_key
    found = await verify_log(index, config, mac_key, checkpoints, origin, witness)
    problem = found.problem
    if problem is not None and problem.kind == "checkpoint":
        problem = await _truncated_at(index, found.head, cut_seq, checkpoints, witness) or problem
    return Findings(found.count, found.head, len(checkpoints), len(witness), problem, cut_seq)


async def _truncated_at(
    index: WitnessStore,
    head: tuple[int, bytes] | None,
    cut_seq: int,
    checkpoints: list[Checkpoint],
    witness: list[Checkpoint],
) -> Problem | None:
    """For a log that ends before a signed checkpoint: the first seq missing from it.

    Every row up to the head verified and agreed with every checkpoint at or below it,
    but a checkpoint lies beyond the head: the tail was cut off. Sessions since may have
    appended events that took the freed seqs; they were written after that checkpoint
    was signed, so the first row whose event time is later than the signing is the
    first seq the truncation freed. Without such a row it is the seq after the head.
    None when this is not that problem."""
    last = head[0] if head is not None else cut_seq
    marks = [(c, "checkpoint file") for c in checkpoints] + [(c, "witness") for c in witness]
    beyond = [m for m in marks if m[0].seq > last]
    if not beyond:
        return None
    mark, source = min(beyond, key=lambda m: (m[0].seq, m[1] != "witness"))
    below = max([c.seq for c, _ in marks if c.seq <= last] + [cut_seq])
    first = last + 1
    async for rows in index.audit_scan(below, last):
        later = [row[0] for row in rows if _written_after(row[1], mark)]
        if later:
            first = later[0]
            break
    end = f"ends at seq {last}" if last >= 1 else "is empty"
    since = f", and its events from seq {first} on were written after that" if first <= last else ""
    return Problem(
        first,
        "checkpoint",
        f"seq {first}: missing from the log: the tail was truncated (the {source} has a "
        f"checkpoint at seq {mark.seq} signed at {format_utc(mark.at)} but the log {end}"
        f"{since})",
    )


def _written_after(body: bytes, mark: Checkpoint) -> bool:
    try:
        return event_from_body(body)[1].at > mark.at
    except TamperDetected:  # a row that verified was written by the register; to be safe
        return False


def _missing(
    config: Config,
    head: tuple[int, bytes] | None,
    cut_seq: int,
    checkpoints: list[Checkpoint],
    witness: list[Checkpoint],
) -> Problem | None:
    """A log with events has both files, ending at the same checkpoint."""
    if head is None and cut_seq == 0:
        return None  # a log that never held an event: nothing was signed yet
    first = cut_seq + 1
    holds = f"the log holds events up to seq {head[0] if head else cut_seq}"
    for name, path, found in (
        ("witness", config.witness, witness),
        ("checkpoint file", config.checkpoint_file, checkpoints),
    ):
        if not found:
            state = "is empty" if path.exists() else "is missing"
            return Problem(
                first,
                "checkpoint",
                f"the audit {name} {path} {state} while {holds}: its checkpoints were "
                "removed (restore it from where it is kept; never start it afresh)",
            )
    if checkpoints[-1].seq != witness[-1].seq:
        behind = "checkpoint file" if checkpoints[-1].seq < witness[-1].seq else "witness"
        return Problem(
            min(checkpoints[-1].seq, witness[-1].seq) + 1,
            "checkpoint",
            f"the checkpoint file ends at seq {checkpoints[-1].seq} but the witness at seq "
            f"{witness[-1].seq}: the {behind} was truncated (or a crash came between the two "
            "writes of one checkpoint)",
        )
    return None


def _unwitnessed_cut(marker: str, witness_cuts: list[Checkpoint], config: Config) -> Problem | None:
    """A cut made while the witness was kept is in the witness's cut file too."""
    cut = parse_marker(marker)  # verified_start accepted it
    if any(c.seq == cut.seq and c.hash == cut.hash for c in witness_cuts):
        return None
    return Problem(
        cut.seq + 1,
        "checkpoint",
        f"the index records an audit cut at seq {cut.seq} that the witness's cut file "
        f"{cut_file(config.witness).path} does not vouch for (events were deleted)",
    )


class Signer:
    """Signs the chain's head into the witness and the checkpoint file, by the rule above."""

    def __init__(self, config: Config, index: WitnessStore) -> None:
        self._config = config
        self._index = index
        self._witness = FileWitness(config.witness)
        self._file = CheckpointFile(config.checkpoint_file)
        self._refusal: str | None = None

    @property
    def refusal(self) -> str | None:
        """Why this session signs nothing more, or None."""
        return self._refusal

    def refuse(self, why: str) -> None:
        """A fault was found: sign nothing more in this session."""
        if self._refusal is None:
            self._refusal = why

    async def starting(self, master: ChainKeys) -> bool:
        """Whether the next signing starts the witness: it holds no checkpoint, and the
        register never started one. A witness started before and gone is a fault."""
        if self._refusal is not None:
            return False
        public = master.checkpoint_signing_key.public_key()
        if await asyncio.to_thread(self._witness.last, public) is not None:
            return False
        started = await started_at(self._index, self._config)
        if started is not None:
            state = "empty" if self._witness.exists() else "missing"
            fault = self._fault(
                f"the audit witness {self._witness.path} is {state}, though the register "
                f"started it {started}: put it back; it is never started afresh"
            )
            self.refuse(str(fault))
            raise fault
        return True

    async def sign(self, master: ChainKeys) -> Checkpoint | None:
        """Sign the verified head; None when the log is empty or signing was refused.
        TamperDetected (and nothing signed, now or later) when the chain since the
        witness's last checkpoint does not verify."""
        if self._refusal is not None:
            return None
        key = master.checkpoint_signing_key
        last = await asyncio.to_thread(self._witness.last, key.public_key())
        try:
            head = await (self._whole(master) if last is None else self._since(last, master))
        except TamperDetected as err:
            self.refuse(str(err))
            raise
        if head is None:
            return None
        seq, digest = head
        await asyncio.to_thread(self._witness.append, seq, digest, key, master.key_id)
        return await asyncio.to_thread(self._file.append, seq, digest, key, master.key_id)

    async def _whole(self, master: ChainKeys) -> tuple[int, bytes] | None:
        """No witness yet: the whole chain, against the checkpoint file and the cut."""
        found = await verify_chain(self._index, self._config, master, starting=True)
        if found.problem is not None:
            raise self._fault(str(found.problem))
        return found.head

    async def _since(self, last: Checkpoint, master: ChainKeys) -> tuple[int, bytes] | None:
        """The rows after the witness's last checkpoint, from its hash."""
        index = self._index
        head = await index.audit_head()
        if head is None or head[0] < last.seq:
            end = f"ends at seq {head[0]}" if head else "is empty"
            raise self._fault(
                f"the witness has a checkpoint at seq {last.seq} but the log {end}: "
                "the tail was truncated"
            )
        marker = await index.get_info(CUT_INFO)
        cut = None if marker is None else parse_marker(marker)
        if cut is not None and cut.seq >= last.seq:
            cuts = await asyncio.to_thread(
                cut_file(self._config.checkpoint_file).read,
                master.checkpoint_signing_key.public_key(),
            )
            start, problem = verified_start(marker, cuts)
            if problem is not None:
                raise self._fault(str(problem))
        else:
            rows = await index.audit_rows(last.seq - 1, 1)
            if not rows or (rows[0].seq, rows[0].hash) != (last.seq, last.hash):
                raise self._fault(
                    f"seq {last.seq}: its hash differs from the witness's last checkpoint "
                    "(the log was rewritten after it)"
                )
            start = (last.seq + 1, last.hash)
            if head[0] == last.seq:
                return head  # nothing new: the checkpoint file catches up if behind
        found = await verify_range(index, master.audit_mac_key, [], start=start)
        if found.problem is not None:
            raise self._fault(str(found.problem))
        return found.head

    def _fault(self, problem: str) -> TamperDetected:
        return TamperDetected(
            f"no audit checkpoint was signed: the chain does not verify ({problem}); "
            "run kaiku-tui audit verify and treat it as an incident"
        )
