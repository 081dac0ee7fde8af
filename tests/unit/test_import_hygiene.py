"""The arrows point one way: rooms never import faces or textual; faces never reach past
the Register into the index, the vault or the audit log."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "kaiku_tui"
ROOMS = ("domain", "index", "vault", "audit", "audio", "ingest")
FACES = ("cli", "ui")


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def files_under(*names: str) -> list[Path]:
    out: list[Path] = []
    for name in names:
        target = PACKAGE / name
        out += sorted(target.rglob("*.py")) if target.is_dir() else [target] * target.exists()
    return out


@pytest.mark.parametrize("path", files_under(*ROOMS), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_rooms_import_no_faces(path: Path) -> None:
    bad = {
        m
        for m in imports_of(path)
        if m.split(".")[0] == "textual"
        or m in ("kaiku_tui.cli", "kaiku_tui.cli.annotations", "kaiku_tui.cli.demo")
        or m == "kaiku_tui.cli.ingest"
        or m.startswith("kaiku_tui.ui")
    }
    assert not bad, f"{path} imports {bad}"


@pytest.mark.parametrize("path", files_under(*FACES), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_faces_use_the_register(path: Path) -> None:
    bad = {
        m
        for m in imports_of(path)
        if any(m.startswith(f"kaiku_tui.{room}") for room in ("index", "vault", "audit"))
    }
    assert not bad, f"{path} reaches past the Register: {bad}"


def test_the_check_sees_files() -> None:
    assert len(files_under(*ROOMS)) > 10 and files_under(*FACES)
