"""The tag picker on its own: the vocabulary, a new free tag, taking a tag off, Esc."""

from __future__ import annotations

from textual.app import App
from textual.pilot import Pilot

from kaiku_tui.config import Config
from kaiku_tui.domain.annotation import TagCount
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.conversation import ConversationScreen
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.tags import TagChoice, TagScreen
from tests.ui.conftest import AppFactory, audit_events
from tests.ui.pilot import screen_text, settle, the_list

VOCABULARY = [
    TagCount("coaching:empathy", 12, True, "empathy and tone"),
    TagCount("complaint", 3, True, "the customer complained"),
    TagCount("[bold]oma", 1, False),
]


class Harness(App[None]):
    def __init__(self, carried: list[str]) -> None:
        super().__init__()
        self.carried = carried
        self.chosen: list[TagChoice | None] = []

    def on_mount(self) -> None:
        screen = TagScreen(Texts("en"), VOCABULARY, self.carried)
        self.push_screen(screen, self.chosen.append)


async def test_pick_from_the_vocabulary_adds() -> None:
    app = Harness([])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("tab", "down", "enter")  # the list: its second tag
        await pilot.pause()
    assert app.chosen == [TagChoice("complaint", True)]


async def test_a_carried_tag_comes_off_and_typing_filters() -> None:
    app = Harness(["coaching:empathy"])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"empathy")
        await pilot.pause()
        assert app.screen.query_one("#tags").option_count == 1  # type: ignore[attr-defined]
        await pilot.press("tab", "enter")
        await pilot.pause()
    assert app.chosen == [TagChoice("coaching:empathy", False)]


async def test_a_new_free_tag_and_escape() -> None:
    app = Harness([])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = str(app.screen.query_one("#tags").render_line(2).text)  # type: ignore[attr-defined]
        assert "[bold]oma" in text  # a free tag from outside shows literally
        await pilot.press(*"hyvä-esimerkki", "enter")
        await pilot.pause()
    assert app.chosen == [TagChoice("hyvä-esimerkki", True)]
    app = Harness([])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.chosen == [None]


async def test_tag_from_the_list_with_one_key_and_take_it_off(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 24)) as pilot:  # room for the tags column
        await settle(pilot)
        await pilot.press("t")
        await asking(pilot)
        await pilot.press("tab", "down", "enter")  # the managed vocabulary: its second tag
        await settle(pilot)
        row = the_list(app).current
        assert row is not None and "coaching:process" in row.tags
        assert "coaching:process" in screen_text(app)  # the list shows it at once
        await pilot.press("t")
        await asking(pilot)
        await pilot.press(*"process", "tab", "enter")  # typed: the list narrows to it
        await settle(pilot)
        row = the_list(app).current
        assert row is not None and "coaching:process" not in row.tags
    events = [e for e in audit_events(app_config(app)) if str(e["action"]).startswith("tag.")]
    assert [e["action"] for e in events] == ["tag.list", "tag.add", "tag.list", "tag.remove"]


async def test_tag_from_the_conversation_with_a_new_free_tag(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("enter")  # purpose: verify
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press("t")
        await asking(pilot)
        await pilot.press(*"soittopyyntö", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert "soittopyyntö" in app.screen.recording.summary.tags
        assert "Tags: soittopyyntö" in str(app.screen.query_one("#meta").render())
    (added,) = [e for e in audit_events(app_config(app)) if e["action"] == "tag.add"]
    assert added["purpose"] == "verify"


async def asking(pilot: Pilot[None]) -> None:
    """Until the tag picker is up (the worker that asks waits for it: no settle here)."""
    for _ in range(200):
        if isinstance(pilot.app.screen, TagScreen):
            await pilot.pause()
            return
        await pilot.pause(0.01)
    raise AssertionError("the tag picker never came up")


def app_config(app: KaikuApp) -> Config:
    assert app.register is not None
    return app.register.config
