"""The browse list: a virtual ScrollView over a result of any size.

It draws only the visible lines (the Line API), from a `ResultWindow` of a few
loaded pages. Index I/O runs in one exclusive worker through the `fetch`
function the screen gives it, so a newer need cancels an older fetch. The
scrollbar spans the whole result: dragging it to any point asks for a seek,
not for the rows in between. No scroll animation anywhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker

from kaiku_tui.domain.browse import Page, Sort
from kaiku_tui.domain.recording import RecordingSummary
from kaiku_tui.ui.columns import COLUMNS, Column, row_line
from kaiku_tui.ui.failures import pass_on_failure
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.window import Fetch, ResultWindow

Fetcher = Callable[[Fetch], Awaitable[Page]]


class RecordingList(ScrollView, can_focus=True):
    """Rows of recordings; Enter posts `Chosen` with the row under the cursor."""

    BINDINGS = [
        Binding("down,j", "move(1)", "bind.down", show=False, id="recordings.down"),
        Binding("up,k", "move(-1)", "bind.up", show=False, id="recordings.up"),
        Binding("pagedown", "page(1)", "bind.page_down", show=False, id="recordings.page_down"),
        Binding("pageup", "page(-1)", "bind.page_up", show=False, id="recordings.page_up"),
        Binding("home", "jump_to(0)", "bind.top", show=False, id="recordings.top"),
        Binding("end", "jump_to(-1)", "bind.bottom", show=False, id="recordings.bottom"),
        Binding("enter", "choose", "bind.open", id="recordings.open"),
    ]
    COMPONENT_CLASSES = {"recording-list--cursor", "recording-list--pending"}
    DEFAULT_CSS = """
    RecordingList {
        height: 1fr;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
        & > .recording-list--cursor { background: $accent 40%; text-style: bold; }
        & > .recording-list--pending { color: $text-muted; }
        &:focus > .recording-list--cursor { background: $accent; color: $text; }
    }
    """

    cursor = reactive(0, always_update=True, repaint=True)

    @dataclass
    class Chosen(Message):
        summary: RecordingSummary

    @dataclass
    class Loaded(Message):
        """Rows arrived (for the status line); `total` is the window's estimate."""

        total: int

    def __init__(self, texts: Texts, *, name: str | None = None) -> None:
        super().__init__(id=name)
        self.texts = texts
        self.columns: tuple[Column, ...] = COLUMNS
        self.window: ResultWindow | None = None
        self._fetch: Fetcher | None = None
        self._generation = 0

    # -- the result -----------------------------------------------------------------

    def show(self, fetch: Fetcher, sort: Sort, total: int) -> None:
        """A new result: forget the old rows, go to the top, fetch what is visible."""
        self._generation += 1
        self._fetch = fetch
        self.window = ResultWindow(sort, total)
        self.set_reactive(RecordingList.cursor, 0)
        self._resize()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()
        self._need()

    def recount(self, total: int) -> None:
        """The exact count arrived: the scrollbar spans the whole result now."""
        if self.window is None:
            return
        shift = self.window.recount(total)
        self._moved(shift)
        self._resize()

    def _resize(self) -> None:
        total = self.window.total if self.window else 0
        self.virtual_size = Size(self.size.width, total)

    # -- fetching ---------------------------------------------------------------------

    def _need(self) -> None:
        if self.window is None or self._fetch is None:
            return
        top = round(self.scroll_y)
        plan = self.window.plan(top, top + max(self.size.height, 1) - 1)
        if plan is not None:
            self._run(plan, self._generation)

    @work(exclusive=True, group="recording-list", exit_on_error=False)
    async def _run(self, plan: Fetch, generation: int) -> None:
        assert self._fetch is not None
        page = await self._fetch(plan)
        if generation != self._generation or self.window is None:
            return
        shift = self.window.apply(plan, page, round(self.scroll_y))
        self._moved(shift)
        self._resize()
        self.refresh()
        self.post_message(self.Loaded(self.window.total))
        self._need()

    def _moved(self, shift: int) -> None:
        """Row numbers moved by `shift` (an estimate corrected): move the view with them."""
        if shift:
            self.set_reactive(RecordingList.cursor, max(self.cursor + shift, 0))
            self.scroll_to(y=max(self.scroll_y + shift, 0), animate=False, immediate=True)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._need()

    def on_resize(self, event: events.Resize) -> None:
        self._resize()
        self._need()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        pass_on_failure(self, event)

    # -- drawing -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        number = round(self.scroll_y) + y
        width = self.size.width
        row = self.window.row(number) if self.window else None
        if self.window is not None and self.window.total == 0 and number == 0:
            style = self.get_component_rich_style("recording-list--pending")
            return Strip([Segment(self.texts("status.none").ljust(width), style)], width)
        if self.window is None or number >= self.window.total:
            return Strip.blank(width, self.rich_style)
        if row is None:
            style = self.get_component_rich_style("recording-list--pending")
            return Strip([Segment("…".ljust(width), style)], width)
        style = self.rich_style
        if number == self.cursor:
            style = style + self.get_component_rich_style("recording-list--cursor")
            if self.app.no_color:
                style = style + Style(reverse=True)
        return Strip([Segment(row_line(row, self.texts, width, self.columns), style)], width)

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()

    # -- keys and mouse -----------------------------------------------------------------

    @property
    def total(self) -> int:
        return self.window.total if self.window else 0

    def _set_cursor(self, number: int) -> None:
        self.cursor = min(max(number, 0), max(self.total - 1, 0))
        top, height = round(self.scroll_y), max(self.size.height, 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_move(self, step: int) -> None:
        self._set_cursor(self.cursor + step)

    def action_page(self, direction: int) -> None:
        height = max(self.size.height, 1)
        self.scroll_to(y=max(self.scroll_y + direction * height, 0), animate=False, immediate=True)
        self._set_cursor(self.cursor + direction * height)

    def action_jump_to(self, number: int) -> None:
        self._set_cursor(number if number >= 0 else self.total - 1)

    def action_choose(self) -> None:
        row = self.window.row(self.cursor) if self.window else None
        if row is not None:
            self.post_message(self.Chosen(row))

    def on_click(self, event: events.Click) -> None:
        number = round(self.scroll_y) + event.y
        if number >= self.total:
            return
        if number == self.cursor and event.chain >= 2:
            self.action_choose()
        self.cursor = number

    def update_row(self, summary: RecordingSummary) -> None:
        """A row changed (its tags): the loaded copy follows, if it is loaded."""
        if self.window is not None:
            for i, row in enumerate(self.window.rows):
                if row.id == summary.id:
                    self.window.rows[i] = summary
            self.refresh()

    @property
    def current(self) -> RecordingSummary | None:
        return self.window.row(self.cursor) if self.window else None
