"""The doctor's findings as plain data: one `Check` per line of its screen."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import asdict, dataclass

# doctor's own exit codes (README, "Checking a register"): a finding is not a
# usage error, so 2 here means "a check failed", not the contract's 2.
DOCTOR_OK = 0
DOCTOR_WARNINGS = 1
DOCTOR_FAILURES = 2


class Status(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """What was checked, how it stands, what was found and what to do about it."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


def ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, Status.WARN, detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, Status.FAIL, detail, fix)


def exit_code(checks: Iterable[Check]) -> int:
    statuses = {c.status for c in checks}
    if Status.FAIL in statuses:
        return DOCTOR_FAILURES
    return DOCTOR_WARNINGS if Status.WARN in statuses else DOCTOR_OK
