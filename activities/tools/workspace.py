"""The one place a model-given path becomes a place inside the workspace, and never outside it.

Why a walk over directory descriptors rather than `Path.resolve()` plus a prefix check: checking a
resolved string and then opening it are two lookups, and a symlink swapped in between them sends
the second one elsewhere. Here every component is opened relative to its parent's descriptor with
O_NOFOLLOW; a symlink is followed only by reading it and walking its target the same way, from
the directory that holds it. So the directory a tool finally works in is the one that was checked:
the user-space counterpart of Linux's openat2(RESOLVE_BENEATH). It needs POSIX `dir_fd` support
(Linux, macOS), which is where the worker runs.

Rules: empty paths, NUL characters and absolute paths (POSIX, and Windows drive, root and UNC
forms) are refused; `..` may move around inside the workspace but never above its root; symlinks
are followed while their targets stay inside (an absolute target must name a place under the
workspace root) and refused the moment one leads outside, wherever it sits in the path.
"""

from __future__ import annotations

import errno
import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from activities.tools.base import ToolConfigError, ToolError

MAX_LINKS = 40  # symlinks followed in one path, as Linux's MAXSYMLINKS
MAX_DEPTH = 256  # folder levels below the root (the walk holds one descriptor per level)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Final(Enum):
    """What to do with the last component of a path."""

    FOLLOW = "follow"  # follow it if it is a symlink (reading)
    NOFOLLOW = "nofollow"  # leave it as it is: the caller lstat()s it (writing)
    DESCEND = "descend"  # it must be a directory: open it (listing)


@dataclass(frozen=True)
class Place:
    """Where a path led: the last component `name` inside the open directory `dir_fd`.

    `name` is None when the path names a directory that was opened itself (the root, `docs/..`,
    or any path walked with Final.DESCEND): `dir_fd` is then that directory.
    """

    dir_fd: int
    name: str | None
    relative: str  # the place relative to the workspace, symlinks resolved; "." for the root


def path_parts(path: str) -> list[str]:
    """The components of a model-given path, after refusing the forms that cannot be inside."""
    if not path.strip():
        raise ToolError("argument 'path' is empty")
    if "\x00" in path:
        raise ToolError("argument 'path' contains a NUL character")
    windows = PureWindowsPath(path)
    # `C:x` and `\x` are not absolute to Windows but are not workspace paths either.
    if PurePosixPath(path).is_absolute() or windows.drive or windows.root:
        raise ToolError(f"{path}: absolute paths are not allowed; give a workspace path")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    depth = 0
    for part in parts:  # checked before the walk, which could make folders on its way up
        depth += -1 if part == ".." else 1
        if depth < 0:
            raise ToolError(f"{path}: outside the workspace")
    return parts


