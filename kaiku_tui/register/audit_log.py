"""The register's audit-log facet: verifying the chain, reading events, and moving
the whole register to another database (admins and the DPO).

Verification recomputes every hash and MAC (verification.py), and compares the
chain with the signed checkpoints and with the cut that audit retention left; it
also checks every person and organisation row against its row MAC (rowseal.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from kaiku_tui.audit.chain import AuditEvent, Problem, event_from_body
from kaiku_tui.config import Config, index_location, with_index
from kaiku_tui.domain.access import Action
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.migration import MigrationReport
from kaiku_tui.errors import KaikuError
from kaiku_tui.index.base import Index
from kaiku_tui.register import migration
from kaiku_tui.register.gate import Gate
from kaiku_tui.register.witnessing import verify_chain


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    head_seq: int
    checkpoints: int
    problem: Problem | None
    cut_seq: int = 0  # the log starts after this seq (audit retention); 0: at seq 1
    # Person and organisation rows whose MAC does not verify ("person rev1"), rowseal.py.
    bad_rows: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """The chain verifies and so does every person and organisation row."""
        return self.problem is None and not self.bad_rows

    witnessed: int = 0  # checkpoints of the witness compared


class AuditLog:
    def __init__(self, gate: Gate, index: Index, config: Config) -> None:
        self._gate = gate
        self._index = index
        self._config = config

    async def verify(self) -> VerifyReport:
        """Recompute the whole chain and every MAC, and compare it with the checkpoint
        file and the witness. A fault changes nothing: from then on this session signs
        no checkpoint (register/witnessing.py)."""
        await self._gate.authorize(Action.AUDIT_VERIFY)
        try:
            report = await self.verify_index(self._index, self._config)
        except KaikuError as err:  # e.g. a damaged line in the witness
            self._gate.refuse_checkpoints(str(err))
            raise
        found = [] if report.problem is None else [str(report.problem)]
        if report.bad_rows:
            found.append(f"rows that do not verify: {', '.join(report.bad_rows)}")
        if found:
            self._gate.refuse_checkpoints("; ".join(found))
        await self._gate.audit(
            Action.AUDIT_VERIFY.value,
            "ok" if report.ok else "error",
            result_count=report.checked,
            detail="; ".join(found) or None,
        )
        return report

    async def verify_index(self, index: Index, config: Config) -> VerifyReport:
        """Verify `index` (this register's, or a copy of it) without auditing: the
        caller has authorized and audits the outcome."""
        found = await verify_chain(index, config, self._gate.keys)
        head = found.head[0] if found.head else 0
        bad = tuple(await self._gate.keys.rows.bad_rows(index))
        return VerifyReport(
            found.checked, head, found.checkpoints, found.problem, found.cut_seq, bad,
            found.witnessed,
        )  # fmt: skip

    async def events(self, query: AuditQuery) -> list[tuple[int, AuditEvent]]:
        await self._gate.authorize(Action.AUDIT_READ)
        bodies = await self._index.audit_bodies(query)
        criteria = {k: v for k, v in vars(query).items() if v is not None}
        await self._gate.audit(Action.AUDIT_READ.value, criteria=criteria,
                               result_count=len(bodies))  # fmt: skip
        return [event_from_body(b) for b in bodies]

    # -- moving the register to another database ---------------------------------------

    async def migrate_to(self, to: str, progress: migration.Progress) -> MigrationReport:
        """Copy the whole register into the empty database `to` and verify the copy there.

        Audited in this register before the copy begins, so the event is in the copy too.
        The copy is made usable only once its chain verifies."""
        target_config = with_index(self._config, to)
        where = index_location(target_config)
        await self._gate.authorize(Action.MIGRATE, target=where)
        mac_key = self._gate.keys.audit_mac_key
        try:
            target = await migration.open_target(target_config, mac_key, to)
        except KaikuError as err:
            await self._gate.failed(Action.MIGRATE, err, target=where)
            raise
        try:
            return await self._migrate(target, target_config, where, progress)
        except KaikuError as err:
            await self._gate.failed(Action.MIGRATE, err, target=where)
            raise
        finally:
            await target.close()

    async def _migrate(
        self, target: Index, target_config: Config, where: str, progress: migration.Progress
    ) -> MigrationReport:
        kind = "postgresql" if target_config.is_network else "sqlite"
        await self._gate.audit(Action.MIGRATE.value, target=where, criteria={"to": kind})
        key_id = self._gate.keys.key_id
        copy = await migration.copy_register(
            self._index, target, key_id, migration.fresh_start(target_config), progress
        )
        verified = await self.verify_index(target, target_config)
        problem = None if verified.problem is None else str(verified.problem)
        # A copy that does not verify is never made usable. Only then does the source
        # get an event after the copy: a usable copy and its source end on one head.
        if problem is None:
            await migration.finish(target, key_id)
        else:
            detail = f"the copy does not verify: {problem}"
            await self._gate.audit(Action.MIGRATE.value, "error", target=where, detail=detail)
        source_head = await self._index.audit_head()
        ahead = (source_head[0] if source_head else 0) - verified.head_seq
        return MigrationReport(
            where, copy.tables, copy.resumed, verified.checked, verified.head_seq,
            verified.checkpoints, problem, max(ahead, 0),
        )  # fmt: skip
