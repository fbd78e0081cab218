"""read_file stays inside the workspace and reads only text."""

from __future__ import annotations

from pathlib import Path

import pytest

from activities.tools.base import ToolError
from activities.tools.read_file import read_text


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "notes.txt").write_text("héllo\nworld\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("top secret", encoding="utf-8")
    return root


def _problem(workspace: Path, path: str, **kwargs: int) -> str:
    with pytest.raises(ToolError) as caught:
        read_text(workspace, path, **kwargs)
    return str(caught.value)


def test_reads_a_text_file(workspace: Path) -> None:
    assert read_text(workspace, "docs/notes.txt") == "héllo\nworld\n"
    assert read_text(workspace, "./docs/../docs/notes.txt") == "héllo\nworld\n"


def test_rejects_traversal(workspace: Path) -> None:
    assert "outside the workspace" in _problem(workspace, "../secret.txt")
    assert "outside the workspace" in _problem(workspace, "docs/../../secret.txt")


def test_rejects_absolute_paths(workspace: Path) -> None:
    assert "absolute" in _problem(workspace, str(workspace / "docs" / "notes.txt"))
    assert "absolute" in _problem(workspace, "/etc/passwd")


def test_rejects_symlink_escape(workspace: Path) -> None:
    (workspace / "link.txt").symlink_to(workspace.parent / "secret.txt")
    (workspace / "linkdir").symlink_to(workspace.parent)

    assert "outside the workspace" in _problem(workspace, "link.txt")
    assert "outside the workspace" in _problem(workspace, "linkdir/secret.txt")


def test_follows_symlinks_inside_the_workspace(workspace: Path) -> None:
    (workspace / "alias.txt").symlink_to(workspace / "docs" / "notes.txt")

    assert read_text(workspace, "alias.txt") == "héllo\nworld\n"


def test_rejects_missing_files_and_directories(workspace: Path) -> None:
    assert "no such file" in _problem(workspace, "nope.txt")
    assert "is a directory" in _problem(workspace, "docs")
    assert "is a directory" in _problem(workspace, ".")


def test_rejects_binary_and_big_files(workspace: Path) -> None:
    (workspace / "blob.bin").write_bytes(b"\x89PNG\x00\x01")
    (workspace / "latin1.txt").write_bytes("café".encode("latin-1"))

    assert "binary" in _problem(workspace, "blob.bin")
    assert "not a UTF-8 text file" in _problem(workspace, "latin1.txt")
    assert "more than the limit of 5" in _problem(workspace, "docs/notes.txt", max_bytes=5)


def test_rejects_empty_path(workspace: Path) -> None:
    assert "empty" in _problem(workspace, "  ")
