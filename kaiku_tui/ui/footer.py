"""Textual's footer, without its leak.

Each time the keys change (every screen that closes over the list), Textual
8.2.8's `Footer` composes new keys and binds each to its `compact` reactive
(`data_bind`); the old keys' watchers stay in the footer's list, which is
pruned only when `compact` changes — never here. Measured: 22 watchers and
~0.55 MB per recording opened and closed, past 200 MB after ~240 opens in one
session. After each recompose this one drops the watchers of keys no longer
mounted (`textual_compat.prune_footer_watchers`, which reaches into Textual's
private watcher lists). Upstream: Textualize/textual#6666, watchers from
`watch`/`data_bind` not removed when their owner leaves the DOM (open as of
2026-12). Drop this class when a Textual release fixes that.
"""

from __future__ import annotations

from textual.widgets import Footer as TextualFooter

from kaiku_tui.ui.textual_compat import prune_footer_watchers


class Footer(TextualFooter):
    async def recompose(self) -> None:
        await super().recompose()
        prune_footer_watchers(self)
