"""Coaching samples in the TUI: draw one (seed shown and changed), work through it, score."""

from __future__ import annotations

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Identity
from kaiku_tui.register import Register
from kaiku_tui.ui.browse import BrowseScreen
from kaiku_tui.ui.conversation import ConversationScreen
from kaiku_tui.ui.samples import DrawForm, SamplesScreen
from kaiku_tui.ui.scoring import ScoreForm
from tests.ui.conftest import ADMIN, REVIEWER_LOGIN, AppFactory, audit_events
from tests.ui.pilot import screen_text, settle
from tests.ui.test_cases import errors, until

REVIEWER = Identity(REVIEWER_LOGIN)


async def test_draw_a_sample_and_score_it(config: Config, make_app: AppFactory) -> None:
    app = make_app(identity=REVIEWER)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SamplesScreen) and screen.samples == []
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, DrawForm))
        form = app.screen
        seed = form.query_one("#seed")
        assert str(seed.value).isdigit()  # type: ignore[attr-defined]  # a random one, shown
        await pilot.press("ctrl+u", "2")  # per agent
        seed.focus()
        await pilot.press("ctrl+u", *"abc", "enter")  # only digits go in: empty
        await until(pilot, lambda: "seed-error" in errors(app))
        assert errors(app)["seed-error"] == "A whole number, at least 0."
        await pilot.press(*"7", "enter")
        await until(pilot, lambda: isinstance(app.screen, SamplesScreen))
        await settle(pilot)
        (sample,) = screen.samples
        assert sample.spec.seed == 7 and sample.spec.per_agent == 2
        assert set(sample.spec.agents) == {"Aino Agentti", "Bertta Bot"}
        assert len(sample.record_ids) == 4
        assert "Scored 0 of 4" in screen_text(app) and "seed 7" in screen_text(app)
        await pilot.press("enter")  # work through it: the first recording
        await settle(pilot)
        conversation = app.screen
        assert isinstance(conversation, ConversationScreen)
        assert conversation.recording.summary.id == sample.record_ids[0]
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScoreForm))
        await pilot.press("4", "5", "enter")  # accuracy missing
        await until(pilot, lambda: "accuracy-error" in errors(app))
        assert errors(app)["accuracy-error"] == "Give 1-5."
        await pilot.press("3", "4", "2", *"hyvä lopetus", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen)
                    and app.screen is not conversation)  # fmt: skip
        await settle(pilot)
        following = app.screen
        assert isinstance(following, ConversationScreen)
        assert following.recording.summary.id == sample.record_ids[1]  # next, at once
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and "Scored 1 of 4" in screen_text(app)
        assert screen.done == {sample.record_ids[0]}
    register = await Register.open(config, REVIEWER, environ={})
    try:
        again = await register.coaching.draw(sample.spec)
        assert again.record_ids == sample.record_ids  # the same seed draws the same
        (given,) = await register.coaching.scores(sample.id)
        assert dict(given.score.scores) == {"greeting": 4, "understanding": 5, "accuracy": 3,
                                            "empathy": 4, "closing": 2}  # fmt: skip
        assert given.score.comment == "hyvä lopetus"
    finally:
        await register.close()
    events = audit_events(config)
    opened = [e for e in events if e["action"] == "record.open" and e["actor"] == REVIEWER_LOGIN]
    assert [e["purpose"] for e in opened] == ["quality", "quality"]
    assert any(e["action"] == "sample.score" for e in events)


async def test_the_admin_reads_samples_but_draws_and_scores_none(
    config: Config, make_app: AppFactory
) -> None:
    app = make_app(identity=ADMIN)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SamplesScreen)
        await pilot.press("n", "enter")
        await settle(pilot)
        assert app.screen is screen and "New sample" not in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, BrowseScreen)


async def test_the_keys_are_in_help_in_finnish(make_app: AppFactory) -> None:
    app = make_app(identity=REVIEWER, language="fi")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        shown = screen_text(app)
        assert "Uusi otos" in shown and "Käy läpi" in shown
        await pilot.press("escape", "n")
        await until(pilot, lambda: isinstance(app.screen, DrawForm))
        shown = screen_text(app)
        assert "Agenttia kohden" in shown and "Siemen" in shown and "Enter tallentaa" in shown


async def test_help_leaves_out_what_the_roles_do_not_permit(make_app: AppFactory) -> None:
    app = make_app(identity=REVIEWER)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        shown = screen_text(app)
        assert "Samples" in shown and "Tag" in shown
        assert "Cases" not in shown and "Audit log" not in shown and "Link to a case" not in shown


async def test_scores_typed_ahead_are_not_lost(config: Config, make_app: AppFactory) -> None:
    """Keys typed faster than the focus moves all reach the first criterion (as over a slow
    SSH link, or pasted): each goes on to the field it was meant for."""
    from datetime import date

    from textual import events
    from textual.widgets import Input

    from kaiku_tui.domain.annotation import SampleSpec
    from kaiku_tui.domain.dates import day_start

    register = await Register.open(config, REVIEWER, environ={})
    try:
        spec = SampleSpec(("Aino Agentti",), day_start(date(2026, 11, 1)),
                          day_start(date(2026, 11, 28)), per_agent=1, seed=3)  # fmt: skip
        sample = await register.coaching.draw(spec)
    finally:
        await register.close()
    app = make_app(identity=REVIEWER)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.register is not None
        form = ScoreForm(app.register, app.texts, sample, sample.record_ids[0])
        await app.push_screen(form)
        await settle(pilot)
        first = form.query_one("#greeting", Input)
        for char in "45342ok":
            first.post_message(events.Key(char, char))
        await settle(pilot)
        values = {
            name: form.query_one(f"#{name}", Input).value
            for name in ("greeting", "understanding", "accuracy", "empathy", "closing", "comment")
        }
        assert values == {"greeting": "4", "understanding": "5", "accuracy": "3",
                          "empathy": "4", "closing": "2", "comment": "ok"}  # fmt: skip
