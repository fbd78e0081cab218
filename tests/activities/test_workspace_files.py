"""read_file, write_file and list_files stay inside the workspace, whatever path they are given.

Every test runs next to an "outside" folder (a sibling of the workspace, with a secret in it)
and ends by checking that nothing there was created, changed or removed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from activities.tools import list_files, read_file, write_file
from activities.tools.base import InvalidArguments, ToolConfigError, ToolContext, ToolError
from activities.tools.list_files import list_entries
from activities.tools.read_file import read_text
from activities.tools.registry import execute_tool
from activities.tools.write_file import write_text
from config_store.specs import ToolIn
from core.errors import InvalidConfig
from services.tools import create_tool
from workflows.types import ToolSpec

SECRET = "top secret\n"


def _snapshot(root: Path) -> dict[str, tuple[str, str]]:
    """Every entry under `root` but the workspace: kind and content (file) or target (link)."""
    seen: dict[str, tuple[str, str]] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if key == "ws" or key.startswith("ws/"):
            continue
        if path.is_symlink():
            seen[key] = ("link", os.readlink(path))
        elif path.is_dir():
            seen[key] = ("dir", "")
        else:
            seen[key] = ("file", path.read_text(encoding="utf-8"))
    return seen


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[Path]:
    """A sibling of the workspace with a secret in it, and a sibling whose name starts alike."""
    root = tmp_path / "outside"
    (root / "dir").mkdir(parents=True)
    (root / "secret.txt").write_text(SECRET, encoding="utf-8")
    (root / "dir" / "inner.txt").write_text("inner\n", encoding="utf-8")
    (tmp_path / "ws2").mkdir()
    (tmp_path / "ws2" / "x.txt").write_text("not here", encoding="utf-8")
    before = _snapshot(tmp_path)
    yield root
    assert _snapshot(tmp_path) == before, "something outside the workspace changed"


@pytest.fixture
def ws(tmp_path: Path, outside: Path) -> Path:
    root = tmp_path / "ws"
    (root / "docs" / "deep").mkdir(parents=True)
    (root / "docs" / "notes.md").write_text("hello\n", encoding="utf-8")
    (root / "docs" / "deep" / "a.txt").write_text("a", encoding="utf-8")
    (root / "top.txt").write_text("top\n", encoding="utf-8")
    # The attacks: links inside the workspace that lead out of it.
    (root / "file_out").symlink_to(outside / "secret.txt")  # a file, absolute target
    (root / "dir_out").symlink_to("../outside")  # a directory, relative target
    (root / "docs" / "up").symlink_to("../../outside/dir")  # an intermediate directory
    (root / "dangling_out").symlink_to(outside / "new.txt")  # does not exist (yet)
    (root / "dangling_dir_out").symlink_to(outside / "newdir")
    return root


def _read(ws: Path, path: str) -> str:
    return read_text(ws, path)


def _write(ws: Path, path: str) -> str:
    return write_text(ws, path, "pwned\n")


def _append(ws: Path, path: str) -> str:
    return write_text(ws, path, "pwned\n", mode="append")


def _create(ws: Path, path: str) -> str:
    return write_text(ws, path, "pwned\n", mode="create")


def _list(ws: Path, path: str) -> str:
    return list_entries(ws, path, recursive=True)


EVERY_KIND = [_read, _write, _append, _create, _list]
Tool = Callable[[Path, str], str]


def _problem(tool: Tool, ws: Path, path: str) -> str:
    with pytest.raises(ToolError) as caught:
        tool(ws, path)
    return str(caught.value)


# --- the attacks ------------------------------------------------------------------------------


@pytest.mark.parametrize("tool", EVERY_KIND)
@pytest.mark.parametrize(
    "path",
    [
        "../../etc/passwd",
        "../outside/secret.txt",
        "a/../../x",
        "docs/../../outside/secret.txt",
        "docs/deep/../../../outside/dir/new.txt",
        "..",
    ],
)
def test_dot_dot_that_escapes_is_refused(tool: Tool, ws: Path, path: str) -> None:
    assert _problem(tool, ws, path) == f"{path}: outside the workspace"


@pytest.mark.parametrize("tool", EVERY_KIND)
@pytest.mark.parametrize(
    "path", ["/etc/passwd", "//etc/passwd", "C:\\Windows\\win.ini", "C:x", "\\\\host\\share\\x"]
)
def test_absolute_paths_are_refused(tool: Tool, ws: Path, path: str) -> None:
    assert _problem(tool, ws, path) == (
        f"{path}: absolute paths are not allowed; give a workspace path"
    )


@pytest.mark.parametrize("tool", EVERY_KIND)
def test_absolute_path_into_the_workspace_is_refused_too(tool: Tool, ws: Path) -> None:
    assert "absolute paths are not allowed" in _problem(tool, ws, str(ws / "top.txt"))


@pytest.mark.parametrize("tool", EVERY_KIND)
@pytest.mark.parametrize(
    "path",
    [
        "file_out",  # a symlink to a file outside
        "dir_out/secret.txt",  # through a symlinked directory
        "dir_out/dir/inner.txt",
        "docs/up/inner.txt",  # a symlinked intermediate directory
        "docs/up/new.txt",
        "dangling_dir_out/x.txt",  # a dangling directory link: would be made outside
    ],
)
def test_symlinks_that_escape_are_refused(tool: Tool, ws: Path, path: str) -> None:
    assert "outside the workspace" in _problem(tool, ws, path)


@pytest.mark.parametrize("tool", [_write, _append, _create])
def test_writing_through_a_dangling_symlink_out_is_refused(tool: Tool, ws: Path) -> None:
    assert "outside the workspace" in _problem(tool, ws, "dangling_out")
    assert (ws / "dangling_out").is_symlink()


@pytest.mark.parametrize("tool", EVERY_KIND)
def test_listing_or_reading_a_link_to_a_directory_outside(tool: Tool, ws: Path) -> None:
    assert "outside the workspace" in _problem(tool, ws, "dir_out")


@pytest.mark.parametrize("tool", EVERY_KIND)
def test_symlink_loops_end(tool: Tool, ws: Path) -> None:
    (ws / "loop_a").symlink_to("loop_b")
    (ws / "loop_b").symlink_to("loop_a")

    assert "too many levels of symbolic links" in _problem(tool, ws, "loop_a/x")


@pytest.mark.parametrize("tool", EVERY_KIND)
def test_empty_and_nul_paths(tool: Tool, ws: Path) -> None:
    assert _problem(tool, ws, " ") == "argument 'path' is empty"
    assert _problem(tool, ws, "top\x00.txt") == "argument 'path' contains a NUL character"


def test_an_absolute_link_target_must_be_under_the_workspace(ws: Path, tmp_path: Path) -> None:
    # ws2: the same leading characters as the workspace, but a different folder.
    (ws / "lookalike").symlink_to(tmp_path / "ws2" / "x.txt")
    (ws / "abs_in").symlink_to(ws / "docs" / "notes.md")

    assert "outside the workspace" in _problem(_read, ws, "lookalike")
    assert read_text(ws, "abs_in") == "hello\n"


def test_links_inside_are_followed_for_reading_and_listing(ws: Path) -> None:
    (ws / "docs_alias").symlink_to("docs")
    (ws / "docs" / "back").symlink_to("..")

    assert read_text(ws, "docs_alias/notes.md") == "hello\n"
    assert read_text(ws, "docs/back/top.txt") == "hello\n".replace("hello", "top")
    assert list_entries(ws, "docs_alias/deep") == "docs/deep/a.txt (1 bytes)"


# --- read_file ----------------------------------------------------------------------------------


def test_read_size_cap(ws: Path) -> None:
    (ws / "big.txt").write_text("x" * 101, encoding="utf-8")

    assert read_text(ws, "big.txt", max_bytes=101) == "x" * 101
    with pytest.raises(ToolError, match="big.txt: 101 bytes, more than the limit of 100"):
        read_text(ws, "big.txt", max_bytes=100)


def test_special_files_are_refused_without_waiting(ws: Path) -> None:
    os.mkfifo(ws / "pipe")

    assert "not a regular file" in _problem(_read, ws, "pipe")
    assert "not a regular file" in _problem(_write, ws, "pipe")
    assert "not a regular file" in _problem(_append, ws, "pipe")


# --- write_file ---------------------------------------------------------------------------------


def test_writes_and_makes_folders(ws: Path) -> None:
    assert write_text(ws, "out/new/report.md", "# hé\n") == "wrote 6 bytes to out/new/report.md"
    assert (ws / "out" / "new" / "report.md").read_text(encoding="utf-8") == "# hé\n"
    assert write_text(ws, "./docs/../top.txt", "") == "wrote 0 bytes to top.txt"
    assert (ws / "top.txt").read_bytes() == b""


def test_create_dirs_false_needs_the_folder(ws: Path) -> None:
    with pytest.raises(ToolError, match="no such file or directory"):
        write_text(ws, "nope/x.txt", "x", create_dirs=False)
    assert not (ws / "nope").exists()
    assert write_text(ws, "docs/x.txt", "x", create_dirs=False) == "wrote 1 bytes to docs/x.txt"


def test_overwrite_replaces_atomically(ws: Path) -> None:
    target = ws / "docs" / "notes.md"
    target.chmod(0o600)
    with target.open("rb") as old_reader:
        assert write_text(ws, "docs/notes.md", "new text\n") == "wrote 9 bytes to docs/notes.md"
        # A new file was moved into place: a reader of the old one still sees all of it.
        assert old_reader.read() == b"hello\n"
    assert target.read_text(encoding="utf-8") == "new text\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["deep", "notes.md", "up"]


def test_a_refused_write_leaves_the_old_content(ws: Path) -> None:
    with pytest.raises(ToolError, match="docs/notes.md: 11 bytes, more than the limit of 10"):
        write_text(ws, "docs/notes.md", "x" * 11, max_bytes=10)
    with pytest.raises(ToolError, match="more than the limit of 10"):
        write_text(ws, "brand/new.txt", "x" * 11, max_bytes=10)

    assert (ws / "docs" / "notes.md").read_text(encoding="utf-8") == "hello\n"
    assert not (ws / "brand").exists()
    assert write_text(ws, "docs/notes.md", "x" * 10, max_bytes=10).startswith("wrote 10 bytes")


def test_append_counts_the_resulting_size(ws: Path) -> None:
    assert write_text(ws, "log.txt", "one\n", mode="append") == (
        "appended 4 bytes to log.txt (now 4 bytes)"
    )
    assert write_text(ws, "log.txt", "two\n", mode="append", max_bytes=8) == (
        "appended 4 bytes to log.txt (now 8 bytes)"
    )
    with pytest.raises(ToolError, match="would be 9 bytes after appending"):
        write_text(ws, "log.txt", "x", mode="append", max_bytes=8)
    assert (ws / "log.txt").read_text(encoding="utf-8") == "one\ntwo\n"


def test_create_refuses_an_existing_file(ws: Path) -> None:
    with pytest.raises(ToolError, match="top.txt: already exists"):
        write_text(ws, "top.txt", "x", mode="create")
    assert (ws / "top.txt").read_text(encoding="utf-8") == "top\n"
    assert write_text(ws, "fresh.txt", "x", mode="create") == "wrote 1 bytes to fresh.txt"
    assert sorted(p.name for p in ws.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("mode", ["overwrite", "append", "create"])
def test_a_symlink_inside_is_not_written_through(ws: Path, mode: str) -> None:
    (ws / "alias.md").symlink_to("docs/notes.md")

    with pytest.raises(ToolError, match="alias.md: is a symbolic link"):
        write_text(ws, "alias.md", "x", mode=mode)
    assert (ws / "alias.md").is_symlink()
    assert (ws / "docs" / "notes.md").read_text(encoding="utf-8") == "hello\n"


def test_a_symlinked_folder_inside_can_be_written_into(ws: Path) -> None:
    (ws / "docs_alias").symlink_to("docs")

    assert write_text(ws, "docs_alias/new.md", "x") == "wrote 1 bytes to docs/new.md"
    assert (ws / "docs" / "new.md").read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("path", ["docs", ".", "docs/..", "docs/"])
def test_writing_to_a_folder_is_refused(ws: Path, path: str) -> None:
    with pytest.raises(ToolError) as caught:
        write_text(ws, path, "x")
    assert "is a directory" in str(caught.value) or "ends with '/'" in str(caught.value)
    assert (ws / "docs").is_dir()


def test_a_file_in_the_middle_of_a_path(ws: Path) -> None:
    with pytest.raises(ToolError, match="top.txt/x: top.txt is not a directory"):
        write_text(ws, "top.txt/x", "x")
    with pytest.raises(ToolError, match="is not a directory"):
        list_entries(ws, "top.txt")


# --- list_files ---------------------------------------------------------------------------------


def test_lists_the_root_sorted_with_sizes_and_links(ws: Path) -> None:
    assert list_entries(ws) == "\n".join(
        [
            "dangling_dir_out -> (link)",
            "dangling_out -> (link)",
            "dir_out -> (link)",
            "docs/",
            "file_out -> (link)",
            "top.txt (4 bytes)",
        ]
    )


def test_lists_recursively_without_following_links(ws: Path) -> None:
    listing = list_entries(ws, "docs", recursive=True)

    assert listing == "\n".join(
        ["docs/deep/", "docs/deep/a.txt (1 bytes)", "docs/notes.md (6 bytes)", "docs/up -> (link)"]
    )
    assert "secret" not in list_entries(ws, recursive=True)
    assert "inner" not in list_entries(ws, recursive=True)


def test_pattern_and_max_entries(ws: Path) -> None:
    for n in range(7):
        (ws / "docs" / f"n{n}.md").write_text("", encoding="utf-8")

    assert list_entries(ws, recursive=True, pattern="*.txt") == (
        "docs/deep/a.txt (1 bytes)\ntop.txt (4 bytes)"
    )
    assert list_entries(ws, recursive=True, pattern="docs/deep/*") == "docs/deep/a.txt (1 bytes)"
    assert list_entries(ws, "docs", pattern="*.md", max_entries=3) == "\n".join(
        [
            "docs/n0.md (0 bytes)",
            "docs/n1.md (0 bytes)",
            "docs/n2.md (0 bytes)",
            "[5 more entries not shown: narrow the pattern or list a sub-folder]",
        ]
    )
    assert list_entries(ws, pattern="*.pdf") == ".: nothing matches '*.pdf'"


def test_empty_and_missing_folders(ws: Path) -> None:
    (ws / "empty").mkdir()

    assert list_entries(ws, "empty") == "empty: an empty folder"
    with pytest.raises(ToolError, match="nope: no such file or directory"):
        list_entries(ws, "nope")


# --- the kinds: registry, schemas and config ----------------------------------------------------


async def test_the_kinds_run_through_the_registry(ws: Path) -> None:
    ctx = ToolContext(workspace_dir=ws)
    write = ToolSpec(name="write", kind="write_file", config={"max_bytes": 5})
    listing = ToolSpec(name="ls", kind="list_files", config={"max_entries": 1})

    assert await execute_tool(write, {"path": "a.txt", "content": "abc"}, ctx) == (
        "wrote 3 bytes to a.txt"
    )
    with pytest.raises(ToolError, match="more than the limit of 5"):
        await execute_tool(write, {"path": "a.txt", "content": "abcdef"}, ctx)
    with pytest.raises(InvalidArguments, match="'truncate' is not one of"):
        await execute_tool(write, {"path": "a.txt", "content": "", "mode": "truncate"}, ctx)
    assert await execute_tool(listing, {}, ctx) == (
        "a.txt (3 bytes)\n[6 more entries not shown: narrow the pattern or list a sub-folder]"
    )
    read = ToolSpec(name="read", kind="read_file")
    assert await execute_tool(read, {"path": "a.txt"}, ctx) == "abc"


@pytest.mark.parametrize(
    ("module", "config", "field", "message"),
    [
        (read_file, {"max_bytes": 0}, "max_bytes", "must be a positive integer, not 0"),
        (read_file, {"max_byte": 5}, "max_byte", "unknown setting; this kind takes max_bytes"),
        (write_file, {"max_bytes": True}, "max_bytes", "must be a positive integer, not True"),
        (write_file, {"max_bytes": 10**12}, "max_bytes", "must be at most 100000000"),
        (write_file, {"create_dirs": "yes"}, "create_dirs", "must be true or false, not 'yes'"),
        (write_file, {"mode": "append"}, "mode", "this kind takes create_dirs, max_bytes"),
        (list_files, {"max_entries": "5"}, "max_entries", "must be a positive integer, not '5'"),
        (list_files, {"follow_links": True}, "follow_links", "this kind takes max_entries"),
    ],
)
def test_config_is_checked(module: Any, config: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ToolConfigError) as caught:
        module.KIND.check_config(config)
    assert caught.value.field == field
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("module", "config"),
    [
        (read_file, {}),
        (read_file, {"max_bytes": 10}),
        (write_file, {"max_bytes": 10, "create_dirs": False}),
        (list_files, {"max_entries": 100_000}),
    ],
)
def test_good_config_passes(module: Any, config: dict[str, Any]) -> None:
    module.KIND.check_config(config)


def test_saving_a_tool_checks_its_config(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        create_tool(session, "write", ToolIn(kind="write_file", config={"create_dirs": False}))
        create_tool(session, "ls", ToolIn(kind="list_files"))
        with pytest.raises(InvalidConfig) as caught:
            create_tool(session, "bad", ToolIn(kind="write_file", config={"max_bytes": -1}))
        session.commit()

    assert caught.value.field == "config.max_bytes"
