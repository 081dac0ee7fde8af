"""Organisations: the register's clients (municipalities, wellbeing services counties)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kaiku_tui.errors import UsageError

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")


def check_code(code: str) -> str:
    """Organisation codes are short upper-case identifiers: they appear in every row."""
    if not _CODE.match(code):
        raise UsageError(
            f"organisation code {code!r} must be 1-32 of A-Z, 0-9, '-' or '_', "
            "starting with a letter or digit"
        )
    return code


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    contract_start: date | None
    contract_end: date | None
    retention_days: int | None = None
