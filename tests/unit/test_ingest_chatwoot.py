"""Chatwoot conversation JSON: transcript, sides, private notes dropped, every bad input named."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kaiku_tui.domain.recording import Channel, Direction, NewRecording, Speaker
from kaiku_tui.ingest.chatwoot import ChatRejected, chat_recordings

FIXTURE = Path(__file__).parent.parent / "data" / "chatwoot" / "conversation-4711.json"


def conversation() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def read(tmp_path: Path, data: object, name: str = "c.json") -> list[NewRecording | ChatRejected]:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return list(chat_recordings([path], "ITU"))


def test_conversation_becomes_a_chat_with_its_transcript() -> None:
    (chat,) = chat_recordings([FIXTURE], "ITU")
    assert isinstance(chat, NewRecording)
    assert (chat.channel, chat.direction, chat.org) == (Channel.CHAT, Direction.INBOUND, "ITU")
    assert chat.source_id == "chatwoot-4711"
    assert (chat.started_at, chat.duration_s) == (1764150000, 1500)
    assert chat.agent == "Aino Virtanen" and chat.queue == "inbox 7"
    assert chat.phone == "+358401234567"
    got = [(x.at, x.speaker, x.role, x.text) for x in chat.transcript]
    customer = 'Pirjo "Pipsa" Äijälä'
    assert got == [
        (0.0, customer, Speaker.CUSTOMER, "Hei, haluaisin siirtää aikaani."),
        (30.0, "", Speaker.EVENT, "Conversation was assigned to Aino Virtanen"),
        (90.0, "Aino Virtanen", Speaker.AGENT, "Hei! Katsotaan. Mikä päivä sopisi?"),
        (200.0, customer, Speaker.CUSTOMER, "[attachment: image]"),
        (400.0, customer, Speaker.CUSTOMER, "Tiistai klo 10 sopii. \x1b[31mKiitos!"),  # data
        (1500.0, "", Speaker.EVENT, "Conversation was marked resolved by Aino Virtanen"),
    ]


def test_private_notes_are_never_in_the_transcript() -> None:
    (chat,) = chat_recordings([FIXTURE], "ITU")
    assert isinstance(chat, NewRecording)
    assert not any("1741590842" in x.text for x in chat.transcript)


def test_a_note_after_the_last_message_does_not_stretch_the_duration(tmp_path: Path) -> None:
    data = conversation()
    data["messages"].append({**data["messages"][3], "id": 99, "created_at": 1764159999})
    (chat,) = read(tmp_path, data)
    assert isinstance(chat, NewRecording) and chat.duration_s == 1500


def test_agent_started_conversation_is_outbound(tmp_path: Path) -> None:
    data = conversation()
    data["messages"][0]["message_type"] = 3  # a template sent to the customer first
    (chat,) = read(tmp_path, data)
    assert isinstance(chat, NewRecording) and chat.direction is Direction.OUTBOUND


def test_wrappers_lists_and_several_files(tmp_path: Path) -> None:
    one, two = conversation(), conversation()
    two["id"] = 4712
    assert len(read(tmp_path, [one, two])) == 2
    assert len(read(tmp_path, {"payload": [one, two]})) == 2
    found = read(tmp_path, {"data": {"meta": {}, "payload": [two]}})
    assert [c.source_id for c in found if isinstance(c, NewRecording)] == ["chatwoot-4712"]


def test_iso_times_and_missing_optional_parts(tmp_path: Path) -> None:
    data = conversation()
    data["meta"] = {}
    del data["inbox_id"]
    for m in data["messages"]:
        m["created_at"] = "2025-11-26T09:40:00Z" if m["id"] == 1 else m["created_at"]
        m.pop("sender", None)
    (chat,) = read(tmp_path, data)
    assert isinstance(chat, NewRecording)
    assert chat.phone is None and chat.queue == "chatwoot" and chat.agent == "Agentti"
    assert chat.started_at == 1764150000 and chat.transcript[0].speaker == "Asiakas"


def edit(path: str, value: object) -> dict[str, Any]:
    """The fixture with one value replaced (`messages.2.created_at`), or deleted (...)."""
    data = copy.deepcopy(conversation())
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    key: Any = int(last) if last.isdigit() else last
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return data


BAD = {
    "no_id": (edit("id", ...), "$.id", "expected the conversation's number, found null"),
    "id_text": (edit("id", "abc"), "$.id", "found 'abc'"),
    "messages_not_list": (edit("messages", {}), "$.messages", "expected a list of messages"),
    "message_not_object": (edit("messages.1", 5), "$.messages[1]", "expected a message object"),
    "bad_type": (edit("messages.2.message_type", 9), "$.messages[2].message_type", "found 9"),
    "bad_time": (edit("messages.2.created_at", "eilen"), "$.messages[2].created_at", "'eilen'"),
    "private_text": (edit("messages.0.private", "no"), "$.messages[0].private", "true or false"),
    "content_number": (edit("messages.0.content", 5), "$.messages[0].content", "expected text"),
    "sender_list": (edit("meta.sender", []), "$.meta.sender", "expected an object, found a list"),
    "only_notes": (
        edit("messages", [conversation()["messages"][3]]), "$.messages", "no message to or from",
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(BAD))
def test_each_bad_conversation_is_rejected_with_key_and_reason(tmp_path: Path, kind: str) -> None:
    data, key, reason = BAD[kind]
    good = conversation()
    good["id"] = 1
    found = read(tmp_path, [good, data])
    assert isinstance(found[0], NewRecording)
    rejected = found[1]
    assert isinstance(rejected, ChatRejected)
    shown = str(rejected)
    assert shown.startswith(f"{tmp_path / 'c.json'}: [1]{key[1:]}: "), shown
    assert reason in shown


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "is not JSON (Expecting property name"),
        (b"\xff\xfe{}", "is not UTF-8"),
        (b"42", "expected a conversation object or a list, found a number"),
        (b'{"payload": 3}', "payload: expected a list of conversations"),
    ],
)
def test_unusable_file_is_rejected_as_a_whole(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    (rejected,) = chat_recordings([path], "ITU")
    assert isinstance(rejected, ChatRejected) and reason in str(rejected)
    (missing,) = chat_recordings([tmp_path / "missing.json"], "ITU")
    assert isinstance(missing, ChatRejected) and "cannot read" in str(missing)
