"""config.example.toml documents every key, and is itself a valid configuration."""

from __future__ import annotations

import tomllib
from pathlib import Path

from kaiku_tui.config import _SCHEMA, load

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_example_names_every_key() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert {s: set(k) for s, k in data.items()} == {s: set(k) for s, k in _SCHEMA.items()}


def test_example_loads() -> None:
    config = load(EXAMPLE)
    assert config.data_dir == Path("/var/lib/kaiku-tui")
