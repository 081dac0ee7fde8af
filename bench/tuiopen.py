"""The open of a recording in the TUI bench: Enter on a row until the conversation
screen shows its transcript and its notes (issue 7).

The bulk rows of a bench register carry ciphertext stand-ins that cannot be opened,
so `add_openable` puts real recordings (the demo's generator, encrypted through
`Register.add_recordings`, no audio) at the top of the list, and `add_real_notes`
writes real notes (and an edit, so a history) on every other one of them.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from measure import Samples

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.annotation import Anchor
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.dates import HELSINKI, day_start
from kaiku_tui.ingest.demo import DemoSpec, generate
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.browse import BrowseScreen
from kaiku_tui.ui.conversation import ConversationScreen, TranscriptEntry
from kaiku_tui.ui.modals import PurposeScreen
from kaiku_tui.ui.recording_list import RecordingList

Until = Callable[[Callable[[], bool]], Awaitable[int]]
Settle = Callable[[], Awaitable[None]]
PURPOSE = Purpose.QUALITY


async def add_openable(config: Config, count: int, seed: int) -> list[int]:
    """`count` real recordings started today, newer than every bulk row; their ids."""
    today = datetime.now(HELSINKI).date()
    no_audio = count + 1  # the demo gives every n-th call audio; opening reads none
    rows = list(generate(DemoSpec(records=count, seed=seed, end=today, days=1,
                                  audio_every=no_audio)))  # fmt: skip
    register = await Register.open(config, current_identity(), environ={})
    try:
        for org in sorted({r.org for r in rows}):
            await register.intake.add_recordings(
                [r for r in rows if r.org == org], source="tuibench"
            )
        page = await register.recordings.search(
            RecordingFilter(started_from=day_start(today)), limit=count
        )
    finally:
        await register.close()
    return sorted(r.id for r in page.rows)


async def add_real_notes(config: Config, ids: list[int], seed: int) -> list[int]:
    """One to three notes (the first edited once) on half the recordings, so that rows
    opened either way have some; their ids."""
    rng = random.Random(seed)
    noted = [r for i, r in enumerate(ids) if i % 4 < 2]
    register = await Register.open(config, current_identity(), environ={})
    try:
        for record_id in noted:
            for n in range(rng.randint(1, 3)):
                anchor = Anchor(at_s=round(rng.uniform(0, 30), 1)) if n else Anchor()
                note = await register.notes.add(record_id, f"bench note {n}", anchor, PURPOSE)
                if n == 0:
                    await register.notes.edit(note.note_id, "bench note 0, edited", PURPOSE)
    finally:
        await register.close()
    return noted


@dataclass
class OpenTimes:
    known: Samples  # the purpose already chosen this session: Enter → transcript + notes
    asked: Samples  # no purpose yet: Enter → the purpose dialog
    chosen: Samples  # the purpose chosen in the dialog → transcript + notes


def notes_loaded(app: KaikuApp) -> set[int]:
    """Ids whose notes the conversation screen has received. The screen's worker sets
    the notes line in the same step as its `register.notes.read` call returns, so when this
    set holds an id the line is there."""
    assert app.register is not None
    register = app.register
    loaded: set[int] = set()
    notes = register.notes.read

    async def counted(record_id: int, purpose: Purpose) -> Any:
        result = await notes(record_id, purpose)
        loaded.add(record_id)
        return result

    register.notes.read = counted  # type: ignore[method-assign]
    return loaded


async def opens(
    app: KaikuApp, listing: RecordingList, ids: list[int], until: Until, settle: Settle
) -> OpenTimes:
    """Each openable row once: even positions with the purpose known, odd ones asked.
    The app settles (no pending work) before each key, as it has while a person reads:
    Enter a millisecond after Esc would time the closing screen too."""
    loaded = notes_loaded(app)
    times = OpenTimes(Samples(), Samples(), Samples())
    for position in range(len(ids)):
        listing.action_jump_to(position)
        await until(lambda p=position: listing.cursor == p and listing.current is not None)
        assert listing.current is not None
        record_id = listing.current.id
        assert record_id in ids, f"row {position} is not an openable recording"
        if position % 2 == 0:
            app.purposes[record_id] = PURPOSE
        await settle()
        app.simulate_key("enter")  # handled on the loop: `until` starts before it runs
        if position % 2 == 0:
            times.known.add(await until(lambda r=record_id: _shown(app, r, loaded)))
        else:
            times.asked.add(await until(lambda: _asked(app)))
            await settle()
            times.chosen.add(await choose(app, record_id, loaded, until))
        app.simulate_key("escape")
        await until(lambda: isinstance(app.screen, BrowseScreen))
    return times


async def choose(app: KaikuApp, record_id: int, loaded: set[int], until: Until) -> int:
    """The purpose highlighted and chosen (Enter) in the dialog, until the screen is shown."""
    from textual.widgets import OptionList

    options = app.screen.query_one(OptionList)
    options.highlighted = list(Purpose).index(PURPOSE)
    app.simulate_key("enter")
    return await until(lambda: _shown(app, record_id, loaded))


def _asked(app: KaikuApp) -> bool:
    """The purpose dialog is up with its choices."""
    from textual.widgets import OptionList

    screen = app.screen
    return isinstance(screen, PurposeScreen) and bool(screen.query(OptionList))


def _shown(app: KaikuApp, record_id: int, loaded: set[int]) -> bool:
    screen = app.screen
    return (
        isinstance(screen, ConversationScreen)
        and screen.recording.summary.id == record_id
        and bool(screen.query(TranscriptEntry))
        and record_id in loaded
    )
