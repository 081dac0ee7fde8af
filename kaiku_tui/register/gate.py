"""The gate: the register's security kernel, which every facet is handed.

Every operation of the register takes three steps in this order: authorize
(role × action × organisation scope, narrowed by a review at the premises),
audit (append the event; for a change, in the same transaction as the change),
act. The gate is the one public, typed object that does the first two for all
the facets, holds the keys they may use (`keys`), and fetches a recording only
after those checks (`recording`). A refusal and an error that stopped an action
are audited too, before they are raised. The facets never see the register's
own state; the register composes them around one gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn, Protocol

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.config import Config
from kaiku_tui.domain.access import Action, Identity, Person, Purpose
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.retention import refusing_hold
from kaiku_tui.domain.subject import PremisesReview
from kaiku_tui.errors import AccessDenied, KaikuError, NotFound, TamperDetected
from kaiku_tui.index.protocols import Recordings, RetentionStore
from kaiku_tui.index.records import StoredRecording
from kaiku_tui.register.keyring import Keyring
from kaiku_tui.register.witnessing import START_ACTION, Signer, WitnessStore


class GateStore(WitnessStore, Recordings, RetentionStore, Protocol):
    """What the gate reads and writes: the audit chain (and its cut), a recording, its
    holds."""


@dataclass(frozen=True)
class Visitor:
    """Who is asking: the login as the door vouched for it, and the person it names."""

    identity: Identity
    person: Person


class Gate:
    def __init__(self, config: Config, visitor: Visitor, index: GateStore, keys: Keyring) -> None:
        self.config = config
        self.person = visitor.person
        self.keys = keys
        self._identity = visitor.identity
        self._index = index
        self._signer = Signer(config, index)
        self._since_checkpoint = 0
        self._premises: PremisesReview | None = None

    @property
    def door(self) -> str | None:
        """How the person came in: "ssh", "sudo", "local" (None: not said)."""
        return self._identity.door

    # -- a review at the premises narrows the session ---------------------------------

    @property
    def premises(self) -> PremisesReview | None:
        """The data subject's review at the premises this session is flagged for, if any."""
        return self._premises

    def flag_premises(self, review: PremisesReview | None) -> None:
        """Start (a review) or end (None) a review at the premises for this session."""
        self._premises = review

    def may(self, action: Action) -> bool:
        """Whether this session may do `action`: the person's roles, narrowed by a review
        at the premises. The TUI shows only the keys this permits; `authorize` decides."""
        if self._premises is not None and not self._premises.permits(action):
            return False
        return self.person.may(action)

    # -- audit --------------------------------------------------------------------------

    def event(self, action: str, outcome: str = "ok", **fields: Any) -> AuditEvent:
        """The event of an action by this session, for the index to append with a change."""
        roles = tuple(sorted(r.value for r in self.person.roles))
        if self._premises is not None:  # every event of a review says whose and why
            fields["purpose"] = Purpose.ACCESS_REQUEST.value
            fields["request_ref"] = self._premises.request_ref
        return new_event(self._identity, roles, action, outcome, **fields)

    async def audit(self, action: str, outcome: str = "ok", **fields: Any) -> None:
        """Append an event on its own, durable before the caller reveals anything."""
        await self._index.append_audit(self.event(action, outcome, **fields))
        await self.counted()

    async def counted(self) -> None:
        """Count an event that a change appended in its own transaction; every
        `checkpoint_every` events the chain's head is signed."""
        self._since_checkpoint += 1
        if self._since_checkpoint >= self.config.checkpoint_every:
            await self.checkpoint()

    async def checkpoint(self) -> None:
        """Sign the chain's head into the witness and the checkpoint file, once the rows
        since the witness's last checkpoint verify (register/witnessing.py); nothing
        after this session's verify found a fault."""
        if await self._signer.starting(self.keys):  # the start is audited, then signed
            criteria = {"witness": str(self.config.witness)}
            await self._index.append_audit(self.event(START_ACTION, criteria=criteria))
        await self._signer.sign(self.keys)
        self._since_checkpoint = 0

    async def first_checkpoint(self) -> None:
        """A new register's first checkpoint, which starts its witness (its register.init
        event names the witness, so no start event is needed)."""
        await self._signer.sign(self.keys)
        self._since_checkpoint = 0

    async def start_witness(self) -> None:
        """At open: a register without a witness (new, or from before the witness) starts
        one now, so that a verify in this session already has it."""
        try:
            starting = await self._signer.starting(self.keys)
        except TamperDetected:
            return  # the witness is gone: nothing is signed; `audit verify` says so
        if starting:
            await self.checkpoint()

    @property
    def checkpoint_refusal(self) -> str | None:
        """Why this session signs no checkpoint any more (not even at close), or None."""
        return self._signer.refusal

    def refuse_checkpoints(self, why: str) -> None:
        """A verify found a fault: this session signs no checkpoint, not even at close."""
        self._signer.refuse(why)

    # -- authorize ----------------------------------------------------------------------

    async def authorize(self, action: Action, **fields: Any) -> None:
        if not self.person.may(action):
            roles = ", ".join(sorted(self.person.roles))
            message = f"{self.person.login} ({roles}) may not {action.value}"
            await self.deny(action.value, "role does not permit", message, **fields)
        if self._premises is not None and not self._premises.permits(action):
            message = f"a review at the premises is playback only: no {action.value}"
            await self.deny(action.value, "review at the premises", message, **fields)

    async def authorize_org(self, action: Action, org: str, **fields: Any) -> None:
        await self.authorize(action, org=org, **fields)
        if not self.person.sees_org(org):
            message = f"{self.person.login} may not see organisation {org}"
            await self.deny(action.value, "outside scope", message, org=org, **fields)

    async def deny(self, action: str, reason: str, message: str, **fields: Any) -> NoReturn:
        """Audit a refusal, then refuse."""
        await self.audit(action, "denied", detail=with_detail(reason, fields), **fields)
        raise AccessDenied(message)

    async def failed(self, action: Action, err: KaikuError, **fields: Any) -> None:
        """Audit an error that stopped an action, then let it go on up."""
        await self.audit(action.value, "error", detail=with_detail(str(err), fields), **fields)

    async def scoped(self, where: RecordingFilter) -> tuple[RecordingFilter, bytes | None]:
        """The filter cut to the person's organisations (naming another is refused), and
        the blind index of the number searched for (a review: its subject's)."""
        orgs = self.person.scope(where.orgs)
        if where.orgs and set(orgs) != set(where.orgs):
            outside = sorted(set(where.orgs) - set(orgs))
            message = f"{self.person.login} may not see organisation {outside[0]}"
            criteria = where.criteria()
            await self.deny(Action.SEARCH.value, "outside scope", message, criteria=criteria)
        bidx = self.keys.blind_index(where.phone) if where.phone else None
        if self._premises is not None:  # a review shows the person's own recordings only
            bidx = bytes.fromhex(self._premises.subject)
        return where.with_orgs(orgs), bidx

    # -- one recording, after every check ------------------------------------------------

    async def recording(self, action: Action, record_id: int, purpose: Purpose) -> StoredRecording:
        """The stored recording, once the role, the organisation, a review at the premises
        and its legal holds all allow `action` for `purpose`; each refusal audited."""
        target = str(record_id)
        await self.authorize(action, target=target, purpose=purpose.value)
        stored = await self._index.get_recording(record_id)
        if stored is None:
            stone = await self._index.tombstone(record_id)
            why = stone.describe() if stone else f"recording {record_id} does not exist"
            err = NotFound(why)
            await self.failed(action, err, target=target, purpose=purpose.value)
            raise err
        await self.authorize_org(action, stored.summary.org, target=target, purpose=purpose.value)
        review = self._premises
        if review is not None and (stored.phone_bidx or b"").hex() != review.subject:
            message = f"recording {record_id} is not the data subject's of {review.request_ref}"
            await self.deny(action.value, "review at the premises", message, target=target)
        await self._check_holds(action, stored, purpose)
        return stored

    async def _check_holds(self, action: Action, stored: StoredRecording, purpose: Purpose) -> None:
        """While a recording is held, it is used only for a hold's purpose."""
        hold = refusing_hold(await self._index.holds_on(stored.summary.id), purpose)
        if hold is not None:
            message = (
                f"recording {stored.summary.id} is under legal hold {hold.id} "
                f"({hold.ref}): only for {hold.purpose.value}, not {purpose.value}"
            )
            fields = record_fields(stored, purpose)
            await self.deny(action.value, "legal hold", message, **fields,
                            detail=f"hold {hold.id}")  # fmt: skip


def new_event(
    identity: Identity, roles: tuple[str, ...], action: str, outcome: str = "ok", **fields: Any
) -> AuditEvent:
    return AuditEvent(
        at=datetime.now(UTC),
        actor=identity.login,
        roles=roles,
        action=action,
        outcome=outcome,
        client_host=identity.client_host,
        door=identity.door,
        key=identity.key,
        client=identity.client,
        **fields,
    )


def with_detail(reason: str, fields: dict[str, Any]) -> str:
    """The reason, with the action's own detail (e.g. an import's source) after it."""
    own = fields.pop("detail", None)
    return f"{reason} ({own})" if own else reason


def record_fields(stored: StoredRecording, purpose: Purpose) -> dict[str, Any]:
    """What every event about one recording says: which, whose, why, and whose number."""
    bidx = stored.phone_bidx
    return {
        "target": str(stored.summary.id),
        "org": stored.summary.org,
        "purpose": purpose.value,
        "subject": bidx.hex() if bidx else None,
    }


def now() -> int:
    return int(datetime.now(UTC).timestamp())
