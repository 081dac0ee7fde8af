"""The list over a result larger than it ever holds: the scrollbar lands anywhere."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kaiku_tui.config import Config
from kaiku_tui.register import Register
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.i18n import Texts
from tests.ui.conftest import ADMIN, SUPERVISOR, TODAY, build_register, recording, started
from tests.ui.pilot import settle, the_list

ROWS = 3_000


async def big_register(folder: Path) -> Config:
    """ROWS calls ten minutes apart: evenly spread, as a seek by time expects."""
    config = await build_register(folder, days=range(0))
    admin = await Register.open(config, ADMIN, environ={})
    try:
        first = started(27) - 600 * ROWS
        rows = [
            replace(recording(1), started_at=first + 600 * i, source_id=f"old-{i}", transcript=())
            for i in range(ROWS)
        ]
        await admin.intake.add_recordings(rows, source="test")
    finally:
        await admin.close()
    return config


async def test_the_scrollbar_lands_anywhere_without_loading_the_rest(tmp_path: Path) -> None:
    config = await big_register(tmp_path)
    total = ROWS

    async def opener() -> Register:
        return await Register.open(config, SUPERVISOR, environ={})

    app = KaikuApp(opener, Texts("en"), today=lambda: TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        listing = the_list(app)
        await settle(pilot)
        assert listing.virtual_size.height == total  # the exact count arrived
        listing.scroll_to(y=2_000, animate=False)  # what dragging the scrollbar does
        await settle(pilot)
        window = listing.window
        assert window is not None and len(window.rows) <= window.keep
        top = round(listing.scroll_y)
        row = window.row(top)
        assert row is not None and row.source_id.startswith("old-")
        # newest first: the row at position p is old-(total - 1 - p), give or take the estimate
        assert abs(int(row.source_id[4:]) - (total - 1 - top)) <= 2
        await pilot.press("end")
        await settle(pilot)
        assert listing.cursor == total - 1
        last = listing.current
        assert last is not None and last.source_id == "old-0"
        await pilot.press("pageup", "pageup")
        await settle(pilot)
        row = listing.current
        assert row is not None and row.source_id == f"old-{2 * listing.size.height}"
