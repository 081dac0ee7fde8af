"""Key rotation's one transaction, on every backend: all organisation keys and the
register's master_key_id with the event, or nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kaiku_tui.errors import StoreError
from kaiku_tui.index.base import Index
from kaiku_tui.index.records import OrgRewrap
from tests.contract.rows import event, stored_org


def rewrap(code: str, key: bytes) -> OrgRewrap:
    """The new wrapped key and row MAC, applied while the row has the MAC it was read with."""
    return OrgRewrap(code, key, b"mac2:" + code.encode(), stored_org(code).mac)


async def test_rewrap_is_one_audited_transaction(index: Index) -> None:
    await index.put_info("master_key_id", "mk-1", event("init"))
    for code in ("HKI", "PIRHA"):
        await index.add_org(stored_org(code), event("org.manage"))
    await index.add_org(stored_org("GONE", wrapped_key=None), event("org.manage"))
    await index.rewrap_org_keys(
        [rewrap("HKI", b"new:HKI"), rewrap("PIRHA", b"new:PIRHA")], "mk-2", event("keys.rotate")
    )
    assert await index.get_info("master_key_id") == "mk-2"
    assert await index.get_org("HKI") == replace(
        stored_org("HKI"), wrapped_key=b"new:HKI", master_key_id="mk-2", mac=b"mac2:HKI"
    )
    gone = await index.get_org("GONE")
    assert gone is not None and gone.wrapped_key is None and gone.master_key_id == "mk-1"
    assert len(await index.audit_rows(0, 10)) == 5


async def test_rewrap_of_a_missing_or_destroyed_org_changes_nothing(index: Index) -> None:
    await index.put_info("master_key_id", "mk-1", event("init"))
    await index.add_org(stored_org("HKI"), event("org.manage"))
    await index.add_org(stored_org("GONE", wrapped_key=None), event("org.manage"))
    changed = replace(rewrap("HKI", b"new"), code="HKI", was=b"not the row's mac")
    for bad in (rewrap("NOPE", b"new"), rewrap("GONE", b"new"), changed):
        with pytest.raises(StoreError, match=bad.code):
            await index.rewrap_org_keys([rewrap("HKI", b"new"), bad], "mk-2", event("keys.rotate"))
    assert await index.get_info("master_key_id") == "mk-1"
    assert await index.get_org("HKI") == stored_org("HKI")
    assert len(await index.audit_rows(0, 10)) == 3
