"""Who may do what: roles, actions, the policy table, purposes of access.

The policy is one table, read at a glance and tested cell by cell. Organisation
scope is the other half of access: a person with scope sees only those
organisations' recordings (no scope = all).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kaiku_tui.errors import UsageError


class Role(enum.StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    REVIEWER = "reviewer"
    DPO = "dpo"

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise UsageError(f"role {text!r} is not one of {names}") from None


class Action(enum.StrEnum):
    SEARCH = "search"  # list recordings: metadata, phone masked
    RECORD_OPEN = "record.open"  # metadata and transcript of one recording
    PHONE_REVEAL = "phone.reveal"
    AUDIO_PLAY = "audio.play"
    ANNOTATE = "annotate"  # notes, tags, coaching samples and scores
    ANNOTATION_READ = "annotation.read"  # notes (with their history), tags, samples
    WITHDRAWN_READ = "note.withdrawn.read"  # notes their authors withdrew
    CASE_MANAGE = "case.manage"
    CASE_READ = "case.read"
    CASE_EXPORT = "case.export"  # a case file written out of the register
    DISCLOSE = "disclose"  # export a copy to someone outside the register
    DISCLOSURE_READ = "disclosure.read"  # the disclosure log (luovutusloki)
    SUBJECT_ACCESS = "subject.access"  # find, copy and show one person's recordings (GDPR 15)
    SUBJECT_LOG = "subject.log"  # the log report for a data subject (Act 703/2023 §11)
    SUBJECT_REQUEST = "subject.request"  # record and answer data subjects' requests
    PERSON_READ = "person.read"
    PERSON_MANAGE = "person.manage"
    ORG_READ = "org.read"
    ORG_MANAGE = "org.manage"
    INGEST = "ingest"
    RETENTION = "retention"  # plan and purge
    LEGAL_HOLD = "legal.hold"
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    AUDIT_RETAIN = "audit.retain"  # cut the oldest events off the chain (audit/cut.py)
    MIGRATE = "register.migrate"  # copy the whole register into another database
    MAINTAIN = "register.maintain"  # doctor, scan, keys, backup, restore, index upkeep


_A, _S, _R, _D = Role.ADMIN, Role.SUPERVISOR, Role.REVIEWER, Role.DPO

# role × action. Admins keep the register running but do not read patient
# content; the DPO reads it to answer data subjects and audits everyone.
POLICY: dict[Action, frozenset[Role]] = {
    Action.SEARCH: frozenset({_A, _S, _R, _D}),
    Action.RECORD_OPEN: frozenset({_S, _R, _D}),
    Action.PHONE_REVEAL: frozenset({_S, _D}),
    Action.AUDIO_PLAY: frozenset({_S, _R, _D}),
    Action.ANNOTATE: frozenset({_S, _R}),
    # Issue 7: "admins and the DPO read" annotations; a withdrawn note stays for them
    # (an admin answers for the register, the DPO for what was written about a person).
    Action.ANNOTATION_READ: frozenset({_A, _S, _R, _D}),
    Action.WITHDRAWN_READ: frozenset({_A, _D}),
    Action.CASE_MANAGE: frozenset({_S}),
    # Reviewers do not handle feedback, so they do not read its findings either.
    Action.CASE_READ: frozenset({_A, _S, _D}),
    # A case file leaves the register: those who handle cases, and the DPO who discloses.
    Action.CASE_EXPORT: frozenset({_S, _D}),
    Action.DISCLOSE: frozenset({_D}),
    # The disclosure log names authorities and recording ids, no content: the DPO keeps
    # it, an admin may read it as the audit log it summarises.
    Action.DISCLOSURE_READ: frozenset({_A, _D}),
    # Data subjects' requests are the DPO's. A supervisor finds a caller's recordings
    # for their own work with `query --phone` (search, audited); finding every recording
    # of a person across organisations, copying them out and reporting who handled them
    # is answering a data subject, which the DPO does.
    Action.SUBJECT_ACCESS: frozenset({_D}),
    Action.SUBJECT_LOG: frozenset({_D}),
    Action.SUBJECT_REQUEST: frozenset({_D}),
    Action.PERSON_READ: frozenset({_A, _D}),
    Action.PERSON_MANAGE: frozenset({_A}),
    Action.ORG_READ: frozenset({_A, _S, _R, _D}),
    Action.ORG_MANAGE: frozenset({_A}),
    Action.INGEST: frozenset({_A}),
    Action.RETENTION: frozenset({_A}),
    Action.LEGAL_HOLD: frozenset({_A, _S}),
    Action.AUDIT_READ: frozenset({_A, _D}),
    Action.AUDIT_VERIFY: frozenset({_A, _D}),
    Action.AUDIT_RETAIN: frozenset({_A}),
    Action.MIGRATE: frozenset({_A}),
    Action.MAINTAIN: frozenset({_A}),
}


def permits(roles: frozenset[Role], action: Action) -> bool:
    return not roles.isdisjoint(POLICY[action])


class Purpose(enum.StrEnum):
    """Why a person opens patient data; the slugs are the command line's."""

    VERIFY = "verify"  # check what was said or agreed
    FEEDBACK = "feedback"  # handle a customer feedback case
    QUALITY = "quality"  # quality review and coaching
    ACCESS_REQUEST = "access-request"  # the data subject's right of access (GDPR 15)
    LOG_REQUEST = "log-request"  # the data subject's log request (Act 703/2023 §11)
    AUTHORITY = "authority"  # an authority's request with a legal basis
    LEGAL_HOLD = "legal-hold"
    BREACH = "breach"  # investigating a data breach
    MAINTENANCE = "maintenance"

    @classmethod
    def parse(cls, text: str) -> Purpose:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(p.value for p in cls)
            raise UsageError(f"purpose {text!r} is not one of {names}") from None


@dataclass(frozen=True)
class Person:
    """A named person: the only kind of user the register has."""

    login: str
    display_name: str
    roles: frozenset[Role]
    orgs: tuple[str, ...] = ()  # scope; empty = all organisations
    active: bool = True

    def may(self, action: Action) -> bool:
        return self.active and permits(self.roles, action)

    def sees_org(self, org: str) -> bool:
        return not self.orgs or org in self.orgs

    def scope(self, requested: tuple[str, ...]) -> tuple[str, ...]:
        """The organisations a search may cover: the request narrowed to the scope."""
        if not self.orgs:
            return requested
        if not requested:
            return self.orgs
        return tuple(o for o in requested if o in self.orgs)


@dataclass(frozen=True)
class Identity:
    """Who is at the keyboard, as the operating system (or database) vouches."""

    login: str
    client_host: str | None = None
    door: str | None = None  # how the person came in: "ssh", "sudo" or "local"
    key: str | None = None  # through the SSH door: the fingerprint of the key used
    client: str | None = None  # through the SSH door: "address port" from SSH_CONNECTION
