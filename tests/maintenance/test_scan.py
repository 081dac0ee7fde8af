"""The scan finds a deleted blob, a truncated one, a flipped bit, an orphan; it resumes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from kaiku_tui.config import Config
from kaiku_tui.errors import AccessDenied
from kaiku_tui.maintenance.scan import PROGRESS_FILE
from kaiku_tui.register.upkeep import facet as upkeep
from kaiku_tui.register.upkeep.facet import ScanReport
from tests.maintenance.conftest import SUPERVISOR, blob_of, maintain_events, opened


async def scan(config: Config, **options: object) -> ScanReport:
    register = await opened(config)
    try:
        args: dict[str, object] = {"org": None, "sample": None, "full": False}
        args.update(options)
        return await register.upkeep.scan(
            progress=lambda done, total: None,
            **args,  # type: ignore[arg-type]
        )
    finally:
        await register.close()


def kinds(report: ScanReport) -> set[tuple[int | None, str]]:
    return {(f.record_id, f.kind) for f in report.findings}


async def test_clean_register_scans_clean(config: Config) -> None:
    report = await scan(config, full=True)
    assert report.findings == ()
    assert (report.records, report.blobs) == (6, 5)
    assert report.blob_bytes > 5 * 200_000
    start, end = maintain_events(config, "scan")
    assert end["result_count"] == 6 and end["outcome"] == "ok"
    assert not (config.data_dir / PROGRESS_FILE).exists()


async def test_deleted_blob(config: Config) -> None:
    blob_of(config, 2).unlink()
    report = await scan(config)
    assert kinds(report) == {(2, "missing-blob")}
    assert maintain_events(config, "scan")[-1]["outcome"] == "error"


async def test_truncated_blob(config: Config) -> None:
    path = blob_of(config, 3)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    report = await scan(config)
    assert kinds(report) == {(3, "bad-blob")}
    assert "truncated" in report.findings[0].detail or "authenticate" in report.findings[0].detail


async def test_flipped_bit_in_a_middle_segment_needs_full(config: Config) -> None:
    path = blob_of(config, 1)
    data = bytearray(path.read_bytes())
    data[70_000] ^= 0x01  # in the second segment: opening checks only the header and the last
    path.write_bytes(bytes(data))
    assert kinds(await scan(config)) == set()
    assert kinds(await scan(config, full=True)) == {(1, "bad-blob")}


async def test_orphan_blob(config: Config) -> None:
    source = blob_of(config, 1)
    ref = "ab" * 16
    target = config.blob_dir / "ab" / "ab" / f"{ref}.kkb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    report = await scan(config)
    assert kinds(report) == {(None, "orphan-blob")}
    assert ref in report.findings[0].detail
    # a scan of one organisation cannot tell an orphan: it does not look
    assert kinds(await scan(config, org="ITU")) == set()


async def test_org_and_sample(config: Config) -> None:
    assert (await scan(config, org="KESKI")).records == 2
    assert (await scan(config, sample=3)).records == 3


async def test_resumes_after_the_last_batch(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upkeep, "_BATCH", 2)
    blob_of(config, 2).unlink()  # found before the stop: the resumed report still has it

    class Stop(Exception):
        pass

    calls = []

    def stop_after_two(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise Stop

    register = await opened(config)
    try:
        with pytest.raises(Stop):
            await register.upkeep.scan(org=None, sample=None, full=False, progress=stop_after_two)
    finally:
        await register.close()
    assert (config.data_dir / PROGRESS_FILE).exists()
    report = await scan(config)
    assert report.resumed_after == 4
    assert report.records == 6  # 4 before the stop, 2 after
    assert kinds(report) == {(2, "missing-blob")}


async def test_non_admin_may_not_scan(config: Config) -> None:
    register = await opened(config, SUPERVISOR)
    try:
        with pytest.raises(AccessDenied):
            await register.upkeep.scan(org=None, sample=None, full=False, progress=print)
    finally:
        await register.close()
    assert maintain_events(config, "scan")[-1]["outcome"] == "denied"


async def test_a_scoped_admin_scans_only_their_organisations(config: Config) -> None:
    from kaiku_tui.domain.access import Identity, Person, Role

    register = await opened(config)
    try:
        await register.persons.add(
            Person("keski.admin", "K", frozenset({Role.ADMIN}), orgs=("KESKI",))
        )
    finally:
        await register.close()
    scoped = await opened(config, Identity("keski.admin"))
    try:
        with pytest.raises(AccessDenied):
            await scoped.upkeep.scan(org="ITU", sample=None, full=False, progress=print)
        report = await scoped.upkeep.scan(org="KESKI", sample=None, full=False, progress=print)
    finally:
        await scoped.close()
    assert report.records == 2


@pytest.mark.parametrize(
    ("task", "call"),
    [
        ("keys.status", lambda u, tmp: u.key_status()),
        ("keys.rotate", lambda u, tmp: u.rotate_keys({})),
        ("backup", lambda u, tmp: u.backup(tmp / "backup", link=False)),
        ("maintenance", lambda u, tmp: u.tidy(vacuum=False)),
    ],
    ids=["keys-status", "keys-rotate", "backup", "maintenance"],
)
async def test_every_other_task_is_refused_for_non_admins_and_audited(
    config: Config, tmp_path: Path, task: str, call: Any
) -> None:
    register = await opened(config, SUPERVISOR)
    try:
        with pytest.raises(AccessDenied):
            await call(register.upkeep, tmp_path)
    finally:
        await register.close()
    events = maintain_events(config, task)
    assert [(e["actor"], e["outcome"]) for e in events] == [(SUPERVISOR.login, "denied")]
    assert not (tmp_path / "backup").exists()
