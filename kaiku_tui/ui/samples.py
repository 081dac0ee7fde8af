"""Coaching samples: draw one, see the ones drawn, work through one recording by recording.

A reviewer draws N recordings per agent from a date range and duration
bounds, with a seed that is shown and may be changed (a random one unless
given: the same seed on the same register draws the same sample). Working
through a sample opens its next recording the person has not scored yet (for
`quality`, audited as any opening), where `s` brings up the scoring form; a
saved score goes on to the next one. Progress is the person's own: scored k
of n. Drawn samples stay listed, to be come back to.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static
from textual.worker import Worker

from kaiku_tui.domain.access import Action, Purpose
from kaiku_tui.domain.annotation import (
    CoachingSample,
    SampleSpec,
    random_seed,
    sample_window,
    scored_by,
)
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.dates import fmt_date, fmt_duration, parse_date, parse_duration
from kaiku_tui.register import Register
from kaiku_tui.ui.conversation import ConversationScreen
from kaiku_tui.ui.failures import pass_on_failure
from kaiku_tui.ui.filters import FormError, blame
from kaiku_tui.ui.footer import Footer
from kaiku_tui.ui.forms import Field, FormDialog
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.safe import untrusted
from kaiku_tui.ui.screens import KaikuScreen


def _number(values: Mapping[str, str], name: str, low: int, texts: Texts) -> int:
    text = values[name].strip()
    if not text.isdigit() or int(text) < low:
        raise FormError(name, texts("form.whole_number", low=low))
    return int(text)


def sample_request(
    values: Mapping[str, str], texts: Texts
) -> tuple[RecordingFilter, int, tuple[str, ...], int]:
    """The draw form's text as (range, N per agent, agents or () for all, seed)."""
    per_agent = _number(values, "per_agent", 1, texts)
    with blame("date_from"):
        first = parse_date(values["date_from"], "from")
    with blame("date_to"):
        last = parse_date(values["date_to"], "to")
    bounds = []
    for name, what in (("min_duration", "shortest"), ("max_duration", "longest")):
        with blame(name):
            text = values[name].strip()
            bounds.append(parse_duration(text, what) if text else None)
    with blame("date_to" if first > last else "max_duration"):
        window = sample_window(first, last, bounds[0], bounds[1])
    agents = tuple(dict.fromkeys(a.strip() for a in values["agents"].split(",") if a.strip()))
    seed = _number(values, "seed", 0, texts)
    return RecordingFilter(*window), per_agent, agents, seed


class DrawForm(FormDialog[CoachingSample]):
    def __init__(self, register: Register, texts: Texts, today: date) -> None:
        day = "%d.%m.%Y"
        fields = [
            Field("per_agent", "samples.per_agent", "3", restrict=r"[0-9]*"),
            Field("date_from", "samples.from", (today - timedelta(days=30)).strftime(day),
                  placeholder=texts("filter.from")),
            Field("date_to", "samples.to", (today - timedelta(days=1)).strftime(day),
                  placeholder=texts("filter.from")),
            Field("min_duration", "samples.min", placeholder="m:ss"),
            Field("max_duration", "samples.max", placeholder="m:ss"),
            Field("agents", "samples.agents", placeholder=texts("samples.every_agent")),
            Field("seed", "samples.seed", str(random_seed()),
                  restrict=r"[0-9]*"),
        ]  # fmt: skip
        super().__init__(texts, texts("samples.draw"), fields, texts("samples.draw_help"))
        self.register = register

    async def submit(self, values: Mapping[str, str]) -> CoachingSample:
        where, per_agent, agents, seed = sample_request(values, self.texts)
        if not agents:
            agents = tuple(await self.register.coaching.agents(where))
        if not agents:
            raise FormError("date_from", self.texts("samples.no_agents"))
        assert where.started_from is not None and where.started_before is not None
        spec = SampleSpec(agents, where.started_from, where.started_before, per_agent, seed,
                          where.min_duration, where.max_duration)  # fmt: skip
        return await self.register.coaching.draw(spec)


def sample_text(sample: CoachingSample, done: frozenset[int], texts: Texts) -> Text:
    """What it was drawn from, the person's progress, and its recordings (✓ scored)."""
    spec = sample.spec
    out = Text()
    days = f"{fmt_date(spec.started_from)}–{fmt_date(spec.started_before - 1)}"
    bounds = "–".join("" if b is None else fmt_duration(b)
                      for b in (spec.min_duration, spec.max_duration))  # fmt: skip
    head = texts("samples.spec", days=days, n=spec.per_agent, seed=spec.seed)
    out.append(head + (f" · {bounds}" if bounds != "–" else "") + "\n", style="bold")
    out.append_text(untrusted(", ".join(spec.agents), "dim", keep_newlines=False))
    out.append("\n")
    scored = len(done & set(sample.record_ids))
    out.append(texts("samples.progress", k=scored, n=len(sample.record_ids)) + "\n")
    out.append("  ".join(f"{'✓' if r in done else '·'}#{r}" for r in sample.record_ids))
    return out


