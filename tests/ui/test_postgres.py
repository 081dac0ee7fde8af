"""The TUI on a PostgreSQL register: the same screens, the index named by host and database."""

from __future__ import annotations

from pathlib import Path

from kaiku_tui.config import from_mapping
from kaiku_tui.register import Register
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.conversation import ConversationScreen
from kaiku_tui.ui.i18n import Texts
from tests.contract import pg
from tests.ui.conftest import SUPERVISOR, TODAY, build_register, day_of
from tests.ui.pilot import settle, shown_rows


async def test_browse_and_open_on_postgresql(pg_server: pg.PgServer, tmp_path: Path) -> None:
    async with pg_server.schema() as dsn:
        config = from_mapping(
            {"register": {"data_dir": str(tmp_path / "data")}, "index": {"url": dsn}}, None
        )
        await build_register(tmp_path, config=config)

        async def opener() -> Register:
            return await Register.open(config, SUPERVISOR, environ={})

        app = KaikuApp(opener, Texts("en"), today=lambda: TODAY)
        async with app.run_test(size=(120, 24)) as pilot:
            await settle(pilot)
            assert [day_of(r.started_at) for r in shown_rows(app)] == list(range(27, 0, -1))
            status = str(app.screen.query_one("#status").render())
            host = dsn.split("@", 1)[-1].split("/", 1)[0]
            assert "27 recordings" in status and host in status and "index.sqlite3" not in status
            data = app.screen.query_one("#histogram").data  # type: ignore[attr-defined]
            assert sum(data) == 27
            await pilot.press("l")
            await settle(pilot)
            assert shown_rows(app)[0].duration_s == 3725
            await pilot.press("j", "enter")
            await pilot.pause()
            await pilot.press("enter")  # purpose: verify
            await settle(pilot)
            assert isinstance(app.screen, ConversationScreen)
