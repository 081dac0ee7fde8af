"""Tagging a recording with one key: the vocabulary to pick from, or a new free tag.

The managed tags (agreed meanings: `coaching:empathy`, `complaint`, …) come
first, then the free tags in use, each with how many recordings carry it; a
tag the recording already has is marked, and choosing it takes it off. Typing
filters the list; Enter on the text adds it as a free tag. The register checks
the spelling and audits the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.annotation import TagCount, check_tag
from kaiku_tui.domain.recording import RecordingSummary
from kaiku_tui.register import Register
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.modals import Dialog
from kaiku_tui.ui.safe import untrusted


@dataclass(frozen=True)
class TagChoice:
    """What the person chose: a tag, and whether it goes on or comes off."""

    tag: str
    add: bool


class TagScreen(Dialog[TagChoice | None]):
    BINDINGS = [Binding("escape", "cancel", "bind.back", id="tags.cancel")]
    DEFAULT_CSS = """
    TagScreen OptionList, TagScreen OptionList:focus {
        height: auto; max-height: 14; border: none; padding: 0;
    }
    """

    def __init__(
        self, texts: Texts, vocabulary: Sequence[TagCount], carried: Sequence[str]
    ) -> None:
        super().__init__(texts)
        self.vocabulary = list(vocabulary)
        self.carried = set(carried)

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = self.texts("tags.title")
            box.border_subtitle = self.texts("purpose.cancel")
            yield Static(Text(self.texts("tags.help")))
            yield Input(placeholder=self.texts("tags.new"), id="tag", compact=True)
            yield OptionList(*self._options(""), id="tags")

    def _options(self, typed: str) -> list[Option]:
        wanted = typed.strip().lower()
        options = []
        for item in self.vocabulary:
            if wanted and wanted not in item.tag:
                continue
            mark = "✓ " if item.tag in self.carried else "  "
            label = Text(mark, style="bold")
            label.append_text(
                untrusted(item.tag, "bold" if item.managed else "", keep_newlines=False)
            )
            label.append(f"  {item.count}", style="dim")
            if item.meaning:
                label.append_text(untrusted(f"  {item.meaning}", "italic", keep_newlines=False))
            options.append(Option(label, id=item.tag))
        return options

    @on(Input.Changed, "#tag")
    def _typed(self, event: Input.Changed) -> None:
        found = self.query_one(OptionList)
        found.clear_options()
        found.add_options(self._options(event.value))
        found.highlighted = 0 if found.option_count else None

    @on(Input.Submitted, "#tag")
    def _new(self, event: Input.Submitted) -> None:
        tag = event.value.strip()
        if tag:
            self.dismiss(TagChoice(tag, tag not in self.carried))

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        tag = str(event.option.id)
        self.dismiss(TagChoice(tag, tag not in self.carried))

    def action_cancel(self) -> None:
        self.dismiss(None)


async def choose_and_tag(
    app: App[object], register: Register, texts: Texts, row: RecordingSummary, purpose: Purpose
) -> RecordingSummary | None:
    """Ask which tag, then put it on or take it off through the register (audited);
    the row with its new tags, or None when nothing changed."""
    vocabulary = await register.tags.vocabulary()
    choice = await app.push_screen_wait(TagScreen(texts, vocabulary, row.tags))
    if choice is None:
        return None
    if choice.add:
        await register.tags.add(row.id, choice.tag, purpose)
        tags = (*row.tags, check_tag(choice.tag))
    else:
        await register.tags.remove(row.id, choice.tag, purpose)
        tags = tuple(t for t in row.tags if t != choice.tag)
    key = "tags.added" if choice.add else "tags.removed"
    app.notify(texts(key, tag=check_tag(choice.tag)), markup=False)
    return replace(row, tags=tuple(dict.fromkeys(tags)))
