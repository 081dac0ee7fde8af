"""Helpers for driving the app in tests: wait until it is quiet, read what it shows."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.worker import WorkerFailed

from kaiku_tui.domain.recording import RecordingSummary
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.browse import TYPING_PAUSE, BrowseScreen
from kaiku_tui.ui.recording_list import RecordingList


async def settle(pilot: Pilot[None]) -> None:
    """Wait until no worker runs and no message is pending (workers start workers)."""
    app = pilot.app
    for _ in range(50):
        while isinstance(app.screen, BrowseScreen) and app.screen.typing:
            await pilot.pause(TYPING_PAUSE / 5)
        await pilot.pause()
        try:
            await app.workers.wait_for_complete()
        except WorkerFailed:
            pass  # the app tells the person (a notice); tests assert on that
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            return
    raise AssertionError("the app did not settle")


def the_list(app: KaikuApp) -> RecordingList:
    return app.screen.query_one(RecordingList)


def shown_rows(app: KaikuApp) -> list[RecordingSummary]:
    """The rows the list holds, in order (all of them, in a small register)."""
    window = the_list(app).window
    assert window is not None
    return list(window.rows)


def screen_text(app: KaikuApp) -> str:
    """What the terminal shows, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