@contextmanager
def locate(
    workspace_dir: Path, path: str, final: Final, *, create_dirs: bool = False
) -> Iterator[Place]:
    """Walk `path` inside `workspace_dir`; ToolError when it leads outside or cannot be walked.

    With `create_dirs`, missing intermediate directories are made (inside, as the walk goes).
    The descriptors are closed when the block ends.
    """
    parts = path_parts(path)
    try:
        root_fd = os.open(workspace_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise ToolError("the workspace folder does not exist") from exc
    walk = _Walk(path, workspace_dir, root_fd, create_dirs)
    try:
        yield walk.run(parts, final)
    finally:
        walk.close()


class _Walk:
    """The state of one walk: the chain of open directories from the root down."""

    def __init__(self, shown: str, workspace_dir: Path, root_fd: int, create_dirs: bool) -> None:
        self.shown = shown
        self.workspace_dir = workspace_dir
        self.create_dirs = create_dirs
        self.stack: list[tuple[str, int]] = [("", root_fd)]
        self.links = 0

    def run(self, parts: list[str], final: Final) -> Place:
        queue = deque(parts)
        while queue:
            part = queue.popleft()
            if part == "..":
                if len(self.stack) == 1:
                    raise ToolError(f"{self.shown}: outside the workspace")
                os.close(self.stack.pop()[1])
                continue
            if not queue and final is not Final.DESCEND:
                target = self._readlink(part) if final is Final.FOLLOW else None
                if target is None:
                    return Place(self.stack[-1][1], part, self._relative(part))
                self._expand(part, target, queue)
                continue
            fd, target = self._open_dir(part)
            if target is not None:
                self._expand(part, target, queue)
            elif fd is not None:
                self.stack.append((part, fd))
                if len(self.stack) > MAX_DEPTH:
                    raise ToolError(f"{self.shown}: nested deeper than {MAX_DEPTH} folders")
        return Place(self.stack[-1][1], None, self._relative(None))

    def close(self) -> None:
        for _, fd in reversed(self.stack):
            os.close(fd)
        self.stack.clear()

    def _relative(self, name: str | None) -> str:
        names = [n for n, _ in self.stack[1:]] + ([name] if name is not None else [])
        return "/".join(names) or "."

    def _open_dir(self, part: str) -> tuple[int | None, str | None]:
        """(descriptor, None) for a directory, (None, link target) for a symlink."""
        dir_fd = self.stack[-1][1]
        for attempt in range(2):
            try:
                return os.open(part, _DIR_FLAGS, dir_fd=dir_fd), None
            except FileNotFoundError as exc:
                if not self.create_dirs or attempt:
                    raise ToolError(f"{self.shown}: no such file or directory") from exc
                try:
                    os.mkdir(part, dir_fd=dir_fd)
                except FileExistsError:
                    pass  # made meanwhile (or a symlink appeared): the retry decides
                except OSError as mkdir_exc:
                    raise self._os_error(mkdir_exc) from mkdir_exc
            except OSError as exc:
                # ELOOP or ENOTDIR: a symlink (O_NOFOLLOW) or not a directory at all.
                target = self._readlink(part)
                if target is not None:
                    return None, target
                if exc.errno == errno.ENOTDIR:
                    raise ToolError(
                        f"{self.shown}: {self._relative(part)} is not a directory"
                    ) from exc
                raise self._os_error(exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _readlink(self, part: str) -> str | None:
        """The target of the symlink `part` in the current directory; None if not a symlink."""
        try:
            return os.readlink(part, dir_fd=self.stack[-1][1])
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOENT):
                return None
            raise self._os_error(exc) from exc

    def _expand(self, part: str, target: str, queue: deque[str]) -> None:
        """Continue the walk through the symlink `part`, whose content is `target`."""
        self.links += 1
        if self.links > MAX_LINKS:
            raise ToolError(f"{self.shown}: too many levels of symbolic links")
        where = self._relative(part)
        if not target:
            raise ToolError(f"{self.shown}: the symbolic link {where} is empty")
        parts = target.split("/")
        if target.startswith("/"):
            inside = self._under_root(target)
            if inside is None:
                raise ToolError(
                    f"{self.shown}: outside the workspace (the symbolic link {where} leads out)"
                )
            while len(self.stack) > 1:
                os.close(self.stack.pop()[1])
            parts = inside
        for link_part in reversed(parts):
            if link_part not in ("", "."):
                queue.appendleft(link_part)

    def _under_root(self, target: str) -> list[str] | None:
        """The components of absolute `target` below the workspace root, or None if not below."""
        parts = list(PurePosixPath(target).parts[1:])
        for root in {os.path.realpath(self.workspace_dir), os.path.abspath(self.workspace_dir)}:
            prefix = list(PurePosixPath(root).parts[1:])
            if parts[: len(prefix)] == prefix:
                return parts[len(prefix) :]
        return None

    def _os_error(self, exc: OSError) -> ToolError:
        if isinstance(exc, PermissionError):
            return ToolError(f"{self.shown}: permission denied")
        if exc.errno == errno.ELOOP:
            return ToolError(f"{self.shown}: too many levels of symbolic links")
        return ToolError(f"{self.shown}: cannot resolve the path ({exc.strerror or exc})")


# Settings shared by the file kinds: checked when a tool is saved (ToolConfigError naming the
# key) and read again when it runs (where a bad value is the tool's ToolError).


def check_keys(config: Mapping[str, Any], known: Iterable[str]) -> None:
    allowed = sorted(known)
    for key in config:
        if key not in allowed:
            raise ToolConfigError(
                str(key), f"unknown setting; this kind takes {', '.join(allowed) or 'none'}"
            )


def int_setting(config: Mapping[str, Any], key: str, default: int, *, high: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ToolConfigError(key, f"must be a positive integer, not {value!r}")
    if value > high:
        raise ToolConfigError(key, f"must be at most {high}, not {value!r}")
    return value


def bool_setting(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise ToolConfigError(key, f"must be true or false, not {value!r}")
    return value


def setting_problem(err: ToolConfigError) -> ToolError:
    """A bad setting met at run time (saved before it was checked): the tool's error."""
    return ToolError(f"tool config '{err.field}' {err.message}")
