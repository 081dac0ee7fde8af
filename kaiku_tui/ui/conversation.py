"""The conversation screen: one recording, opened for a purpose.

The register has already audited the opening; this screen only shows what it
returned: the metadata, then the chat or the call transcript, each message
drawn through the sanitiser (`safe.untrusted`) as plain text. Customer and
agent are set apart by side and colour, events are dimmed. For a call, a line
says where the player stands. `/` finds in the transcript, n and N step
through the matches; `r` reveals the phone number (asked of the register,
audited with the purpose).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import Worker

from kaiku_tui.audio.player import PlayedSpan, Player, PlayerEvent
from kaiku_tui.audio.sinks import choose_sink
from kaiku_tui.domain import phone as phones
from kaiku_tui.domain.access import Action, Purpose
from kaiku_tui.domain.annotation import Anchor, CoachingSample, Score
from kaiku_tui.domain.dates import fmt_date, fmt_duration, fmt_time, local
from kaiku_tui.domain.recording import Channel, Recording, Speaker, TranscriptLine
from kaiku_tui.register import Register
from kaiku_tui.register.recorded_audio import RecordingAudio
from kaiku_tui.ui.case_forms import choose_and_link
from kaiku_tui.ui.failures import pass_on_failure
from kaiku_tui.ui.footer import Footer
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.notes import NoteScreen, NotesScreen, notes_text
from kaiku_tui.ui.player import PlayerBar, spoken_line
from kaiku_tui.ui.premises import PremisesBanner
from kaiku_tui.ui.safe import untrusted
from kaiku_tui.ui.scoring import ScoreForm
from kaiku_tui.ui.screens import KaikuScreen
from kaiku_tui.ui.tags import choose_and_tag

_ROLE_KEY = {
    Speaker.CUSTOMER: "conv.customer",
    Speaker.AGENT: "conv.agent_role",
    Speaker.EVENT: "conv.event",
}


CHUNK = 2_000  # characters of one entry: a long message is drawn as several


def chunks(text: str, size: int = CHUNK) -> list[str]:
    """`text` in pieces of at most `size` characters, cut after whitespace where there is some.

    Textual renders a widget whole when any of its lines shows, so a 100 KB
    message in one widget costs a third of a second on every repaint; in pieces,
    only the pieces on screen are drawn.
    """
    pieces: list[str] = []
    while len(text) > size:
        cut = max(text.rfind(" ", size // 2, size), text.rfind("\n", size // 2, size)) + 1
        cut = cut or size
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text]


class TranscriptEntry(Static, can_focus=True):
    """One chat message or transcript line, or a piece of a long one; never markup.

    Focusable, so that a person can step through the lines (↑ ↓) and start
    the call's audio at one (Enter, or a click).
    """

    BINDINGS = [
        Binding("enter", "jump", "bind.jump", id="transcript.jump"),
        Binding("down,j", "app.focus_next", "bind.down", show=False, id="transcript.down"),
        Binding("up,k", "app.focus_previous", "bind.up", show=False, id="transcript.up"),
    ]

    @dataclass
    class Chosen(Message):
        line: TranscriptLine

    DEFAULT_CSS = """
    TranscriptEntry { margin: 0 12 1 0; padding: 0 1; border-left: thick $primary; }
    TranscriptEntry.-agent { margin: 0 0 1 12; border-left: none; border-right: thick $success; }
    TranscriptEntry.-event {
        margin: 0 6 1 6; border-left: none; color: $text-muted; text-style: italic;
    }
    TranscriptEntry.-more { margin-bottom: 0; }
    TranscriptEntry.-match { background: $warning 15%; }
    TranscriptEntry.-current { background: $warning 40%; }
    TranscriptEntry.-spoken { background: $accent 30%; }
    TranscriptEntry:focus { text-style: bold; }
    """

    def __init__(
        self,
        line: TranscriptLine,
        when: str,
        texts: Texts,
        *,
        piece: int = 0,
        text: str | None = None,
        more: bool = False,
    ) -> None:
        """A long line comes in pieces: `piece` numbers them, `more` says one follows."""
        super().__init__(classes=f"-{line.role.value}" + (" -more" if more else ""))
        self.line = line
        self.when = when
        self.texts = texts
        self.piece = piece
        self.text = line.text if text is None else text
        self.show(None)

    def show(self, term: str | None) -> None:
        body = untrusted(self.text)
        if term:
            body.highlight_words([term], style="reverse", case_sensitive=False)
        self.update(body if self.piece else self._head() + Text("\n") + body)

    def action_jump(self) -> None:
        self.post_message(self.Chosen(self.line))

    def on_click(self) -> None:
        self.action_jump()

    def _head(self) -> Text:
        head = Text(f"{self.when}  ", style="bold")
        role = self.texts(_ROLE_KEY[self.line.role])
        head.append(role, style="bold")
        named = self.line.speaker.strip().casefold() not in ("", role.casefold())
        if named and self.line.role is not Speaker.EVENT:
            head.append(" · ")
            head.append_text(untrusted(self.line.speaker, keep_newlines=False))
        return head


def _unnamed(recording: Recording, texts: Texts) -> Recording:
    """The recording as shown to the customer at the premises: the staff's names left out,
    as in the access copy (GDPR art. 15(4): the copy must not reveal others' data)."""
    staff = texts("conv.agent_role")
    lines = tuple(
        replace(line, speaker=staff) if line.role is Speaker.AGENT else line
        for line in recording.transcript
    )
    summary = replace(recording.summary, agent=staff)
    return replace(recording, summary=summary, transcript=lines)


class ConversationScreen(KaikuScreen[bool | None]):
    """One recording. Opened from a coaching sample it can be scored (`s`), and closes
    with True when it was."""

    BINDINGS = [
        Binding("escape,q", "back", "bind.back", id="conversation.back"),
        Binding("slash", "find", "bind.find", id="conversation.find"),
        Binding("n", "step(1)", "bind.next", id="conversation.next"),
        Binding("N", "step(-1)", "bind.previous", id="conversation.previous"),
        Binding("r", "reveal", "bind.reveal", id="conversation.reveal"),
        Binding("space", "listen", "bind.listen", id="conversation.listen"),
        Binding("t", "tag", "bind.tag", id="conversation.tag"),
        Binding("o", "note", "bind.note", id="conversation.note"),
        Binding("v", "notes", "bind.notes", id="conversation.notes"),
        Binding("f", "link_case", "bind.link_case", id="conversation.link_case"),
        Binding("s", "score", "bind.score", id="conversation.score"),
        Binding("j,down", "scroll(1)", "bind.down", show=False, id="conversation.down"),
        Binding("k,up", "scroll(-1)", "bind.up", show=False, id="conversation.up"),
    ]
    DEFAULT_CSS = """
    ConversationScreen #meta { height: auto; padding: 0 1; background: $panel; }
    ConversationScreen #player { height: 1; padding: 0 1; color: $text-muted; }
    ConversationScreen #notes { height: auto; max-height: 5; padding: 0 1; display: none; }
    ConversationScreen #notes.-some { display: block; }
    ConversationScreen #transcript { height: 1fr; padding: 0 1; }
    ConversationScreen #find { dock: bottom; display: none; }
    ConversationScreen #find.-shown { display: block; }
    ConversationScreen #found { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(
        self,
        register: Register,
        texts: Texts,
        recording: Recording,
        purpose: Purpose,
        sample: CoachingSample | None = None,
    ) -> None:
        super().__init__()
        self.register = register
        self.texts = texts
        self.recording = recording if register.premises is None else _unnamed(recording, texts)
        self.purpose = purpose
        self.sample = sample  # opened to be scored in this coaching sample
        self.phone: str | None = None
        self.matches: list[int] = []
        self.current = -1
        self.audio: RecordingAudio | None = None
        self._spoken: int | None = None

    def compose(self) -> ComposeResult:
        yield PremisesBanner(self.register, self.texts)
        yield Static(self._meta(), id="meta")
        yield Static(id="notes")
        if self.recording.summary.channel is Channel.CALL:
            yield Static(Text(self._player()), id="player")
        with VerticalScroll(id="transcript"):
            lines = self.recording.transcript
            if not lines:
                yield Static(Text(self.texts("conv.no_transcript")))
            for line in lines:
                yield from self._entries(line)
        yield Static(id="found")
        yield Input(placeholder=self.texts("find.placeholder"), id="find", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#transcript").focus()
        self.load_notes()

    # -- what is shown -------------------------------------------------------------

    def _meta(self) -> Text:
        t, s = self.texts, self.recording.summary
        kind = t("conv.call" if s.channel is Channel.CALL else "conv.chat")
        number = phones.display(self.phone) if self.phone else s.phone_masked or "–"
        rows = [
            (kind, f"#{s.id} · {t(f'direction.{s.direction.value}')}"),
            (t("conv.started"), f"{fmt_date(s.started_at)} {fmt_time(s.started_at)}"),
            (t("conv.duration"), fmt_duration(s.duration_s)),
            (t("conv.org"), s.org),
            (t("conv.agent"), s.agent),
            (t("conv.queue"), s.queue),
            (t("conv.phone"), number),
            (t("conv.purpose"), t(f"purpose.{self.purpose.value}")),
            (t("conv.tags"), " ".join(s.tags) or "–"),
        ]
        if self.recording.legal_hold:  # kept past its date, and only for the hold's purpose
            rows.append((t("conv.hold"), t("conv.held")))
        out = Text()
        for i, (label, value) in enumerate(rows):
            out.append(f"{label}: ", style="bold")
            out.append_text(untrusted(value, keep_newlines=False))
            out.append("\n" if i % 3 == 2 and i < len(rows) - 1 else "   ")
        return out

    # -- listening -----------------------------------------------------------------

    @property
    def player(self) -> PlayerBar | None:
        found = self.query(PlayerBar)
        return found.first() if found else None

    def action_listen(self, at: float | None = None) -> None:
        """Space: the first time, open the audio (audited) and put the player in place."""
        summary = self.recording.summary
        if summary.channel is not Channel.CALL or not summary.has_audio:
            return
        bar = self.player
        if bar is None:
            self.open_player(at)
        elif at is not None:
            bar.seek_to(at)
        else:
            bar.action_play_pause()

    @work(exclusive=True, group="audio", exit_on_error=False)
    async def open_player(self, at: float | None) -> None:
        record_id = self.recording.summary.id
        audio = await self.register.recordings.open_audio(record_id, self.purpose)
        self.audio = audio
        sink = choose_sink(self.register.config.audio_sink)

        def make(on_event: Callable[[PlayerEvent], None]) -> Player:
            return Player(audio, sink, on_event, name=f"recording {record_id}")

        bar = PlayerBar(make, self.texts)
        await self.query_one("#player").remove()
        await self.mount(bar, before="#transcript")
        bar.focus()
        if at is not None:
            bar.seek_to(at)
        bar.action_play_pause()

    @on(TranscriptEntry.Chosen)
    def _line_chosen(self, event: TranscriptEntry.Chosen) -> None:
        self.action_listen(event.line.at)

    @on(PlayerBar.Played)
    def _played(self, event: PlayerBar.Played) -> None:
        bar = self.player
        if bar is not None and bar.taken(event.span):
            self._audit_spans([event.span])

    @on(PlayerBar.Moved)
    def _follow(self, event: PlayerBar.Moved) -> None:
        """The line being spoken is highlighted and kept in view."""
        lines = self.recording.transcript
        spoken = spoken_line([line.at for line in lines], event.position_s)
        if spoken == self._spoken:
            return
        self._spoken = spoken
        first: TranscriptEntry | None = None
        for entry in self.query(TranscriptEntry):
            now = spoken is not None and entry.line is lines[spoken]
            entry.set_class(now, "-spoken")
            first = entry if now and first is None else first
        if first is not None:
            self.query_one("#transcript", VerticalScroll).scroll_to_widget(first, animate=False)

    def _audit_spans(self, spans: list[PlayedSpan], audio: RecordingAudio | None = None) -> None:
        """Each heard span becomes an `audio.played` event. On the app, so that leaving the
        screen does not cancel it; the audio is closed after the last span is written."""
        register, record_id, purpose = self.register, self.recording.summary.id, self.purpose

        async def audit() -> None:
            try:
                for span in spans:
                    await register.recordings.audio_played(
                        record_id, purpose, span.start_s, span.end_s
                    )
            finally:
                if audio is not None:
                    await asyncio.to_thread(audio.close)

        self.app.run_worker(audit(), group="audio-spans", exit_on_error=False)

    def _stop_listening(self) -> None:
        bar = self.player
        spans = bar.stop() if bar is not None else []
        audio, self.audio = self.audio, None
        if spans or audio is not None:
            self._audit_spans(spans, audio)

    def on_unmount(self) -> None:
        self._stop_listening()

    def _entries(self, line: TranscriptLine) -> list[TranscriptEntry]:
        when, pieces = self._when(line), chunks(line.text)
        if len(pieces) == 1:
            return [TranscriptEntry(line, when, self.texts)]
        return [
            TranscriptEntry(line, when, self.texts, piece=i, text=t, more=i < len(pieces) - 1)
            for i, t in enumerate(pieces)
        ]

    def _player(self) -> str:
        state = "conv.audio_yes" if self.recording.summary.has_audio else "conv.audio_no"
        return self.texts("conv.player", state=self.texts(state))

    def _when(self, line: TranscriptLine) -> str:
        """Chats by the clock, calls by the position in the recording."""
        if self.recording.summary.channel is Channel.CHAT:
            return local(self.recording.summary.started_at + int(line.at)).strftime("%H:%M:%S")
        return fmt_duration(int(line.at))

    # -- find ----------------------------------------------------------------------

    def action_find(self) -> None:
        box = self.query_one("#find", Input)
        box.add_class("-shown")
        box.focus()

    @on(Input.Submitted, "#find")
    def _find(self, event: Input.Submitted) -> None:
        term = event.value.strip()
        messages = list(self.query(TranscriptEntry))
        self.matches = [
            i for i, m in enumerate(messages) if term and term.casefold() in m.text.casefold()
        ]
        for i, message in enumerate(messages):
            message.show(term if i in self.matches else None)
            message.set_class(i in self.matches, "-match")
        self.current = -1
        found = self.query_one("#found", Static)
        if term and not self.matches:
            found.update(untrusted(self.texts("find.none", text=term), keep_newlines=False))
        else:
            found.update(Text(self.texts("find.count", n=len(self.matches)) if term else ""))
        event.input.remove_class("-shown")
        self.query_one("#transcript").focus()
        self.action_step(1)

    def action_step(self, direction: int) -> None:
        if not self.matches:
            return
        messages = list(self.query(TranscriptEntry))
        if 0 <= self.current < len(self.matches):
            messages[self.matches[self.current]].remove_class("-current")
        self.current = (self.current + direction) % len(self.matches)
        target = messages[self.matches[self.current]]
        target.add_class("-current")
        self.query_one("#transcript", VerticalScroll).scroll_to_widget(target, animate=False)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#transcript", VerticalScroll).scroll_relative(y=lines, animate=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        pass_on_failure(self, event)

    # -- actions -------------------------------------------------------------------

    def action_back(self) -> None:
        box = self.query_one("#find", Input)
        if box.has_class("-shown"):
            box.remove_class("-shown")
            self.query_one("#transcript").focus()
            return
        self._stop_listening()
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("tag", "note"):
            return self.register.may(Action.ANNOTATE)
        if action == "notes":
            return self.register.may(Action.ANNOTATION_READ)
        if action == "reveal":
            return self.register.may(Action.PHONE_REVEAL)
        if action == "listen":
            return self.register.may(Action.AUDIO_PLAY)
        if action == "link_case":
            return self.register.may(Action.CASE_MANAGE)
        if action == "score":
            return self.sample is not None and self.register.may(Action.ANNOTATE)
        return True

    def action_score(self) -> None:
        """The scoring form for this recording of the sample; saved, the screen closes."""
        if self.sample is not None:
            form = ScoreForm(self.register, self.texts, self.sample, self.recording.summary.id)
            self.app.push_screen(form, self._scored)

    def _scored(self, score: Score | None) -> None:
        if score is not None:
            self.notify(self.texts("score.saved"), markup=False)
            self._stop_listening()
            self.dismiss(True)

    @work(exclusive=True, group="link", exit_on_error=False)
    async def action_link_case(self) -> None:
        summary = self.recording.summary
        await choose_and_link(self.app, self.register, self.texts, summary.id, summary.org)

    def action_notes(self) -> None:
        """The notes with their histories: edit or withdraw one's own."""
        screen = NotesScreen(self.register, self.texts, self.recording.summary.id, self.purpose)
        self.app.push_screen(screen, self._notes_closed)

    def _notes_closed(self, _: None) -> None:
        self.load_notes()  # edited or withdrawn there: the line above the transcript follows

    @work(exclusive=True, group="notes", exit_on_error=False)
    async def load_notes(self) -> None:
        if not self.register.may(Action.ANNOTATION_READ):
            return
        notes = await self.register.notes.read(self.recording.summary.id, self.purpose)
        shown = self.query_one("#notes", Static)
        shown.update(notes_text(notes, self.texts))
        shown.set_class(bool(notes), "-some")

    def _anchor(self) -> Anchor:
        """What the person is on: a focused transcript line, else the player, else the whole."""
        focused = self.focused
        if isinstance(focused, TranscriptEntry):
            if self.recording.summary.channel is Channel.CHAT:
                return Anchor(message=self.recording.transcript.index(focused.line))
            return Anchor(at_s=focused.line.at)
        bar = self.player
        if bar is not None:
            return Anchor(at_s=round(bar.position, 1))
        return Anchor()

    @work(exclusive=True, group="note", exit_on_error=False)
    async def action_note(self) -> None:
        anchor = self._anchor()
        text = await self.app.push_screen_wait(NoteScreen(self.texts, anchor))
        if text is None:
            return
        await self.register.notes.add(self.recording.summary.id, text, anchor, self.purpose)
        self.notify(self.texts("notes.added"), markup=False)
        self.load_notes()

    @work(exclusive=True, group="tag", exit_on_error=False)
    async def action_tag(self) -> None:
        summary = self.recording.summary
        changed = await choose_and_tag(self.app, self.register, self.texts, summary, self.purpose)
        if changed is not None:
            self.recording = replace(self.recording, summary=changed)
            self.query_one("#meta", Static).update(self._meta())

    @work(exclusive=True, group="reveal", exit_on_error=False)
    async def action_reveal(self) -> None:
        number = await self.register.recordings.reveal_phone(
            self.recording.summary.id, self.purpose
        )
        self.phone = number
        self.query_one("#meta", Static).update(self._meta())
        self.notify(self.texts("conv.revealed" if number else "conv.withheld"), markup=False)
