"""The scoring form of a coaching sample: each criterion 1-5, and a comment.

Opened with `s` on a recording opened from a sample (`samples.py`); a digit
moves on to the next criterion, Enter saves through `Register.score`, which
audits it and refuses a second score of the same recording by the same person.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual import events
from textual.widgets import Input, Select

from kaiku_tui.domain.annotation import CRITERIA, CoachingSample, Score
from kaiku_tui.register import Register
from kaiku_tui.ui.filters import FormError
from kaiku_tui.ui.forms import Field, FormDialog
from kaiku_tui.ui.i18n import Texts

_DIGITS = "12345"


class CriterionInput(Input):
    """One criterion's 1-5: a digit fills it and moves on at once, in the key's own handler
    (not on the Changed message, which arrives after keys already sent here). A key that
    reaches a criterion already given was typed ahead before the focus moved: the form
    passes it on, so fast typing (or a paste) loses nothing."""

    async def _on_key(self, event: events.Key) -> None:
        char = event.character
        if not event.is_printable or char is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        form = self.screen
        if not self.value and char in _DIGITS:
            self.value = char
            form.focus_next()
        elif self.value and isinstance(form, ScoreForm):
            form.typed_ahead(self, char)


class ScoreForm(FormDialog[Score]):
    """Each criterion 1-5 (a digit moves on to the next), and a comment."""

    def __init__(
        self, register: Register, texts: Texts, sample: CoachingSample, record_id: int
    ) -> None:
        fields = [
            Field(name, f"score.{name}", restrict=r"[1-5]?", max_length=1, placeholder="1–5")
            for name in CRITERIA
        ]
        fields.append(Field("comment", "score.comment"))
        title = texts("score.title", id=record_id, sample=sample.id)
        super().__init__(texts, title, fields, texts("score.help"))
        self.register = register
        self.sample = sample
        self.record_id = record_id

    def _widget(self, field: Field) -> Input | Select[str]:
        if field.name not in CRITERIA:
            return super()._widget(field)
        return CriterionInput(id=field.name, placeholder=field.placeholder, compact=True,
                              restrict=field.restrict, max_length=1)  # fmt: skip

    def typed_ahead(self, given: CriterionInput, char: str) -> None:
        """A key for a later field: a digit for the next criterion not given, anything
        else (or a digit once all are given) for the comment."""
        later = list(CRITERIA)[list(CRITERIA).index(str(given.id)) + 1 :]
        empty = [self.query_one(f"#{name}", Input) for name in later]
        empty = [box for box in empty if not box.value]
        if char in _DIGITS and empty:
            empty[0].value = char
            empty[0].focus()
            self.focus_next()
            return
        comment = self.query_one("#comment", Input)
        comment.insert_text_at_cursor(char)
        comment.focus()

    async def submit(self, values: Mapping[str, str]) -> Score:
        given = []
        for name in CRITERIA:
            if not values[name]:
                raise FormError(name, self.texts("score.missing"))
            given.append((name, int(values[name])))
        score = Score(self.record_id, tuple(given), values["comment"].strip())
        await self.register.coaching.score(self.sample.id, score)
        return score
