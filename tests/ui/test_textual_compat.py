"""What kaiku_tui/ui assumes of Textual's insides, checked on real Textual objects.

Each assertion names the Textual internal (or the public behaviour we rely on)
and the version the assumption was made against. When a Textual upgrade makes
one fail, read kaiku_tui/ui/textual_compat.py before changing anything else.
"""

from __future__ import annotations

from importlib.metadata import version

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingsMap
from textual.filter import Monochrome, NoColor
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Footer as TextualFooter
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from kaiku_tui.errors import UsageError
from kaiku_tui.register import Register
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.footer import Footer
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.screens import KaikuScreen
from kaiku_tui.ui.textual_compat import (
    WATCHERS_ATTRIBUTE,
    bindings_of,
    is_closing,
    prune_footer_watchers,
    watchers_of,
)

PINNED = "8.2.8"
TEXTUAL = version("textual")
FI = Texts("fi")


def broke(what: str) -> str:
    return (
        f"Textual {TEXTUAL} (kaiku-tui was written against {PINNED}): {what}. "
        "See kaiku_tui/ui/textual_compat.py."
    )


class Keys(KaikuScreen[None]):
    BINDINGS = [
        Binding("b", "back", "bind.back", id="test.back"),
        Binding("r", "refresh", "bind.refresh", id="test.refresh"),
    ]

    def __init__(self, footer: type[Widget]) -> None:
        super().__init__()
        self.texts = FI
        self.footer = footer

    def compose(self) -> ComposeResult:
        yield Static("keys")
        yield self.footer()

    def action_back(self) -> None:
        pass

    def action_refresh(self) -> None:
        pass


class Plain(App[None]):
    def __init__(self, footer: type[Widget] = Footer) -> None:
        super().__init__()
        self.footer = footer

    def on_mount(self) -> None:
        self.push_screen(Keys(self.footer))


async def _opener() -> Register:
    raise UsageError("not opened in this test")


async def recompose_times(pilot: Pilot[None], footer: Widget, times: int) -> list[int]:
    """Recompose as Textual does when the keys change (`Footer.bindings_changed`)."""
    counts = []
    for _ in range(times):
        footer.screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        counts.append(sum(len(found) for found in watchers_of(footer).values()))
    return counts


async def test_the_footer_keeps_its_watchers_where_textual_compat_prunes_them() -> None:
    app = Plain()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(Footer)
        await recompose_times(pilot, footer, 1)
        assert hasattr(footer, WATCHERS_ATTRIBUTE), broke(
            "a Footer's reactive watchers are no longer kept under the name-mangled "
            f"attribute {WATCHERS_ATTRIBUTE!r} (textual/reactive.py `_watch`)"
        )
        watchers = watchers_of(footer)
        assert "compact" in watchers, broke(
            "Footer's keys no longer watch its `compact` reactive (`data_bind`); "
            f"watchers found: {sorted(watchers)}"
        )
        counts = await recompose_times(pilot, footer, 4)
        assert counts[0] == counts[-1], broke(f"footer watchers grow despite pruning: {counts}")
        owners = [owner for owner, _call in watchers["compact"]]
        assert owners and all(isinstance(o, FooterKey) and o.is_attached for o in owners), broke(
            f"after pruning, the `compact` watchers' owners are not mounted FooterKeys: {owners}"
        )


async def test_textuals_own_footer_still_leaks() -> None:
    """When this fails Textual has fixed the leak: kaiku_tui/ui/footer.py can go."""
    app = Plain(TextualFooter)
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(TextualFooter)
        counts = await recompose_times(pilot, footer, 3)
        assert counts[0] < counts[-1], (
            f"Textual {TEXTUAL}'s Footer no longer keeps the watchers of recomposed keys "
            f"({counts}; it did in {PINNED}, Textualize/textual#6666): the workaround in "
            "kaiku_tui/ui/footer.py and textual_compat.prune_footer_watchers can go."
        )
        assert prune_footer_watchers(footer) > 0, broke("prune_footer_watchers dropped nothing")


async def test_a_node_says_when_it_is_closing() -> None:
    app = Plain()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        static = app.screen.query_one(Static)
        assert isinstance(getattr(static, "_closing", None), bool), broke(
            "MessagePump no longer has the bool attribute `_closing`"
        )
        assert not is_closing(static)
        closing: list[bool] = []
        original = static._close_messages

        async def close(wait: bool = True) -> None:
            await original(wait)
            closing.append(is_closing(static))

        static._close_messages = close  # type: ignore[method-assign]
        await static.remove()
        await pilot.pause()
        assert closing == [True], broke(
            "a removed widget's `_close_messages` no longer sets `_closing` "
            f"(seen after closing: {closing})"
        )


def test_bindings_of_reads_the_nodes_merged_bindings() -> None:
    app = KaikuApp(_opener, FI)
    assert isinstance(getattr(app, "_bindings", None), BindingsMap), broke(
        "DOMNode no longer keeps its bindings as a BindingsMap in `_bindings`"
    )
    assert hasattr(BindingsMap(), "key_to_bindings"), broke(
        "BindingsMap no longer has `key_to_bindings`"
    )
    found = bindings_of(app)
    actions = [b.action for b in found]
    assert actions.count("command_palette") == 1, broke(
        "App.__init__ adds a second command palette binding although KaikuApp declares one "
        f"(actions: {actions})"
    )
    ids = {b.id for b in found}
    assert {"app.help", "app.quit", "app.command_palette"} <= ids, ids
    palette = next(b for b in found if b.action == "command_palette")
    assert palette.key == App.COMMAND_PALETTE_BINDING and palette.priority and not palette.show


@pytest.mark.parametrize("no_color", [True, False])
async def test_no_color_reaches_every_widget_as_no_color_not_grey(
    monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = KaikuApp(_opener, FI)
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        widget = app.screen.query_one(Static)
        kinds = [type(f) for f in widget.get_line_filters()]
    assert app.no_color is no_color, broke("App.no_color no longer follows NO_COLOR")
    assert Monochrome not in kinds, broke(
        f"a widget's line filters (Widget.get_line_filters) are {kinds}, "
        "not those of App.get_line_filters"
    )
    assert (NoColor in kinds) is no_color, kinds


async def test_the_footer_shows_words_from_screen_active_bindings() -> None:
    app = Plain()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        await pilot.pause()
        shown = {key.description for key in app.screen.query(FooterKey)}
        assert {FI("bind.back"), FI("bind.refresh")} <= shown, broke(
            "Footer no longer takes its words from Screen.active_bindings "
            f"(the footer shows {shown})"
        )
        # ...while the screen's own bindings keep the catalogue keys they were declared with.
        assert "bind.back" in {b.description for b in bindings_of(app.screen)}


async def test_a_binding_id_remaps_its_key_through_the_keymap() -> None:
    app = Plain()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        app.update_keymap({"test.refresh": "f5"})
        await pilot.pause()
        active = app.screen.active_bindings
        assert "f5" in active and "r" not in active, broke(
            f"App.update_keymap no longer remaps a binding by its id (keys: {sorted(active)})"
        )
        assert active["f5"].binding.description == FI("bind.refresh")
