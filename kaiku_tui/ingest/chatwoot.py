"""Chatwoot conversation exports: one chat recording per conversation, with its transcript.

The shape is Chatwoot's API's (`GET /api/v1/accounts/{a}/conversations/{id}`
and its messages): a conversation object with `id`, `status`, `timestamp`,
`inbox_id`, `meta.sender` (the contact: `name`, `phone_number`, …),
`meta.assignee` (the agent) and `messages[]` of `{id, content, message_type,
created_at, private, sender, attachments}`. `message_type` is 0 incoming
(the customer), 1 outgoing (an agent), 2 activity (an event: assigned,
resolved, …), 3 template (a canned message sent to the customer).

A file may hold one conversation, a list of them, or the list endpoint's
`{"payload": [...]}` / `{"data": {"payload": [...]}}` wrapper.

Private messages are agents' internal notes: they are dropped here, before
anything is encrypted or stored, so no screen can ever show them as part of
the customer's transcript. The recording lasts from its first to its last
remaining message. A conversation that cannot be read as a whole is rejected
with the file, the key (`[0].messages[3].created_at`) and the reason; no
part of it is imported. The text is data: stored as it is, sanitised where
shown.

Pure: the only I/O is reading the files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kaiku_tui.domain.phone import try_normalise
from kaiku_tui.domain.recording import (
    Channel,
    Direction,
    NewRecording,
    Speaker,
    TranscriptLine,
)

__all__ = ["ChatRejected", "chat_recordings"]

_MAX_BYTES = 512 * 1024 * 1024
_ROLES = {0: Speaker.CUSTOMER, 1: Speaker.AGENT, 2: Speaker.EVENT, 3: Speaker.AGENT}
SOURCE_PREFIX = "chatwoot-"


@dataclass(frozen=True)
class ChatRejected:
    """A file or conversation not imported: the file, the key within it, and why."""

    path: Path
    key: str
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.path}: {self.key}: {self.reason}" if self.key else f"{self.path}: {self.reason}"
        )


class _Bad(Exception):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


def chat_recordings(paths: list[Path], org: str) -> Iterator[NewRecording | ChatRejected]:
    """Every conversation of every file, as a recording or a rejection, in file order."""
    for path in paths:
        try:
            found = _conversations(_load(path))
        except _Bad as bad:
            yield ChatRejected(path, bad.key, str(bad))
            continue
        for key, conversation in found:
            try:
                yield _recording(conversation, key, org)
            except _Bad as bad:
                yield ChatRejected(path, bad.key, str(bad))


def _load(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise _Bad("", f"cannot read ({exc.strerror or exc})") from None
    if len(raw) > _MAX_BYTES:
        raise _Bad("", f"is larger than {_MAX_BYTES // 2**20} MiB")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _Bad("", f"is not UTF-8 (byte 0x{raw[exc.start]:02x} at {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise _Bad("", f"is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def _conversations(data: Any) -> list[tuple[str, dict[str, Any]]]:
    """(key, conversation) for each conversation in whichever wrapper the file uses."""
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        return _listed(data["data"].get("payload"), "data.payload")
    if isinstance(data, dict) and "messages" not in data and "payload" in data:
        return _listed(data["payload"], "payload")
    if isinstance(data, dict):
        return [("$", data)]
    if isinstance(data, list):
        return _listed(data, "")
    raise _Bad("$", f"expected a conversation object or a list, found {_kind(data)}")


def _listed(items: Any, key: str) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(items, list):
        raise _Bad(key or "$", f"expected a list of conversations, found {_kind(items)}")
    return [(f"{key}[{i}]", item) for i, item in enumerate(items)]


def _recording(conversation: Any, key: str, org: str) -> NewRecording:
    if not isinstance(conversation, dict):
        raise _Bad(key, f"expected a conversation object, found {_kind(conversation)}")
    ident = _conversation_id(conversation.get("id"), f"{key}.id")
    meta = _object(conversation.get("meta"), f"{key}.meta")
    contact = _object(meta.get("sender"), f"{key}.meta.sender")
    assignee = _object(meta.get("assignee"), f"{key}.meta.assignee")
    messages = _messages(conversation.get("messages"), f"{key}.messages", contact, assignee)
    talk = [m for m in messages if m[2] is not Speaker.EVENT]
    if not talk:
        raise _Bad(f"{key}.messages", "no message to or from the customer (only notes or events)")
    first, last = messages[0][0], messages[-1][0]
    lines = tuple(
        TranscriptLine(float(at - first), who, role, text) for at, who, role, text in messages
    )
    agent = _text(assignee.get("name"), f"{key}.meta.assignee.name") or next(
        (who for _, who, role, _t in messages if role is Speaker.AGENT), ""
    )
    phone = _text(contact.get("phone_number"), f"{key}.meta.sender.phone_number")
    inbox = conversation.get("inbox_id")
    return NewRecording(
        org=org,
        channel=Channel.CHAT,
        direction=Direction.INBOUND if talk[0][2] is Speaker.CUSTOMER else Direction.OUTBOUND,
        started_at=int(first),
        duration_s=int(last - first),
        agent=agent,
        queue=f"inbox {inbox}" if isinstance(inbox, int) else "chatwoot",
        source_id=f"{SOURCE_PREFIX}{ident}",
        phone=try_normalise(phone) if phone else None,
        transcript=lines,
    )


Message = tuple[float, str, Speaker, str]


def _messages(
    items: Any, key: str, contact: dict[str, Any], assignee: dict[str, Any]
) -> list[Message]:
    """The messages the customer's transcript holds (private notes dropped), oldest first."""
    if not isinstance(items, list):
        raise _Bad(key, f"expected a list of messages, found {_kind(items)}")
    kept: list[Message] = []
    for i, item in enumerate(items):
        message = _message(item, f"{key}[{i}]", contact, assignee)
        if message is not None:
            kept.append(message)
    return sorted(kept, key=lambda m: m[0])


