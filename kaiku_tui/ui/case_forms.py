"""Making and changing feedback cases: a new case, its owner and texts, its recordings.

Each is a `FormDialog`: the fields parsed by the domain's own checks (a
reference's spelling, a date, a text's length) with the error under the
field, then one Register call, which authorizes and audits; what it refuses
stays on the form. Linking also works from a recording (the list's or the one
being read): pick one of the cases still being handled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import NamedTuple

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from kaiku_tui.domain.annotation import (
    CaseFilter,
    CaseStatus,
    FeedbackCase,
    check_case_ref,
    check_case_text,
)
from kaiku_tui.domain.dates import parse_date
from kaiku_tui.domain.org import Organisation
from kaiku_tui.register import Register
from kaiku_tui.ui.filters import FormError, blame
from kaiku_tui.ui.forms import Field, FormDialog
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.modals import Dialog
from kaiku_tui.ui.safe import untrusted


class NewCase(NamedTuple):
    org: str
    ref: str
    received: date
    summary: str


def new_case(values: Mapping[str, str], texts: Texts) -> NewCase:
    """The form's text as a case to add, or a FormError naming the field."""
    with blame("ref"):
        ref = check_case_ref(values["ref"])
    if not values["org"]:
        raise FormError("org", texts("case.form.no_org"))
    with blame("received"):
        received = parse_date(values["received"], "received")
    with blame("summary"):
        summary = check_case_text("a case summary", values["summary"], 2_000)
    if not summary:
        raise FormError("summary", texts("case.form.no_summary"))
    return NewCase(values["org"], ref, received, summary)


def record_ids(text: str, texts: Texts) -> list[int]:
    """`12 13, 14` → [12, 13, 14] (at least one)."""
    parts = text.replace(",", " ").split()
    if not parts or not all(p.isdigit() for p in parts):
        raise FormError("records", texts("case.form.link_help"))
    return list(dict.fromkeys(int(p) for p in parts))


class NewCaseForm(FormDialog[FeedbackCase]):
    def __init__(
        self, register: Register, texts: Texts, orgs: Sequence[Organisation], today: date
    ) -> None:
        choices = tuple((f"{o.code} {o.name}", o.code) for o in orgs)
        only = choices[0][1] if len(choices) == 1 else ""
        fields = [
            Field("ref", "case.form.ref", placeholder="PAL-2026-0001"),
            Field("org", "case.form.org", only, texts("case.form.choose"), choices=choices),
            Field("received", "case.form.received", today.strftime("%d.%m.%Y"),
                  placeholder=texts("filter.from")),
            Field("summary", "case.form.summary", placeholder=texts("case.form.no_patient")),
        ]  # fmt: skip
        super().__init__(texts, texts("case.form.new"), fields, texts("case.form.help"))
        self.register = register

    async def submit(self, values: Mapping[str, str]) -> FeedbackCase:
        case = new_case(values, self.texts)
        return await self.register.cases.add(case.org, case.ref, case.summary, case.received)


class CaseEditForm(FormDialog[FeedbackCase]):
    """The owner (a login), findings and resolution; only what was changed is sent."""

    def __init__(self, register: Register, texts: Texts, case: FeedbackCase) -> None:
        fields = [
            Field("owner", "cases.owner", case.owner),
            Field("findings", "cases.findings", case.findings),
            Field("resolution", "cases.resolution", case.resolution),
        ]
        title = texts("case.form.edit", ref=case.ref)
        super().__init__(texts, title, fields, texts("case.form.edit_help"))
        self.register = register
        self.case = case

    async def submit(self, values: Mapping[str, str]) -> FeedbackCase:
        was = {"owner": self.case.owner, "findings": self.case.findings,
               "resolution": self.case.resolution}  # fmt: skip
        changed = {k: v.strip() for k, v in values.items() if v.strip() != was[k]}
        if changed.get("owner") == "":
            raise FormError("owner", self.texts("case.form.no_owner"))
        if not changed:
            return self.case
        return await self.register.cases.change(self.case.id, **changed)


class LinkForm(FormDialog[int]):
    """Recordings to link, by number (as the list and the case show them)."""

    def __init__(self, register: Register, texts: Texts, case: FeedbackCase) -> None:
        field = Field("records", "case.form.records", placeholder="12 13", restrict=r"[0-9 ,]*")
        title = texts("case.form.link", ref=case.ref)
        super().__init__(texts, title, [field], texts("case.form.link_help"))
        self.register = register
        self.case = case

    async def submit(self, values: Mapping[str, str]) -> int:
        return await self.register.cases.link(
            self.case.id, record_ids(values["records"], self.texts)
        )


class CaseChoice(Dialog[FeedbackCase | None]):
    """The cases still being handled (not closed), newest first: which one?"""

    BINDINGS = [Binding("escape", "cancel", "bind.back", id="case_choice.cancel")]
    DEFAULT_CSS = """
    CaseChoice OptionList, CaseChoice OptionList:focus {
        height: auto; max-height: 14; border: none; padding: 0;
    }
    """

    def __init__(self, texts: Texts, cases: Sequence[FeedbackCase], record_id: int) -> None:
        super().__init__(texts)
        self.cases = {str(c.id): c for c in cases}
        self.record_id = record_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="box") as box:
            box.border_title = self.texts("case.choose.title", id=self.record_id)
            box.border_subtitle = self.texts("purpose.cancel")
            if not self.cases:
                yield Static(Text(self.texts("case.choose.none")))
            options = []
            for key, case in self.cases.items():
                label = Text(f"{case.ref}  ", style="bold")
                status = self.texts(f"cases.status.{case.status.value}")
                label.append_text(
                    untrusted(f"{case.org} · {status} · {case.summary}", keep_newlines=False)
                )
                options.append(Option(label, id=key))
            yield OptionList(*options, id="choices")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.cases[str(event.option.id)])

    def action_cancel(self) -> None:
        self.dismiss(None)


async def choose_and_link(
    app: App[object], register: Register, texts: Texts, record_id: int, org: str
) -> FeedbackCase | None:
    """Link the recording to a case the person picks (audited by the register); the case.
    Only its organisation's cases are offered: feedback is one client's, so are its calls."""
    listed = await register.cases.find(CaseFilter(orgs=(org,)))
    handled = [c for c in listed if c.status is not CaseStatus.CLOSED]
    case = await app.push_screen_wait(CaseChoice(texts, handled, record_id))
    if case is None:
        return None
    added = await register.cases.link(case.id, [record_id])
    key = "case.linked" if added else "case.linked_already"
    app.notify(texts(key, id=record_id, ref=case.ref), markup=False)
    return case
