"""Which files of a folder the document index reads, and how it reads them.

A walk never leaves the folder: symlinked directories are not entered, and a symlinked file is
indexed only when its target lies inside the folder. Hidden files and directories (a leading
dot: `.git`, `.venv`) are skipped. Files are opened without following a symlink in the last
component and without blocking (a FIFO is not a document), and read only up to the size cap.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from docsearch.text import decode_text

DEFAULT_EXTENSIONS = frozenset({".md", ".markdown", ".txt", ".rst", ".html", ".htm"})


class DocIndexError(Exception):
    """The folder cannot be indexed as configured (missing, not a directory, too many files);
    the index was left as it was."""


@dataclass(frozen=True)
class FolderEntry:
    path: str  # relative to the folder, '/'-separated: the file's name in the index
    name: str
    real_path: Path  # what is read: the file, or the target of a symlink inside the folder
    size: int
    mtime_ns: int


def _entries(directory: Path, root: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as listing:
            return sorted(listing, key=lambda entry: entry.name)
    except OSError as exc:
        if directory == root:
            raise DocIndexError(f"cannot list the folder {root}: {exc.strerror}") from exc
        return []  # a subdirectory that vanished or is unreadable: nothing to index there


def _candidate(entry: os.DirEntry[str], root: Path) -> tuple[Path, os.stat_result] | None:
    """(file to read, its stat) for a regular file, or a symlink to one inside `root`."""
    if entry.is_symlink():
        target = Path(entry.path).resolve()
        if not target.is_relative_to(root):
            return None
        info = target.stat()
        return (target, info) if stat.S_ISREG(info.st_mode) else None
    if entry.is_file(follow_symlinks=False):
        return Path(entry.path), entry.stat(follow_symlinks=False)
    return None


def scan_folder(root: Path, extensions: frozenset[str], max_files: int) -> list[FolderEntry]:
    """The files under `root` (absolute and resolved) whose extension is in `extensions`."""
    if not root.is_dir():
        raise DocIndexError(f"the folder {root} does not exist or is not a directory")
    found: list[FolderEntry] = []
    for entry in _walk(root):
        if Path(entry.name).suffix.lower() not in extensions:
            continue
        try:
            candidate = _candidate(entry, root)
        except (OSError, RuntimeError):  # vanished, no permission, a symlink loop
            continue
        if candidate is None:
            continue
        real_path, info = candidate
        relative = Path(entry.path).relative_to(root).as_posix()
        found.append(FolderEntry(relative, entry.name, real_path, info.st_size, info.st_mtime_ns))
        if len(found) > max_files:
            raise DocIndexError(
                f"the folder {root} has more than {max_files} documents: raise the tool's "
                "max_files or point it at a smaller folder"
            )
    return found


def _walk(root: Path) -> Iterator[os.DirEntry[str]]:
    """Every non-hidden entry under `root` except directories, without entering symlinks."""
    pending = [root]
    while pending:
        directory = pending.pop()
        for entry in _entries(directory, root):
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                pending.append(Path(entry.path))
            else:
                yield entry


def read_document(path: Path, max_bytes: int) -> tuple[bytes, str] | None:
    """(bytes, text) of a UTF-8 text file of at most `max_bytes`; None for anything else: too
    large, binary, another encoding, not a regular file, or gone."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                return None
            data = handle.read(max_bytes + 1)
        except OSError:
            return None
    if len(data) > max_bytes:
        return None
    text = decode_text(data)
    return None if text is None else (data, text)
