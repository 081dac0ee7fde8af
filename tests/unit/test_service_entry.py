"""The doors' decision (kaiku_tui/service/entry.py), without a machine: who is asking, and
what `kaiku-tui` does about it. The real thing is tests/service/test_doors.py."""

from __future__ import annotations

import pwd
from pathlib import Path

import pytest

from kaiku_tui.service import entry
from kaiku_tui.service.doorfile import DoorFile
from kaiku_tui.service.entry import Local, ReExec, Refused, Through, decide

SERVICE = pwd.getpwnam("nobody").pw_uid  # the service account of these tests
PERSON = pwd.getpwnam("daemon").pw_uid  # a person's login, in its own primary group
DOOR = DoorFile(Path("/etc/kaiku-tui/door.toml"), "nobody", Path("/etc/kaiku-tui/config.toml"),
                Path("/opt/kaiku/bin/kaiku-tui"), "daemon")  # fmt: skip
SSH = {"SSH_CONNECTION": "192.0.2.7 50022 192.0.2.1 22"}


def test_no_installation_is_single_user_mode() -> None:
    assert decide(["query"], {}, PERSON, None) == Local()
    assert isinstance(decide(["door", "--person", "x"], SSH, SERVICE, None), Refused)


def test_a_person_is_re_executed_through_sudo() -> None:
    got = decide(["query", "--json"], {"PYTHONPATH": "/x"}, PERSON, DOOR)
    assert got == ReExec(["/usr/bin/sudo", "-n", "-u", "nobody", "/opt/kaiku/bin/kaiku-tui",
                          "query", "--json"])  # fmt: skip
    other = DoorFile(Path("/srv/door.toml"), *list(vars(DOOR).values())[1:])
    got = decide(["query"], {}, PERSON, other)
    assert isinstance(got, ReExec) and got.argv[5:8] == ["--door-file", "/srv/door.toml", "query"]


@pytest.mark.parametrize(
    "argv",
    [["--config", "/home/x/evil.toml", "query"], ["--config=/x", "query"], ["door", "--person",
     "admin1"], ["install", "--service-user", "root", "--admin", "x"], ["query", "--person=a"]],
)  # fmt: skip
def test_a_person_may_not_steer_the_service(argv: list[str]) -> None:
    assert isinstance(decide(argv, {}, PERSON, DOOR), Refused)
    assert isinstance(decide(argv, {"SUDO_UID": "0"}, SERVICE, DOOR), Refused)


def test_kaiku_config_and_the_wrong_group_are_refused() -> None:
    assert isinstance(decide(["query"], {"KAIKU_CONFIG": "/x"}, PERSON, DOOR), Refused)
    outsider = DoorFile(*list(vars(DOOR).values())[:4], "root")
    refused = decide(["query"], {}, PERSON, outsider)
    assert isinstance(refused, Refused) and "not in the group root" in refused.message


def test_the_sudo_door_names_the_login_of_sudo_uid() -> None:
    got = decide(["query"], {"SUDO_UID": str(PERSON), "USER": "root"}, SERVICE, DOOR)
    assert got == Through("sudo", "daemon", ["query"], DOOR.config)


def test_the_ssh_door_takes_the_command_through_shlex_and_an_allow_list() -> None:
    forced = ["door", "--person", "sari", "--key", "SHA256:abc"]
    tui = decide(forced, SSH, SERVICE, DOOR)
    assert tui == Through("ssh", "sari", [], DOOR.config, "SHA256:abc", "192.0.2.7",
                          "192.0.2.7:50022")  # fmt: skip
    one = decide(forced, {**SSH, "SSH_ORIGINAL_COMMAND": "query --from '01.11.2026' --json"},
                 SERVICE, DOOR)  # fmt: skip
    assert isinstance(one, Through) and one.argv == ["query", "--from", "01.11.2026", "--json"]
    refused = ("query; sh", "sh -c id", "door --person admin1", "--config /x query",
               "query --config=/x", "install", "ingest chatwoot /etc", "'unclosed")  # fmt: skip
    for command in refused:
        got = decide(forced, {**SSH, "SSH_ORIGINAL_COMMAND": command}, SERVICE, DOOR)
        assert isinstance(got, Refused), command


def test_the_door_is_sshds_alone() -> None:
    forced = ["door", "--person", "sari"]
    assert isinstance(decide(forced, {}, SERVICE, DOOR), Refused)  # no SSH_CONNECTION
    assert isinstance(decide(forced, {**SSH, "SUDO_UID": "0"}, SERVICE, DOOR), Refused)
    assert isinstance(decide(forced, SSH, 0, DOOR), Refused)  # root
    assert isinstance(decide(["door", "--person"], SSH, SERVICE, DOOR), Refused)
    assert isinstance(decide([*forced, "query"], SSH, SERVICE, DOOR), Refused)


def test_the_service_account_itself_uses_the_installations_config() -> None:
    assert decide(["audit", "verify"], {}, SERVICE, DOOR) == Local(DOOR.config)
    assert decide(["query"], {}, 0, DOOR) == Local()


def test_a_leading_door_file_is_split_off() -> None:
    assert entry.split_door_file(["--door-file", "/d", "query"]) == ("/d", ["query"])
    late = ["query", "--door-file", "/d"]
    assert entry.split_door_file(late) == (None, late)
