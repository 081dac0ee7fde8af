"""The tag picker on its own: the vocabulary, a new free tag, taking a tag off, Esc."""

from __future__ import annotations

from textual.app import App

from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.tags import TagChoice, TagScreen, VocabularyTag

VOCABULARY = [
    VocabularyTag("coaching:empathy", 12, True, "empathy and tone"),
    VocabularyTag("complaint", 3, True, "the customer complained"),
    VocabularyTag("[bold]oma", 1, False),
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
