"""Read a UTF-8 text file from the run's workspace, never from outside it."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from activities.tools import workspace
from activities.tools.base import ToolConfigError, ToolContext, ToolError, ToolImplementation
from workflows import tool_parameters

DEFAULT_MAX_BYTES = 1_000_000
MAX_MAX_BYTES = 100_000_000
# O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

PARAMETERS = tool_parameters.READ_FILE


def read_text(workspace_dir: Path, relative: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of `relative` under `workspace_dir`; ToolError for anything else.

    Symlinks are followed while they stay inside the workspace (activities/tools/workspace.py).
    """
    with workspace.locate(workspace_dir, relative, workspace.Final.FOLLOW) as place:
        if place.name is None:
            raise ToolError(f"{relative}: is a directory")
        try:
            fd = os.open(place.name, _READ_FLAGS, dir_fd=place.dir_fd)
        except FileNotFoundError as exc:
            raise ToolError(f"{relative}: no such file") from exc
        except PermissionError as exc:
            raise ToolError(f"{relative}: permission denied") from exc
        except OSError as exc:  # ELOOP: a symlink swapped in after the walk
            raise ToolError(f"{relative}: cannot resolve the path") from exc
        try:
            data = _read_capped(fd, relative, max_bytes)
        finally:
            os.close(fd)
    if b"\x00" in data:
        raise ToolError(f"{relative}: a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(f"{relative}: not a UTF-8 text file") from exc


def _read_capped(fd: int, relative: str, max_bytes: int) -> bytes:
    """At most `max_bytes` of the open file; ToolError if it is not a regular file or bigger."""
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise ToolError(f"{relative}: is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise ToolError(f"{relative}: not a regular file")
    if info.st_size > max_bytes:
        raise ToolError(f"{relative}: {info.st_size} bytes, more than the limit of {max_bytes}")
    chunks: list[bytes] = []
    total = 0
    try:
        while total <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise ToolError(f"{relative}: cannot read ({exc.strerror or type(exc).__name__})") from exc
    if total > max_bytes:  # grew since fstat()
        raise ToolError(f"{relative}: more than the limit of {max_bytes} bytes")
    return b"".join(chunks)


def check_config(config: Mapping[str, Any]) -> None:
    """`max_bytes`: the largest file read (default 1 MB)."""
    workspace.check_keys(config, ("max_bytes",))
    workspace.int_setting(config, "max_bytes", DEFAULT_MAX_BYTES, high=MAX_MAX_BYTES)


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    path = arguments.get("path")
    if not isinstance(path, str):
        raise ToolError("argument 'path' must be a string")
    try:
        max_bytes = workspace.int_setting(
            config, "max_bytes", DEFAULT_MAX_BYTES, high=MAX_MAX_BYTES
        )
    except ToolConfigError as err:
        raise workspace.setting_problem(err) from err
    return await asyncio.to_thread(read_text, ctx.workspace_dir, path, max_bytes=max_bytes)


KIND = ToolImplementation(
    kind="read_file",
    run=run,
    description="Read a UTF-8 text file from the workspace. Paths are relative to the workspace.",
    parameters=PARAMETERS,
    check_config=check_config,
)
