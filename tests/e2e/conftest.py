"""The command line in a subprocess, as an admin or a script would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kaiku_tui.config import load
from tests.conftest import copy_key_store


@dataclass
class Result:
    code: int
    out: str
    err: str


Cli = Callable[..., Result]


def run_cli(config: Path | None, *args: str, env: dict[str, str] | None = None) -> Result:
    full_env = {
        k: v for k, v in os.environ.items() if k not in ("KAIKU_CONFIG", "KAIKU_MASTER_KEY")
    }
    full_env.update(env or {})
    argv = [sys.executable, "-m", "kaiku_tui"]
    if config is not None:
        argv += ["--config", str(config)]
    done = subprocess.run(
        argv + list(args), capture_output=True, text=True, env=full_env, timeout=120
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo register built once; tests work on copies of it."""
    folder = tmp_path_factory.mktemp("template") / "demo"
    result = run_cli(None, "demo", "--dir", str(folder), "--records", "300", "--no-tui")
    assert result.code == 0, result.err
    return folder


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo register (config rewritten to point at the copy)."""
    import shutil

    folder = tmp_path / "demo"
    shutil.copytree(demo_template, folder)
    config = folder / "config.toml"
    config.write_text(config.read_text().replace(str(demo_template), str(folder)))
    copy_key_store(load(demo_template / "config.toml"), load(config))
    return config


@pytest.fixture
def cli(demo: Path) -> Cli:
    def call(*args: str, env: dict[str, str] | None = None) -> Result:
        return run_cli(demo, *args, env=env)

    return call
