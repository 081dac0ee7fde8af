"""SVG snapshots of what a person sees at 80x24: browse, conversation, a form, scoring.

A snapshot is the SVG Textual exports of the screen. To accept a change on
purpose, run with KAIKU_UPDATE_SNAPSHOTS=1 and look at the new files (they
open in a browser) before committing them. A missing snapshot fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.pilot import Pilot

from kaiku_tui.domain.access import Identity
from kaiku_tui.domain.annotation import SampleSpec
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.case_forms import NewCaseForm
from kaiku_tui.ui.scoring import ScoreForm
from tests.ui.conftest import REVIEWER_LOGIN, AppFactory, build_register, started
from tests.ui.pilot import settle
from tests.ui.test_cases import errors, until

SNAPSHOTS = Path(__file__).parent / "snapshots"
SIZE = (80, 24)


@pytest.fixture
async def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the register's folder, so the status line says `data/index.sqlite3`."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def matches_snapshot(app: KaikuApp, name: str) -> None:
    svg = app.export_screenshot(title=name)
    path = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("KAIKU_UPDATE_SNAPSHOTS"):
        path.write_text(svg, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}: run with KAIKU_UPDATE_SNAPSHOTS=1"
    if svg != path.read_text(encoding="utf-8"):
        (path.parent / f"{name}.actual.svg").write_text(svg, encoding="utf-8")
        raise AssertionError(f"{name}: the screen changed; see {name}.actual.svg beside it")


async def open_chat(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("j", "enter")  # 26.11., a chat
    await pilot.pause()
    await pilot.press("down", "enter")  # purpose: feedback
    await settle(pilot)


@pytest.mark.parametrize("language", ["en", "fi"])
async def test_browse(here: Path, make_app: AppFactory, language: str) -> None:
    app = make_app(language=language, cfg=await build_register(here / "reg"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        matches_snapshot(app, f"browse-{language}")


async def test_purpose_prompt(here: Path, make_app: AppFactory) -> None:
    app = make_app(cfg=await build_register(here / "reg"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        matches_snapshot(app, "purpose")


async def test_conversation_chat(here: Path, make_app: AppFactory) -> None:
    app = make_app(cfg=await build_register(here / "reg"))
    async with app.run_test(size=SIZE) as pilot:
        await open_chat(pilot)
        matches_snapshot(app, "conversation-chat")


async def test_conversation_call_found(here: Path, make_app: AppFactory) -> None:
    app = make_app(cfg=await build_register(here / "reg"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("enter")  # purpose: verify
        await settle(pilot)
        await pilot.press("slash", *"hetki", "enter")
        await pilot.pause()
        matches_snapshot(app, "conversation-call-found")


async def test_new_case_form_with_an_error(here: Path, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NewCaseForm))
        await pilot.press(*"PAL 9", "enter")
        await until(pilot, lambda: "ref-error" in errors(app))
        matches_snapshot(app, "case-form-error")


async def test_score_form_in_finnish(here: Path, make_app: AppFactory) -> None:
    reviewer = Identity(REVIEWER_LOGIN)
    app = make_app(identity=reviewer, language="fi")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.register is not None
        spec = SampleSpec(("Aino Agentti",), started(1), started(27), 1, 7)
        await app.register.coaching.draw(spec)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScoreForm))
        await pilot.press("4", "5")
        await pilot.pause()
        matches_snapshot(app, "score-form-fi")
