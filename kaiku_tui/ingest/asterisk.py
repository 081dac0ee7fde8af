"""An Asterisk export: the CDR file, the recordings beside it, and their transcripts.

Each answered external call of the CDR (`cdr.read_cdr`) becomes a recording
once its WAV is found and checked (`recordings`), and its WebVTT transcript,
if there is one, is read (`webvtt`). A call whose recording is missing, empty,
truncated or unreadable, or whose transcript is damaged, is rejected with the
CDR's file:line and the reason; nothing of it is imported. A call with no
transcript file is imported without one.

Pure: no register, no database. The calls come out one at a time, so a
million-line export is never held as recordings in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kaiku_tui.domain.recording import Channel, Direction, NewRecording, TranscriptLine
from kaiku_tui.ingest.cdr import CdrCall, CdrReport, Rejected
from kaiku_tui.ingest.recordings import RecordingFolder, RecordingProblem, check_wav
from kaiku_tui.ingest.webvtt import VttError, read_vtt, transcript_lines

__all__ = ["AsteriskExport", "call_recordings"]


@dataclass(frozen=True)
class AsteriskExport:
    cdr: Path
    report: CdrReport
    folder: RecordingFolder
    org: str


def call_recordings(export: AsteriskExport) -> Iterator[NewRecording | Rejected]:
    """Each call of the CDR as a recording to add, or as a rejection, in file order."""
    for call in export.report.calls:
        try:
            yield _recording(export, call)
        except (RecordingProblem, VttError) as problem:
            yield Rejected(export.cdr, call.line, str(problem))


def _recording(export: AsteriskExport, call: CdrCall) -> NewRecording:
    wav = export.folder.find(call.uniqueid)
    audio, _fmt = check_wav(wav)
    return NewRecording(
        org=export.org,
        channel=Channel.CALL,
        direction=call.direction,
        started_at=call.started_at,
        duration_s=call.duration_s,
        agent=call.agent,
        queue=call.queue,
        source_id=call.uniqueid,
        phone=call.customer_e164,
        transcript=_transcript(wav.with_suffix(".vtt"), call),
        audio=audio,
    )


def _transcript(path: Path, call: CdrCall) -> tuple[TranscriptLine, ...]:
    """The call's transcript if a `<stem>.vtt` lies beside the recording, else none.

    Sides: on an inbound call the caller id's name is the customer's; on an
    outbound call it is the agent's own (the agent's phone placed the call).
    """
    if not path.is_file():
        return ()
    inbound = call.direction is Direction.INBOUND
    name = (call.caller_name,) if call.caller_name else ()
    return transcript_lines(
        read_vtt(path),
        agent_names=(call.agent,) + (() if inbound else name),
        customer_names=name if inbound else (),
        agent_first=inbound,
    )
