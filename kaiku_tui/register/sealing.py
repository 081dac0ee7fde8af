"""Sealing and opening what the index keeps encrypted: transcripts, numbers, annotations.

A recording's transcript and phone number are sealed with its own record key.

Note texts and score comments are sealed with the recording's own key (as its
transcript is), so crypto-shredding a recording shreds what was written about
it. A feedback case spans recordings, so it has a key of its own, wrapped by
its organisation's key as a record key is (reference `ORG/case:REF`): findings
and resolution go with the organisation's key. The summary and the reference
stay in clear for lists — write no patient details there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from kaiku_tui.domain.annotation import (
    CRITERIA,
    Anchor,
    CaseStatus,
    CoachingSample,
    FeedbackCase,
    Note,
    NoteVersion,
    RecordedScore,
    SampleSpec,
    Score,
)
from kaiku_tui.domain.recording import Speaker, TranscriptLine
from kaiku_tui.index.records import StoredCase, StoredNote, StoredSample, StoredScore
from kaiku_tui.vault.fields import decrypt_field, encrypt_field
from kaiku_tui.vault.keys import RecordKey

NOTE_FIELD = "note"
COMMENT_FIELD = "score comment"


def record_ref(org: str, source_id: str) -> str:
    """The name of a record in every key's and ciphertext's associated data."""
    return f"{org}/{source_id}"


def seal_transcript(key: RecordKey, lines: Sequence[TranscriptLine]) -> bytes | None:
    if not lines:
        return None
    data = [{"at": x.at, "speaker": x.speaker, "role": x.role.value, "text": x.text} for x in lines]
    return encrypt_field(key, "transcript", json.dumps(data, ensure_ascii=False).encode())


def open_transcript(key: RecordKey, blob: bytes | None) -> tuple[TranscriptLine, ...]:
    if blob is None:
        return ()
    data = json.loads(decrypt_field(key, "transcript", blob))
    return tuple(
        TranscriptLine(float(x["at"]), str(x["speaker"]), Speaker(x["role"]), str(x["text"]))
        for x in data
    )


def open_field(key: RecordKey, field: str, blob: bytes | None) -> str | None:
    return None if blob is None else decrypt_field(key, field, blob).decode()


def case_key_ref(org: str, ref: str) -> str:
    """The case's name in its key's and fields' associated data (no record's: no 'case:')."""
    return f"{org}/case:{ref}"


def seal_text(key: RecordKey, field: str, text: str) -> bytes | None:
    return encrypt_field(key, field, text.encode("utf-8")) if text else None


def open_text(key: RecordKey | None, field: str, blob: bytes | None) -> str:
    if blob is None or key is None:
        return ""
    return decrypt_field(key, field, blob).decode("utf-8")


def notes_of(stored: Sequence[StoredNote], key: RecordKey) -> list[Note]:
    """Versions grouped into notes (the index returns them by note, then version)."""
    grouped: dict[int, list[NoteVersion]] = {}
    for v in stored:
        version = NoteVersion(
            v.note_id, v.version, v.record_id, v.author, v.written_at,
            open_text(key, NOTE_FIELD, v.text_enc), Anchor(v.at_s, v.message), v.withdrawn,
        )  # fmt: skip
        grouped.setdefault(v.note_id, []).append(version)
    return [Note(i, vs[0].record_id, tuple(vs)) for i, vs in grouped.items()]


def case_of(stored: StoredCase, key: RecordKey | None) -> FeedbackCase:
    """The case; findings and resolution decrypted when `key` is given (else left empty)."""
    return FeedbackCase(
        stored.id, stored.ref, stored.org, stored.received, stored.summary,
        CaseStatus(stored.status), stored.owner,
        open_text(key, "findings", stored.findings_enc),
        open_text(key, "resolution", stored.resolution_enc), stored.records,
    )  # fmt: skip


def scores_json(score: Score) -> str:
    return json.dumps(dict(score.scores), sort_keys=True)


def recorded_score(stored: StoredScore, key: RecordKey | None) -> RecordedScore:
    given = json.loads(stored.scores)
    scores = tuple((name, int(given[name])) for name in CRITERIA if name in given)
    comment = open_text(key, COMMENT_FIELD, stored.comment_enc)
    return RecordedScore(stored.scorer, stored.scored_at, Score(stored.record_id, scores, comment))


def sample_of(stored: StoredSample) -> CoachingSample:
    spec = SampleSpec.from_criteria(json.loads(stored.criteria))
    return CoachingSample(stored.id, stored.drawn_by, stored.drawn_at, spec, stored.record_ids)
