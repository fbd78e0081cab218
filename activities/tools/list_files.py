"""List what is in a workspace folder: relative paths, sizes, and symlinks shown but not followed.

A symlink is listed as `name -> (link)`, whatever it points at, and recursion never enters one:
so a link out of the workspace neither reveals what is outside nor where it leads, and a link
loop cannot make the listing endless. (read_file follows links that stay inside.) The folder to
list may itself be reached through symlinks that stay inside (activities/tools/workspace.py).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from activities.tools import workspace
from activities.tools.base import ToolConfigError, ToolContext, ToolError, ToolImplementation
from activities.tools.effects import LEDGER_DIR
from workflows import tool_parameters

DEFAULT_MAX_ENTRIES = 500
MAX_MAX_ENTRIES = 100_000
SCAN_LIMIT = 200_000  # entries looked at before a recursive listing stops counting
MAX_DEPTH = 32  # folder levels a recursive listing goes down (one open descriptor each)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

PARAMETERS = tool_parameters.LIST_FILES


@dataclass
class _Listing:
    pattern: str | None
    lines: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    scanned: int = 0
    unreadable: int = 0
    too_deep: int = 0

    def matches(self, below: tuple[str, ...]) -> bool:
        if not self.pattern:
            return True
        if "/" in self.pattern:
            return fnmatchcase("/".join(below), self.pattern)
        return fnmatchcase(below[-1], self.pattern)


def list_entries(
    workspace_dir: Path,
    path: str = ".",
    *,
    recursive: bool = False,
    pattern: str | None = None,
    max_entries: int = DEFAULT_MAX_ENTRIES,
) -> str:
    """The entries of folder `path`, one a line, sorted, at most `max_entries` of them."""
    listing = _Listing(pattern)
    with workspace.locate(workspace_dir, path, workspace.Final.DESCEND) as place:
        prefix = () if place.relative == "." else tuple(place.relative.split("/"))
        try:
            _scan(place.dir_fd, prefix, (), listing, recursive)
        except PermissionError as exc:
            raise ToolError(f"{path}: permission denied") from exc
        except OSError as exc:
            raise ToolError(f"{path}: cannot list ({exc.strerror or type(exc).__name__})") from exc
    return _render(listing, place.relative, max_entries)


def _scan(
    dir_fd: int,
    prefix: tuple[str, ...],
    below: tuple[str, ...],
    listing: _Listing,
    recursive: bool,
) -> None:
    """Add the entries of the open folder `dir_fd` (at `prefix + below` in the workspace)."""
    subdirs: list[str] = []
    with os.scandir(dir_fd) as entries:
        for entry in entries:
            if listing.scanned >= SCAN_LIMIT:
                return
            if not prefix and not below and entry.name == LEDGER_DIR:
                continue  # the worker's ledger of writes (activities/tools/effects.py)
            listing.scanned += 1
            here = (*below, entry.name)
            shown = "/".join((*prefix, *here))
            is_dir = entry.is_dir(follow_symlinks=False)
            if is_dir and recursive:
                subdirs.append(entry.name)
            if not listing.matches(here):
                continue
            if entry.is_symlink():
                line = f"{shown} -> (link)"
            elif is_dir:
                line = f"{shown}/"
            elif entry.is_file(follow_symlinks=False):
                line = f"{shown} ({entry.stat(follow_symlinks=False).st_size} bytes)"
            else:
                line = f"{shown} (special file)"
            listing.lines.append(((*prefix, *here), line))
    if subdirs and len(below) >= MAX_DEPTH:
        listing.too_deep += len(subdirs)
        return
    for name in subdirs:
        try:
            child = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        except OSError:  # gone, unreadable, or swapped for a symlink since scandir saw it
            listing.unreadable += 1
            continue
        try:
            _scan(child, prefix, (*below, name), listing, recursive)
        except OSError:
            listing.unreadable += 1
        finally:
            os.close(child)


def _render(listing: _Listing, relative: str, max_entries: int) -> str:
    if not listing.lines:
        what = f"nothing matches {listing.pattern!r}" if listing.pattern else "an empty folder"
        lines = [f"{relative}: {what}"]
    else:
        listing.lines.sort()
        lines = [line for _, line in listing.lines[:max_entries]]
        more = len(listing.lines) - max_entries
        if more > 0:
            lines.append(
                f"[{more} more entries not shown: narrow the pattern or list a sub-folder]"
            )
    if listing.scanned >= SCAN_LIMIT:
        lines.append(f"[stopped after looking at {SCAN_LIMIT} entries: there are more]")
    if listing.too_deep:
        lines.append(f"[{listing.too_deep} folders deeper than {MAX_DEPTH} levels not listed]")
    if listing.unreadable:
        lines.append(f"[{listing.unreadable} sub-folders could not be read]")
    return "\n".join(lines)


def check_config(config: Mapping[str, Any]) -> None:
    """`max_entries`: lines listed before the rest is only counted (default 500)."""
    workspace.check_keys(config, ("max_entries",))
    _max_entries(config)


def _max_entries(config: Mapping[str, Any]) -> int:
    return workspace.int_setting(config, "max_entries", DEFAULT_MAX_ENTRIES, high=MAX_MAX_ENTRIES)


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    path = arguments.get("path", ".")
    recursive = arguments.get("recursive", False)
    pattern = arguments.get("pattern")
    if not isinstance(path, str) or not isinstance(recursive, bool):
        raise ToolError("argument 'path' must be a string and 'recursive' true or false")
    if pattern is not None and not isinstance(pattern, str):
        raise ToolError("argument 'pattern' must be a string")
    try:
        max_entries = _max_entries(config)
    except ToolConfigError as err:
        raise workspace.setting_problem(err) from err
    return await asyncio.to_thread(
        list_entries,
        ctx.workspace_dir,
        path,
        recursive=recursive,
        pattern=pattern,
        max_entries=max_entries,
    )


KIND = ToolImplementation(
    kind="list_files",
    run=run,
    description="List the files and folders in a workspace folder (folders end with '/', files "
    "show their size). Paths are relative to the workspace.",
    parameters=PARAMETERS,
    check_config=check_config,
)
