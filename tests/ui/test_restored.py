"""A register restored from a backup opens in the TUI with every recording."""

from __future__ import annotations

from pathlib import Path

from kaiku_tui.config import Config
from kaiku_tui.register import Register
from kaiku_tui.register.upkeep.restore import restore
from tests.conftest import copy_key_store
from tests.ui.conftest import ADMIN, AppFactory, config_for
from tests.ui.pilot import settle, shown_rows

SIZE = (100, 30)


async def test_restored_register_opens_in_the_tui(
    config: Config, make_app: AppFactory, tmp_path: Path
) -> None:
    admin = await Register.open(config, ADMIN, environ={})
    try:
        await admin.upkeep.backup(tmp_path / "backup", link=False)
    finally:
        await admin.close()
    restored = config_for(tmp_path / "restored")
    restored.data_dir.mkdir(parents=True, mode=0o700)
    copy_key_store(config, restored)
    await restore(restored, ADMIN, tmp_path / "backup", environ={})

    originals, copies = [], []
    for cfg, rows in ((config, originals), (restored, copies)):
        app = make_app(cfg=cfg)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            rows += [r.id for r in shown_rows(app)]
    assert copies == originals and len(copies) > 10
