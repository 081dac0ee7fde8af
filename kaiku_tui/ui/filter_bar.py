"""The filter bar: two compact lines of presets and fields above the list.

Choosing a preset writes its dates or durations into the fields beside it, so
a person sees what "last 7 days" means; typing into those fields makes the
choice "custom". Every change posts `FilterBar.Changed` with the whole form;
the screen debounces and runs the search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Select

from kaiku_tui.domain.dates import fmt_duration
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Channel, Direction
from kaiku_tui.ui.filters import FilterForm
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.presets import DatePreset, DurationPreset, duration_range, preset_days
from kaiku_tui.ui.safe import untrusted

_FIELDS = ("date_from", "date_to", "min_duration", "max_duration", "agent", "tag", "phone")


class FilterBar(Widget):
    DEFAULT_CSS = """
    FilterBar { height: 2; }
    FilterBar Horizontal { height: 1; }
    FilterBar Select { width: 16; margin-right: 1; }
    FilterBar #dates { width: 16; }
    FilterBar #durations { width: 15; }
    FilterBar #channel, FilterBar #direction { width: 12; }
    FilterBar #org { width: 14; }
    FilterBar Input { width: 12; margin-right: 1; }
    FilterBar #min_duration, FilterBar #max_duration { width: 9; }
    FilterBar #phone { width: 1fr; margin-right: 0; }
    FilterBar Input.-invalid { color: $error; }
    """

    @dataclass
    class Changed(Message):
        form: FilterForm
        typed: bool  # from typing (debounce it) rather than a choice

    def __init__(self, texts: Texts, orgs: list[Organisation], today: date) -> None:
        super().__init__()
        self.texts = texts
        self.orgs = orgs
        self.today = today
        self.form = FilterForm()

    def compose(self) -> ComposeResult:
        t = self.texts
        with Horizontal():
            yield self._select("dates", [(t(f"date.{p.value}"), p) for p in DatePreset], False)
            yield self._input("date_from", "filter.from")
            yield self._input("date_to", "filter.to")
            yield self._select(
                "durations", [(t(f"dur.{p.value}"), p) for p in DurationPreset], False
            )
            yield self._input("min_duration", "filter.min")
            yield self._input("max_duration", "filter.max")
        with Horizontal():
            channels = [(t(f"channel.{c.value}"), c) for c in Channel]
            yield self._select("channel", channels, True, t("filter.channel"))
            directions = [(t(f"direction.{d.value}"), d) for d in Direction]
            yield self._select("direction", directions, True, t("filter.direction"))
            orgs = [
                (untrusted(f"{o.code} {o.name}", keep_newlines=False), o.code) for o in self.orgs
            ]
            yield self._select("org", orgs, True, t("filter.org"))
            yield self._input("agent", "filter.agent")
            yield self._input("tag", "filter.tag")
            yield self._input("phone", "filter.phone")

    def _select(
        self, name: str, options: list[tuple[Any, Any]], blank: bool, prompt: str = ""
    ) -> Select[Any]:
        value = Select.NULL if blank else options[0][1]
        return Select(options, id=name, compact=True, allow_blank=blank, value=value, prompt=prompt)

    def _input(self, name: str, placeholder: str) -> Input:
        return Input(id=name, placeholder=self.texts(placeholder), compact=True)

    # -- changes --------------------------------------------------------------------

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        name = event.select.id or ""
        value = None if event.value is Select.NULL else event.value
        if name == "dates":
            self._show_dates(DatePreset(str(value)))
        elif name == "durations":
            self._show_durations(DurationPreset(str(value)))
        else:
            self.form = self.form.changed(**{name: value})
        self.post_message(self.Changed(self.form, typed=False))

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        name = event.input.id or ""
        if name not in _FIELDS:
            return
        self.form = self.form.changed(**{name: event.value})
        if name in ("date_from", "date_to") and self.form.dates is not DatePreset.CUSTOM:
            self._set_select("dates", DatePreset.CUSTOM)
            self.form = self.form.changed(dates=DatePreset.CUSTOM)
        if name in ("min_duration", "max_duration"):
            if self.form.durations is not DurationPreset.CUSTOM:
                self._set_select("durations", DurationPreset.CUSTOM)
                self.form = self.form.changed(durations=DurationPreset.CUSTOM)
        self.post_message(self.Changed(self.form, typed=True))

    def _show_dates(self, preset: DatePreset) -> None:
        self.form = self.form.changed(dates=preset)
        if preset is DatePreset.CUSTOM:
            return
        days = preset_days(preset, self.today)
        first, last = ("", "") if days is None else (d.strftime("%d.%m.%Y") for d in days)
        self._fill(date_from=first, date_to=last)

    def _show_durations(self, preset: DurationPreset) -> None:
        self.form = self.form.changed(durations=preset)
        if preset is DurationPreset.CUSTOM:
            return
        low, high = duration_range(preset)
        self._fill(
            min_duration="" if low is None else fmt_duration(low),
            max_duration="" if high is None else fmt_duration(high),
        )

    def _fill(self, **values: Any) -> None:
        """Show a preset's values in the fields without turning the preset into "custom"."""
        with self.prevent(Input.Changed):
            for name, value in values.items():
                self.query_one(f"#{name}", Input).value = value
        self.form = self.form.changed(**values)

    def _set_select(self, name: str, value: object) -> None:
        with self.prevent(Select.Changed):
            self.query_one(f"#{name}", Select).value = value

    def mark_invalid(self, field: str | None) -> None:
        """Colour the field the last error named (None: all are fine)."""
        for name in _FIELDS:
            self.query_one(f"#{name}", Input).set_class(name == field, "-invalid")

    def clear(self) -> None:
        """Every filter off: the register's whole list (within the person's scope)."""
        self._set_select("dates", DatePreset.ANY)
        self._set_select("durations", DurationPreset.ANY)
        for name in ("channel", "direction", "org"):
            self._set_select(name, Select.NULL)
        self._fill(**{name: "" for name in _FIELDS})
        self.form = FilterForm()
        self.post_message(self.Changed(self.form, typed=False))
