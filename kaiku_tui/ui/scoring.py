"""The scoring form of a coaching sample: each criterion 1-5, and a comment.

Opened with `s` on a recording opened from a sample (`samples.py`); a digit
moves on to the next criterion, Enter saves through `Register.score`, which
audits it and refuses a second score of the same recording by the same person.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual import on
from textual.widgets import Input

from kaiku_tui.domain.annotation import CRITERIA, CoachingSample, Score
from kaiku_tui.register import Register
from kaiku_tui.ui.filters import FormError
from kaiku_tui.ui.forms import Field, FormDialog
from kaiku_tui.ui.i18n import Texts


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

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if event.input.id in CRITERIA and event.value:
            self.focus_next()

    async def submit(self, values: Mapping[str, str]) -> Score:
        given = []
        for name in CRITERIA:
            if not values[name]:
                raise FormError(name, self.texts("score.missing"))
            given.append((name, int(values[name])))
        score = Score(self.record_id, tuple(given), values["comment"].strip())
        await self.register.score(self.sample.id, score)
        return score
