"""The PostgreSQL keys of the configuration: `[index] password_file` and `[access] identity`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaiku_tui.config import load
from kaiku_tui.errors import ConfigError
from kaiku_tui.index.postgres_password import read_password_file

PG_URL = "postgresql://kaiku@db.example:5432/kaiku"
SECRET = "s3cret-Pässword"


def config_file(folder: Path, text: str) -> Path:
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def password_file(folder: Path, content: str, mode: int = 0o600) -> Path:
    path = folder / "db-password"
    path.write_text(content, encoding="utf-8")
    path.chmod(mode)
    return path


def test_password_file_is_a_path_relative_to_the_config(tmp_path: Path) -> None:
    path = config_file(tmp_path, f'[index]\nurl = "{PG_URL}"\npassword_file = "secrets/pw"\n')
    config = load(path)
    assert config.password_file == tmp_path / "secrets" / "pw"
    assert config.identity == "os"  # the default
    assert SECRET not in repr(config)


def test_no_password_file_by_default(tmp_path: Path) -> None:
    assert load(config_file(tmp_path, f'[index]\nurl = "{PG_URL}"\n')).password_file is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[index]\npassword_file = "pw"\n', "[index] password_file needs a postgresql://"),
        (
            '[access]\nidentity = "database"\n',
            '[access] identity = "database" needs a postgresql://',
        ),
        (
            '[index]\nurl = "sqlite:///tmp/x.sqlite3"\n[access]\nidentity = "database"\n',
            '[access] identity = "database" needs',
        ),
        ('[access]\nidentity = "ldap"\n', "[access] identity must be one of os, database"),
        ("[access]\nidentity = 1\n", "[access] identity must be str"),
        (f'[index]\nurl = "postgresql://kaiku:{SECRET}@db/kaiku"\n', "use [index] password_file"),
    ],
)
def test_keys_that_need_postgresql_or_are_wrong_are_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    path = config_file(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: "), caught.value
    assert message in str(caught.value)
    assert SECRET not in str(caught.value) and "\n" not in str(caught.value)


def test_database_identity_with_postgresql_loads(tmp_path: Path) -> None:
    text = f'[index]\nurl = "{PG_URL}"\n[access]\nidentity = "database"\n'
    assert load(config_file(tmp_path, text)).identity == "database"


# -- reading the password file ------------------------------------------------------------


@pytest.mark.parametrize("content", [SECRET, SECRET + "\n", SECRET + "\r\nsecond line\n"])
def test_the_password_is_the_first_line(tmp_path: Path, content: str) -> None:
    assert read_password_file(password_file(tmp_path, content)) == SECRET


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644, 0o660])
def test_a_file_others_may_access_is_refused(tmp_path: Path, mode: int) -> None:
    path = password_file(tmp_path, SECRET, mode)
    with pytest.raises(ConfigError) as caught:
        read_password_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: group or others may access it (mode {mode:04o}")
    assert "[index] password_file" in message and f"chmod 600 {path}" in message
    assert SECRET not in message


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "the first line is empty"), ("\nafter\n", "the first line is empty")],
)
def test_an_empty_password_is_refused(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_password_file(password_file(tmp_path, content))


def test_a_missing_file_or_a_fifo_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file \(\[index\] password_file\)"):
        read_password_file(tmp_path / "absent")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(ConfigError, match="not a regular file"):
        read_password_file(fifo)  # and it did not hang waiting for a writer


def test_a_huge_file_is_not_a_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a password"):
        read_password_file(password_file(tmp_path, "x" * 5000))