class SamplesScreen(KaikuScreen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "bind.back", id="samples.back"),
        Binding("n", "draw", "bind.sample_draw", id="samples.draw"),
        Binding("enter", "work", "bind.sample_work", id="samples.work"),
    ]
    DEFAULT_CSS = """
    SamplesScreen #samples { height: 1fr; }
    SamplesScreen #sample { height: auto; max-height: 9; padding: 0 1; background: $panel; }
    """

    def __init__(self, register: Register, texts: Texts, today: date) -> None:
        super().__init__()
        self.register = register
        self.texts = texts
        self.today = today
        self.samples: list[CoachingSample] = []
        self.chosen: CoachingSample | None = None
        self.done: frozenset[int] = frozenset()

    def compose(self) -> ComposeResult:
        yield DataTable(id="samples", cursor_type="row", zebra_stripes=True)
        yield Static(id="sample")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        names = ("id", "drawn", "by", "days", "per_agent", "seed", "count")
        table.add_columns(*(self.texts(f"samples.col.{n}") for n in names))
        table.focus()
        self.load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        pass_on_failure(self, event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("draw", "work"):
            return self.register.may(Action.ANNOTATE)
        return True

    @work(exclusive=True, group="samples", exit_on_error=False)
    async def load(self, show: int | None = None) -> None:
        self.samples = await self.register.coaching.samples()
        table = self.query_one(DataTable)
        table.clear()
        for s in self.samples:
            spec = s.spec
            days = f"{fmt_date(spec.started_from)}–{fmt_date(spec.started_before - 1)}"
            cells = (str(s.id), fmt_date(s.drawn_at), s.drawn_by, days, str(spec.per_agent),
                     str(spec.seed), str(len(s.record_ids)))  # fmt: skip
            table.add_row(*(untrusted(c, keep_newlines=False) for c in cells), key=str(s.id))
        if not self.samples:
            self.query_one("#sample", Static).update(Text(self.texts("samples.none")))
        ids = [s.id for s in self.samples]
        if show in ids:
            table.move_cursor(row=ids.index(show))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row < len(self.samples):
            self.read(self.samples[event.cursor_row].id)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        """Enter on the table (which takes the key before the screen does): work through."""
        event.stop()
        if self.check_action("work", ()) and event.cursor_row < len(self.samples):
            self.work_on(self.samples[event.cursor_row].id)

    @work(exclusive=True, group="sample", exit_on_error=False)
    async def read(self, sample_id: int) -> None:
        await self._refresh(sample_id)

    async def _refresh(self, sample_id: int) -> None:
        self.chosen = await self.register.coaching.sample(sample_id)
        scores = await self.register.coaching.scores(sample_id)
        self.done = scored_by(scores, self.register.person.login)
        self.query_one("#sample", Static).update(sample_text(self.chosen, self.done, self.texts))

    def action_draw(self) -> None:
        self.app.push_screen(DrawForm(self.register, self.texts, self.today), self._drawn)

    def _drawn(self, sample: CoachingSample | None) -> None:
        if sample is not None:
            n = len(sample.record_ids)
            self.notify(self.texts("samples.drawn", id=sample.id, n=n), markup=False)
            self.load(show=sample.id)

    def action_work(self) -> None:
        if self.chosen is not None:
            self.work_on(self.chosen.id)

    @work(exclusive=True, group="open", exit_on_error=False)
    async def work_on(self, sample_id: int) -> None:
        """The next recording of the sample the person has not scored, opened for quality."""
        await self._refresh(sample_id)
        sample = self.chosen
        assert sample is not None
        todo = [r for r in sample.record_ids if r not in self.done]
        if not todo:
            self.notify(self.texts("samples.all_done", n=len(sample.record_ids)), markup=False)
            return
        recording = await self.register.recordings.open_recording(todo[0], Purpose.QUALITY)
        position = sample.record_ids.index(todo[0]) + 1
        screen = ConversationScreen(self.register, self.texts, recording, Purpose.QUALITY, sample)
        self.app.push_screen(screen, self._after)
        self.notify(self.texts("samples.working", k=position, n=len(sample.record_ids)),
                    markup=False)  # fmt: skip

    def _after(self, scored: bool | None) -> None:
        """Back from a recording: scored, on to the next one; else the progress again."""
        if self.chosen is None:
            return
        if scored:
            self.work_on(self.chosen.id)
        else:
            self.read(self.chosen.id)

    def action_back(self) -> None:
        self.dismiss(None)
