"""The register's annotation facets: timestamped notes and coaching tags (reviewers
and supervisors).

A note is sealed with its recording's key (sealing.py), so destroying the
recording destroys what was written about it. A note is never changed in
place: an edit or a withdrawal is a new version, and the history stays for
admin and DPO.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kaiku_tui.domain.access import Action, Purpose
from kaiku_tui.domain.annotation import (
    Anchor,
    Note,
    TagCount,
    check_note_text,
    check_tag,
    is_managed,
    vocabulary,
)
from kaiku_tui.errors import NotFound, UsageError, VaultError
from kaiku_tui.index.protocols import Annotations
from kaiku_tui.index.records import StoredNote, StoredRecording
from kaiku_tui.register import sealing
from kaiku_tui.register.gate import Gate, now, record_fields
from kaiku_tui.vault.keys import RecordKey

QUALITY = Purpose.QUALITY  # annotating is quality work unless a caller says otherwise
_WHOLE = Anchor()  # a note on the whole recording


class Notes:
    def __init__(self, gate: Gate, index: Annotations) -> None:
        self._gate = gate
        self._index = index

    async def read(self, record_id: int, purpose: Purpose) -> list[Note]:
        """The recording's notes with their histories; withdrawn ones only for those who
        may read them (admin, DPO). Audited as `note.read`."""
        stored = await self._gate.recording(Action.ANNOTATION_READ, record_id, purpose)
        fields = record_fields(stored, purpose)
        notes = await self._open(stored, await self._index.notes(record_id), fields)
        if not self._gate.person.may(Action.WITHDRAWN_READ):
            notes = [n for n in notes if not n.withdrawn]
        await self._gate.audit("note.read", **fields, result_count=len(notes))
        return notes

    async def add(
        self, record_id: int, text: str, anchor: Anchor = _WHOLE, purpose: Purpose = QUALITY
    ) -> Note:
        body = check_note_text(text)
        stored = await self._gate.recording(Action.ANNOTATE, record_id, purpose)
        version = StoredNote(0, 1, record_id, self._gate.person.login, now(), anchor.at_s,
                             anchor.message, False, None)  # fmt: skip
        return await self._write(stored, version, body, "note.add", purpose)

    async def edit(self, note_id: int, text: str, purpose: Purpose = QUALITY) -> Note:
        """A new version with the new text at the same place; only by the note's author,
        and not after it was withdrawn."""
        body = check_note_text(text)
        stored, last = await self._own(note_id, "note.edit", purpose)
        if last.withdrawn:  # final: what was withdrawn is not quietly brought back
            raise UsageError(f"note {note_id} is withdrawn; write a new note instead")
        version = replace(last, version=last.version + 1, written_at=now(), withdrawn=False)
        return await self._write(stored, version, body, "note.edit", purpose)

    async def withdraw(self, note_id: int, purpose: Purpose = QUALITY) -> Note:
        """A withdrawing version (no text); the history stays, for admin and DPO."""
        stored, last = await self._own(note_id, "note.withdraw", purpose)
        if last.withdrawn:
            raise UsageError(f"note {note_id} is withdrawn already")
        version = replace(last, version=last.version + 1, written_at=now(), withdrawn=True)
        return await self._write(stored, version, "", "note.withdraw", purpose)

    async def _own(
        self, note_id: int, action: str, purpose: Purpose
    ) -> tuple[StoredRecording, StoredNote]:
        history = await self._index.note_history(note_id)
        if not history:
            await self._gate.authorize(Action.ANNOTATE, target=f"note:{note_id}")
            err = NotFound(f"note {note_id} does not exist")
            await self._gate.failed(Action.ANNOTATE, err, target=f"note:{note_id}")
            raise err
        stored = await self._gate.recording(Action.ANNOTATE, history[0].record_id, purpose)
        if history[0].author != self._gate.person.login:
            message = f"note {note_id} is {history[0].author}'s: nobody edits another's note"
            fields = record_fields(stored, purpose)
            await self._gate.deny(action, "not the author", message, **fields)
        return stored, history[-1]

    async def _write(
        self, stored: StoredRecording, version: StoredNote, body: str, action: str, p: Purpose
    ) -> Note:
        fields = record_fields(stored, p)
        key = await record_key_or_fail(self._gate, stored, Action.ANNOTATE, fields)
        sealed = replace(version, text_enc=sealing.seal_text(key, sealing.NOTE_FIELD, body))
        anchor = {"at_s": version.at_s, "message": version.message, "version": version.version}
        if version.note_id:
            anchor["note"] = version.note_id
        event = self._gate.event(action, **fields, criteria=anchor)
        note_id = await self._index.add_note(sealed, event)
        await self._gate.counted()
        history = await self._index.note_history(note_id)
        return sealing.notes_of(history, key)[0]

    async def _open(
        self, stored: StoredRecording, versions: list[StoredNote], fields: dict[str, Any]
    ) -> list[Note]:
        if not versions:
            return []
        key = await record_key_or_fail(self._gate, stored, Action.ANNOTATION_READ, fields)
        try:
            return sealing.notes_of(versions, key)
        except VaultError as err:
            await self._gate.failed(Action.ANNOTATION_READ, err, **fields)
            raise


class Tags:
    """Tags live in recording_tag, the column the browse filter and `query --tag` read."""

    def __init__(self, gate: Gate, index: Annotations) -> None:
        self._gate = gate
        self._index = index

    async def add(self, record_id: int, tag: str, purpose: Purpose = QUALITY) -> bool:
        """True if the recording did not carry the tag before; audited either way."""
        return await self._set(record_id, check_tag(tag), True, purpose)

    async def remove(self, record_id: int, tag: str, purpose: Purpose = QUALITY) -> bool:
        return await self._set(record_id, check_tag(tag), False, purpose)

    async def _set(self, record_id: int, tag: str, present: bool, purpose: Purpose) -> bool:
        stored = await self._gate.recording(Action.ANNOTATE, record_id, purpose)
        action = "tag.add" if present else "tag.remove"
        criteria = {"tag": tag, "managed": is_managed(tag)}
        event = self._gate.event(action, **record_fields(stored, purpose), criteria=criteria)
        changed = await self._index.set_tag(record_id, tag, present, event)
        await self._gate.counted()
        return changed

    async def vocabulary(self) -> list[TagCount]:
        """The vocabulary: managed tags first, then free tags in use; counts in scope."""
        await self._gate.authorize(Action.ANNOTATION_READ)
        counts = await self._index.tag_counts(self._gate.person.orgs)
        await self._gate.audit("tag.list", result_count=len(counts))
        return vocabulary(counts)


async def record_key_or_fail(
    gate: Gate, stored: StoredRecording, action: Action, fields: dict[str, Any]
) -> RecordKey:
    """The recording's key; a destroyed or broken one is audited as the action's error."""
    try:
        return await gate.keys.record_key(stored)
    except VaultError as err:
        await gate.failed(action, err, **fields)
        raise
