"""KaikuApp: wires the screens to one Register and owns its lifecycle.

The register is opened on mount (in the app's own event loop: its
connections belong to it) by the `opener` the command line or a test gives,
and closed on unmount. A refusal to open (not a named person, a wrong key, no
index) ends the app with the error's message and exit code, never a
traceback. Afterwards, one handler turns every failed worker into a notice
that says what to do, and the app goes on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date

from rich.text import Text
from textual import on
from textual.actions import parse
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter, Monochrome, NoColor
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker

from kaiku_tui.domain.access import Action, Purpose
from kaiku_tui.domain.text import sanitise
from kaiku_tui.errors import AccessDenied, AuditFailure, KaikuError, StoreError, UsageError
from kaiku_tui.register import Register
from kaiku_tui.ui.bindings import described, translated
from kaiku_tui.ui.browse import BrowseScreen
from kaiku_tui.ui.cases import CasesScreen
from kaiku_tui.ui.conversation import ConversationScreen
from kaiku_tui.ui.failures import WorkFailed, pass_on_failure
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.modals import HelpScreen
from kaiku_tui.ui.safe import untrusted
from kaiku_tui.ui.textual_compat import bindings_of

Opener = Callable[[], Awaitable[Register]]

_NO_COLOR = NoColor()


class KaikuApp(App[None]):
    TITLE = "kaiku-tui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("question_mark", "help", "bind.help", id="app.help"),
        Binding("ctrl+q", "quit", "bind.quit", id="app.quit"),
        # Textual's own palette key, declared here for its words and its id.
        Binding(
            App.COMMAND_PALETTE_BINDING,
            "command_palette",
            "bind.palette",
            show=False,
            key_display=App.COMMAND_PALETTE_DISPLAY,
            priority=True,
            tooltip="Open the command palette",
            id="app.command_palette",
        ),
    ]
    CSS = """
    #opening { width: 100%; height: 100%; content-align: center middle; }
    """

    def __init__(
        self, opener: Opener, texts: Texts, today: Callable[[], date] | None = None
    ) -> None:
        super().__init__()
        # No animation: over SSH every frame of a smooth scroll is bytes on a slow link,
        # and a scroll should land where it goes at once.
        self.animation_level = "none"
        self.opener = opener
        self.texts = texts
        self.today = today
        self.register: Register | None = None
        self.purposes: dict[int, Purpose] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text(self.texts("app.opening")), id="opening")

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Under NO_COLOR, no colour at all (no-color.org).

        Textual's own answer to NO_COLOR is shades of grey (`Monochrome`, unless
        the theme is ANSI). Emphasis (bold, reverse) still marks what matters.
        """
        filters = super().get_line_filters()
        if not self.no_color:
            return filters
        kept = [f for f in filters if not isinstance(f, Monochrome | NoColor)]
        return [*kept, _NO_COLOR]

    async def on_mount(self) -> None:
        try:
            self.register = await self.opener()
            person = self.register.person
            orgs = await self.register.orgs.listing() if self.register.may(Action.ORG_READ) else []
        except KaikuError as err:
            message = untrusted(f"kaiku-tui: {err}", keep_newlines=False)
            self.exit(return_code=err.exit_code, message=message)
            return
        visible = [o for o in orgs if person.sees_org(o.code)]
        self.push_screen(
            BrowseScreen(self.register, self.texts, visible, self.purposes, self.today)
        )

    async def on_unmount(self) -> None:
        if self.register is not None:
            try:
                if self.register.premises is not None:
                    await self.register.subjects.end_premises_review()
            finally:
                await self.register.close()

    @on(BrowseScreen.Opened)
    @on(CasesScreen.Opened)
    def _opened(self, event: BrowseScreen.Opened | CasesScreen.Opened) -> None:
        assert self.register is not None
        screen = ConversationScreen(self.register, self.texts, event.recording, event.purpose)
        self.push_screen(screen)

    # -- errors --------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        pass_on_failure(self, event)

    @on(WorkFailed)
    def _work_failed(self, event: WorkFailed) -> None:
        error = event.error
        if isinstance(error, KaikuError):
            self.notify(sanitise(self._explain(error)), severity="error", timeout=10, markup=False)
        else:
            self.log.error(repr(error))
            message = f"{type(error).__name__}: {error}. {self.texts('error.what_to_do')}"
            self.notify(sanitise(message), severity="error", timeout=10, markup=False)

    def _explain(self, error: KaikuError) -> str:
        text = str(error)
        if isinstance(error, AccessDenied):
            return self.texts("error.denied", error=text)
        if isinstance(error, AuditFailure):
            return self.texts("error.audit", error=text)
        if isinstance(error, StoreError):
            return f"{self.texts('error.index', error=text)} {self.texts('error.what_to_do')}"
        if isinstance(error, UsageError):
            return self.texts("error.input", error=text)
        return f"{text}. {self.texts('error.what_to_do')}"

    # -- keys ----------------------------------------------------------------------

    def keys_here(self, screen: Screen[object]) -> list[tuple[str, str]]:
        """Every key of ours on the screen, its widgets and the app: (keys, what they do).

        Ours are those whose words come from the catalogue; Textual's own widgets
        (an input's cursor keys, a select's menu) do what they always do, and
        listing them would bury ours. Keys doing the same thing share a line.
        A key the person's roles do not permit (`check_action` False) is left
        out, as the footer leaves it out; one that is only off for now stays.
        """
        words = self.texts.words()
        keys: dict[str, list[str]] = {}
        for node in [*screen.walk_children(with_self=True), self]:
            for binding in bindings_of(node):
                namespace, action, parameters = parse(binding.action)
                if not namespace and node.check_action(action, parameters) is False:
                    continue
                # A Textual widget's key whose words happen to be ours ("Top" for a
                # DataTable's ctrl+home, in English) is listed too, as it always was.
                description = described(binding, self.texts) or (
                    binding.description if binding.description in words else None
                )
                if description is not None:
                    shown = keys.setdefault(description, [])
                    key = self.get_key_display(binding)
                    if key not in shown:
                        shown.append(key)
        return [(" ".join(k), description) for description, k in keys.items()]

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.texts, self.keys_here(self.screen)))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every action with a key is in the palette too, in the person's language."""
        yield from super().get_system_commands(screen)
        for active in screen.active_bindings.values():
            binding = translated(active.binding, self.texts)
            if not binding.description or binding.action == "command_palette":
                continue
            action = binding.action
            node = active.node

            async def run(node: object = node, action: str = action) -> None:
                await self.run_action(action, node)  # type: ignore[arg-type]

            key = self.get_key_display(binding)
            yield SystemCommand(binding.description, key, run)
