"""Read a UTF-8 text file from the run's workspace, never from outside it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from activities.tools.base import ToolContext, ToolError, ToolKind

DEFAULT_MAX_BYTES = 1_000_000

PARAMETERS: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "path": {
            "type": "string",
            "description": "Path of the file, relative to the workspace directory",
        }
    },
    "required": ["path"],
    "additionalProperties": False,
}


def read_text(workspace_dir: Path, relative: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of `relative` under `workspace_dir`; ToolError for anything else."""
    if not relative.strip():
        raise ToolError("argument 'path' is empty")
    if "\x00" in relative:
        raise ToolError("argument 'path' contains a NUL character")
    if PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).is_absolute():
        raise ToolError(f"{relative}: absolute paths are not allowed; give a workspace path")
    workspace = workspace_dir.resolve()
    try:
        # resolve() follows symlinks, so a link that points outside the workspace is caught too.
        target = (workspace / relative).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
        raise ToolError(f"{relative}: cannot resolve the path") from exc
    if not target.is_relative_to(workspace):
        raise ToolError(f"{relative}: outside the workspace")
    if not target.exists():
        raise ToolError(f"{relative}: no such file")
    if target.is_dir():
        raise ToolError(f"{relative}: is a directory")
    if not target.is_file():
        raise ToolError(f"{relative}: not a regular file")
    try:
        size = target.stat().st_size
        if size > max_bytes:
            raise ToolError(f"{relative}: {size} bytes, more than the limit of {max_bytes}")
        data = target.read_bytes()
    except PermissionError as exc:
        raise ToolError(f"{relative}: permission denied") from exc
    except OSError as exc:
        raise ToolError(f"{relative}: cannot read ({exc.strerror or type(exc).__name__})") from exc
    if len(data) > max_bytes:  # grew since stat()
        raise ToolError(f"{relative}: more than the limit of {max_bytes} bytes")
    if b"\x00" in data:
        raise ToolError(f"{relative}: a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(f"{relative}: not a UTF-8 text file") from exc


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    path = arguments.get("path")
    if not isinstance(path, str):
        raise ToolError("argument 'path' must be a string")
    max_bytes = config.get("max_bytes", DEFAULT_MAX_BYTES)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ToolError(f"tool config 'max_bytes' must be a positive integer, not {max_bytes!r}")
    return await asyncio.to_thread(read_text, ctx.workspace_dir, path, max_bytes=max_bytes)


KIND = ToolKind(
    kind="read_file",
    run=run,
    description="Read a UTF-8 text file from the workspace. Paths are relative to the workspace.",
    parameters=PARAMETERS,
)
