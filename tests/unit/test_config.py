"""Bad configuration gets one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaiku_tui.config import config_path, load
from kaiku_tui.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_derive_from_data_dir(tmp_path: Path) -> None:
    config = load(write(tmp_path, '[register]\ndata_dir = "reg"\n'))
    assert config.data_dir == tmp_path / "reg"
    assert config.master_key_file == tmp_path / "reg" / "master.key"
    assert config.sqlite_path == tmp_path / "reg" / "index.sqlite3"
    assert config.checkpoint_file.parent == tmp_path / "reg"
    assert (config.language, config.audio_sink, config.busy_timeout_ms) == ("auto", "auto", 5000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[register]\ndata_dri = 'x'\n", "unknown key 'data_dri' in [register]"),
        ("[registry]\n", "unknown section [registry]"),
        ("[index]\nbusy_timeout_ms = '5'\n", "[index] busy_timeout_ms must be int, not str"),
        ("[index]\nbusy_timeout_ms = true\n", "busy_timeout_ms must be int, not bool"),
        ("[index]\nbusy_timeout_ms = 0\n", "busy_timeout_ms must be positive"),
        ("[ui]\nlanguage = 'sv'\n", "[ui] language must be one of auto, fi, en"),
        ("[audio]\nsink = 'pulse'\n", "[audio] sink must be one of"),
        ("[index]\nurl = 'mysql://x'\n", "[index] url must be empty"),
        ("[index]\nurl = 'postgresql://u:secret@h/db'\n", "must not hold a password"),
        ("[index]\nurl = 'postgres://u@h/db?password=secret'\n", "must not hold a password"),
        ("register = 3\n", "[register] must be a table"),
        ("[register\n", "not valid TOML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load(path)
    assert str(path) in str(err.value) and message in str(err.value)
    assert "\n" not in str(err.value).strip() and "secret" not in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load(tmp_path / "nope.toml")


def test_config_path_order(tmp_path: Path) -> None:
    env = {"KAIKU_CONFIG": str(tmp_path / "env.toml")}
    assert config_path(str(tmp_path / "arg.toml"), env) == tmp_path / "arg.toml"
    assert config_path(None, env) == tmp_path / "env.toml"
    assert config_path(None, {}).name == "config.toml"
