"""A review at the premises in the TUI: the session flagged on every screen, only the
customer's own recordings, opened without a purpose prompt, reading and listening only."""

from __future__ import annotations

from kaiku_tui.config import Config
from kaiku_tui.domain.subject import RequestKind
from kaiku_tui.register import Register
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.conversation import ConversationScreen
from kaiku_tui.ui.i18n import Texts
from tests.ui.conftest import TODAY, audit_events, started
from tests.ui.pilot import screen_text, settle, shown_rows
from tests.ui.test_disclosures import DPO, add_dpo

CUSTOMER = "+358400000012"  # the recording of 12 November (conftest: +35840 + day)


async def a_request(config: Config) -> None:
    await add_dpo(config)
    dora = await Register.open(config, DPO, environ={})
    try:
        await dora.subjects.add_request("TS-5", RequestKind.ACCESS, TODAY, "040 0000012")
    finally:
        await dora.close()


def review_app(config: Config, language: str = "en") -> KaikuApp:
    async def opener() -> Register:  # as `kaiku-tui review TS-5` opens it
        register = await Register.open(config, DPO, environ={})
        await register.subjects.start_premises_review("TS-5")
        return register

    return KaikuApp(opener, Texts(language), today=lambda: TODAY)


async def test_a_review_shows_the_customers_own_and_only_reads(config: Config) -> None:
    await a_request(config)
    app = review_app(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "REVIEW AT THE PREMISES · request TS-5" in screen_text(app)
        assert [r.started_at for r in shown_rows(app)] == [started(12)]
        assert "1 recording · sorted" in screen_text(app)
        footer = screen_text(app).splitlines()[-1]
        assert "Tag" not in footer and "Cases" not in footer and "Audit" not in footer
        await pilot.press("enter")  # no purpose asked: the review's
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        assert "REVIEW AT THE PREMISES" in screen_text(app)
        shown = screen_text(app)
        assert "päivän 12 asia" in shown
        assert "Aino Agentti" not in shown and "Bertta Bot" not in shown  # staff unnamed
        assert "1 recording ·" not in shown
        for key in ("r", "t", "o", "v"):  # reveal, tag, note, notes: not in a review
            assert (
                screen.check_action({"r": "reveal", "t": "tag", "o": "note", "v": "notes"}[key], ())
                is False
            )
        await pilot.press("r", "t", "o")
        await settle(pilot)
        assert app.screen is screen
    events = audit_events(config)
    review = events[
        next(i for i, e in enumerate(events) if e["action"] == "subject.premises.start") :
    ]
    assert [e["action"] for e in review if e["action"] == "record.open"] == ["record.open"]
    assert all(e.get("request_ref") == "TS-5" for e in review)
    assert not [e for e in review if e["outcome"] == "denied"]  # nothing was even tried
    assert review[-1]["action"] == "subject.premises.end"  # the app closed the review


async def test_the_banner_in_finnish(config: Config) -> None:
    await a_request(config)
    app = review_app(config, "fi")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "TARKASTELU PAIKALLA · pyyntö TS-5" in screen_text(app)
