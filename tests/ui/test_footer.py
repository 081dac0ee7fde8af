"""The footer does not grow with every screen opened and closed over the list (the
watchers Textual's own footer leaves behind: kaiku_tui/ui/footer.py)."""

from __future__ import annotations

from kaiku_tui.domain.access import Purpose
from kaiku_tui.ui.browse import BrowseScreen
from kaiku_tui.ui.conversation import ConversationScreen
from kaiku_tui.ui.footer import Footer
from tests.ui.conftest import AppFactory
from tests.ui.pilot import settle, shown_rows


def watchers(footer: Footer) -> int:
    return sum(len(found) for found in getattr(footer, "__watchers", {}).values())


async def test_opening_and_closing_recordings_leaves_nothing_behind(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        app.purposes.update({row.id: Purpose.QUALITY for row in shown_rows(app)})
        footer = browse.query_one(Footer)
        counts = []
        for _ in range(6):
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ConversationScreen)
            await pilot.press("escape")
            await settle(pilot)
            counts.append(watchers(footer))
        assert counts[-1] == counts[0], counts  # Textual's own: +22 per open