def _message(
    item: Any, key: str, contact: dict[str, Any], assignee: dict[str, Any]
) -> Message | None:
    if not isinstance(item, dict):
        raise _Bad(key, f"expected a message object, found {_kind(item)}")
    private = item.get("private", False)
    if not isinstance(private, bool):
        raise _Bad(f"{key}.private", f"expected true or false, found {_kind(private)}")
    kind = item.get("message_type")
    if isinstance(kind, bool) or kind not in _ROLES:
        raise _Bad(f"{key}.message_type", f"expected 0, 1, 2 or 3, found {kind!r:.40}")
    at = _epoch(item.get("created_at"), f"{key}.created_at")
    if private:
        return None  # an agent's internal note: never part of the customer's transcript
    role = _ROLES[kind]
    text = _text(item.get("content"), f"{key}.content") or _attachments(item)
    sender = _object(item.get("sender"), f"{key}.sender")
    who = _text(sender.get("name"), f"{key}.sender.name") or _default_name(role, contact, assignee)
    return at, who, role, text


def _default_name(role: Speaker, contact: dict[str, Any], assignee: dict[str, Any]) -> str:
    if role is Speaker.CUSTOMER:
        return str(contact.get("name") or "Asiakas")
    if role is Speaker.AGENT:
        return str(assignee.get("name") or "Agentti")
    return ""


def _attachments(item: dict[str, Any]) -> str:
    files = item.get("attachments")
    if isinstance(files, list) and files:
        kinds = sorted({str(f.get("file_type", "file")) for f in files if isinstance(f, dict)})
        return f"[attachment: {', '.join(kinds) or 'file'}]"
    return ""


def _conversation_id(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _Bad(key, f"expected the conversation's number, found {_kind(value)}")
    text = str(value).strip()
    if not text.isdigit() or not text.isascii():
        raise _Bad(key, f"expected the conversation's number, found {text!r:.40}")
    return int(text)


def _epoch(value: Any, key: str) -> float:
    """Epoch seconds (the API's form), or an ISO 8601 time with an offset (some exports)."""
    if isinstance(value, bool):
        raise _Bad(key, "expected epoch seconds, found a boolean")
    if isinstance(value, (int, float)) and 0 < value < 1e11:
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.timestamp()
    raise _Bad(key, f"expected epoch seconds or an ISO time with offset, found {value!r:.40}")


def _object(value: Any, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Bad(key, f"expected an object, found {_kind(value)}")
    return value


def _text(value: Any, key: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Bad(key, f"expected text, found {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "a boolean"}
    names |= {int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
