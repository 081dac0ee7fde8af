"""A Textual app holding only the player line, for the pty test: `python player_app.py SINK WAV`.

The sink is made by `choose_sink(SINK)` as the app will make it, so with no
sound device here the person sees the notice, and the test reads every byte
that reaches the terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from textual.app import App, ComposeResult

from kaiku_tui.audio.player import Player, PlayerEvent
from kaiku_tui.audio.sinks import choose_sink
from kaiku_tui.audio.source import BytesSource
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.player import PlayerBar


class PlayerApp(App[None]):
    def __init__(self, sink: str, data: bytes) -> None:
        super().__init__()
        self.sink, self.data = sink, data

    def compose(self) -> ComposeResult:
        def make(on_event: Callable[[PlayerEvent], None]) -> Player:
            return Player(BytesSource(self.data), choose_sink(self.sink), on_event)

        yield PlayerBar(make, Texts("en"))

    def on_mount(self) -> None:
        self.query_one(PlayerBar).focus()


if __name__ == "__main__":
    PlayerApp(sys.argv[1], Path(sys.argv[2]).read_bytes()).run()
