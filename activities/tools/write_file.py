"""Write a UTF-8 text file in the run's workspace: atomically, capped, never through a symlink.

Overwrite and create write a temporary file next to the target and move it into place, so a
crash or a refused write leaves either the old content or the new, never half a file. A call
with an idempotency key (every call the tool activity runs) goes through the workspace's effect
ledger (activities/tools/effects.py): committed once, so a retry returns the first result and
writes nothing more; its `append` is a copy with the new end, moved into place the same way.

The final component is never followed: a symlink there is refused even when it points inside the
workspace, because replacing it would silently replace the link rather than the file the model
had in mind (write to the path it points to instead). Intermediate directories may be symlinks
that stay inside; activities/tools/workspace.py refuses everything else.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from activities.tools import effects, net, workspace
from activities.tools.base import ToolConfigError, ToolContext, ToolError, ToolImplementation
from workflows import tool_parameters
from workflows.tool_parameters import MODES

DEFAULT_MAX_BYTES = 1_000_000
MAX_MAX_BYTES = 100_000_000
# Hard links refused by the file system: `create` falls back to check-then-replace.
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV}
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO would otherwise wait for a reader.
_APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
_APPEND_FLAGS |= os.O_CLOEXEC

PARAMETERS = tool_parameters.WRITE_FILE
logger = logging.getLogger(__name__)


def write_text(
    workspace_dir: Path,
    path: str,
    content: str,
    *,
    mode: str = "overwrite",
    max_bytes: int = DEFAULT_MAX_BYTES,
    create_dirs: bool = True,
    effect_key: str | None = None,
) -> str:
    """Write `content` to `path` inside `workspace_dir`; ToolError for anything it refuses.
    With `effect_key`, at most once per key (the call's idempotency key)."""
    if mode not in MODES:
        raise ToolError(f"argument 'mode' must be one of {', '.join(MODES)}, not {mode!r}")
    try:
        data = content.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate from a JSON \ud800 escape
        raise ToolError(f"{path}: the content is not valid Unicode text") from exc
    if len(data) > max_bytes:
        raise ToolError(f"{path}: {len(data)} bytes, more than the limit of {max_bytes}")
    workspace.path_parts(path)  # first, so that "/etc/" is refused as absolute
    if path.endswith("/"):
        raise ToolError(f"{path}: ends with '/'; give the path of a file")
    if effect_key is not None:
        try:
            return _write_once(workspace_dir, path, data, mode, max_bytes, create_dirs, effect_key)
        except effects.LedgerUnavailable as exc:
            # The folder is on another file system than the workspace root: written unledgered.
            logger.warning("%s: written without the effect ledger (%s)", path, exc)
    with workspace.locate(
        workspace_dir, path, workspace.Final.NOFOLLOW, create_dirs=create_dirs
    ) as place:
        if place.name is None:
            raise ToolError(f"{path}: is a directory")
        _check_not_ledger(place, path)
        existing = _lstat(place.dir_fd, place.name, path)
        if existing is not None:
            _check_target(workspace_dir, path, existing, mode)
        try:
            if mode == "append":
                total = _append(place.dir_fd, place.name, data, path, max_bytes)
                return f"appended {len(data)} bytes to {place.relative} (now {total} bytes)"
            _replace(place.dir_fd, place.name, data, existing, exclusive=mode == "create")
        except FileExistsError as exc:  # made meanwhile, by a concurrent call
            raise ToolError(f"{path}: already exists; use mode 'overwrite' to replace it") from exc
        except PermissionError as exc:
            raise ToolError(f"{path}: permission denied") from exc
        except OSError as exc:
            raise ToolError(f"{path}: cannot write ({exc.strerror or type(exc).__name__})") from exc
        return f"wrote {len(data)} bytes to {place.relative}"


def _write_once(
    workspace_dir: Path,
    path: str,
    data: bytes,
    mode: str,
    max_bytes: int,
    create_dirs: bool,
    key: str,
) -> str:
    try:
        with (
            effects.open_ledger(workspace_dir) as ledger,
            workspace.locate(
                workspace_dir, path, workspace.Final.NOFOLLOW, create_dirs=create_dirs
            ) as place,
        ):
            if place.name is None:
                raise ToolError(f"{path}: is a directory")
            _check_not_ledger(place, path)
            name, dir_fd = place.name, place.dir_fd
            exclusive = mode == "create"

            def finish(temp: str) -> None:
                if exclusive:
                    _link_new(dir_fd, temp, name)
                else:
                    os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)

            done = effects.recorded(ledger, key, dir_fd, name, finish)
            if done is not None:
                return done
            existing = _lstat(dir_fd, name, path)
            if existing is not None:
                _check_target(workspace_dir, path, existing, mode)
            if mode == "append":
                before = _read_whole(dir_fd, name, path) if existing is not None else b""
                total = len(before) + len(data)
                if total > max_bytes:
                    raise ToolError(
                        f"{path}: would be {total} bytes after appending, "
                        f"more than the limit of {max_bytes}"
                    )
                result = f"appended {len(data)} bytes to {place.relative} (now {total} bytes)"
                data = before + data
            else:
                result = f"wrote {len(data)} bytes to {place.relative}"
            kept = None if existing is None else stat.S_IMODE(existing.st_mode)
            effects.commit(ledger, key, dir_fd, data, kept, result, finish)
            return result
    except FileExistsError as exc:  # made meanwhile, by a concurrent call
        raise ToolError(f"{path}: already exists; use mode 'overwrite' to replace it") from exc
    except PermissionError as exc:
        raise ToolError(f"{path}: permission denied") from exc
    except (ToolError, effects.LedgerUnavailable):
        raise
    except OSError as exc:
        raise ToolError(f"{path}: cannot write ({exc.strerror or type(exc).__name__})") from exc


def _check_not_ledger(place: workspace.Place, path: str) -> None:
    if place.relative.split("/")[0] == effects.LEDGER_DIR:
        raise ToolError(f"{path}: {effects.LEDGER_DIR} holds the worker's ledger of writes")


def _read_whole(dir_fd: int, name: str, path: str) -> bytes:
    """The file's content, for an append that writes a new copy with the new end."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink swapped in after the check
            raise ToolError(f"{path}: is a symbolic link") from exc
        raise
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ToolError(f"{path}: not a regular file")
        return file.read()


def _lstat(dir_fd: int, name: str, path: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ToolError(f"{path}: cannot resolve the path ({exc.strerror or exc})") from exc


def _check_target(workspace_dir: Path, path: str, existing: os.stat_result, mode: str) -> None:
    if stat.S_ISLNK(existing.st_mode):
        # Walk the link only to say where it leads: "outside" is the message that matters.
        with workspace.locate(workspace_dir, path, workspace.Final.FOLLOW):
            pass
        raise ToolError(
            f"{path}: is a symbolic link; write_file does not write through links, "
            "write to the path it points to"
        )
    if stat.S_ISDIR(existing.st_mode):
        raise ToolError(f"{path}: is a directory")
    if not stat.S_ISREG(existing.st_mode):
        raise ToolError(f"{path}: not a regular file")
    if mode == "create":
        raise ToolError(f"{path}: already exists; use mode 'overwrite' to replace it")


def _append(dir_fd: int, name: str, data: bytes, path: str, max_bytes: int) -> int:
    """Append `data`, refusing before a byte is written if the file would exceed `max_bytes`."""
    try:
        fd = os.open(name, _APPEND_FLAGS, 0o666, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink swapped in after the check
            raise ToolError(f"{path}: is a symbolic link") from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ToolError(f"{path}: not a regular file")
        total = info.st_size + len(data)
        if total > max_bytes:
            raise ToolError(
                f"{path}: would be {total} bytes after appending, "
                f"more than the limit of {max_bytes}"
            )
        _write_all(fd, data)
        return total
    finally:
        os.close(fd)


def _replace(
    dir_fd: int, name: str, data: bytes, existing: os.stat_result | None, *, exclusive: bool
) -> None:
    """Write a temporary file beside `name`, then move it over `name` in one step."""
    temp = f".write_file-{secrets.token_hex(8)}.tmp"
    fd = os.open(temp, _NEW_FILE_FLAGS, 0o666, dir_fd=dir_fd)
    try:
        try:
            if existing is not None:
                os.fchmod(fd, stat.S_IMODE(existing.st_mode))
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            _link_new(dir_fd, temp, name)
        else:
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    finally:
        _remove(dir_fd, temp)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    except OSError:
        pass  # some file systems cannot sync a directory; the data is already synced


def _link_new(dir_fd: int, temp: str, name: str) -> None:
    """Put `temp` at `name` only if nothing is there: a hard link fails on an existing name
    (FileExistsError), where a rename would replace it."""
    try:
        os.link(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        if isinstance(exc, FileExistsError) or exc.errno not in _NO_LINKS:
            raise
        try:  # no hard links here: check, then rename (racing only a concurrent call's write)
            os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            return
        raise FileExistsError(errno.EEXIST, "file exists", name) from exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _remove(dir_fd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass  # moved into place


def check_config(config: Mapping[str, Any]) -> None:
    """`max_bytes` (largest file written, default 1 MB) and `create_dirs` (default true)."""
    workspace.check_keys(config, ("max_bytes", "create_dirs"))
    _settings(config)


def _settings(config: Mapping[str, Any]) -> tuple[int, bool]:
    max_bytes = workspace.int_setting(config, "max_bytes", DEFAULT_MAX_BYTES, high=MAX_MAX_BYTES)
    return max_bytes, workspace.bool_setting(config, "create_dirs", True)


def effect_key(ctx: ToolContext) -> str | None:
    """The ledger key of a tool call's write: its idempotency key and its transcript position
    (a model may give two calls of a run the same id); None outside a tool call."""
    if not ctx.run_id or not ctx.call_id or ctx.seq < 0:
        return None
    return f"{net.idempotency_key(ctx.run_id, ctx.call_id)}-{ctx.seq}"


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    path, content = arguments.get("path"), arguments.get("content")
    if not isinstance(path, str) or not isinstance(content, str):
        raise ToolError("arguments 'path' and 'content' must be strings")
    mode = arguments.get("mode", "overwrite")
    if not isinstance(mode, str):
        raise ToolError("argument 'mode' must be a string")
    try:
        max_bytes, create_dirs = _settings(config)
    except ToolConfigError as err:
        raise workspace.setting_problem(err) from err
    key = effect_key(ctx)
    return await asyncio.to_thread(
        write_text,
        ctx.workspace_dir,
        path,
        content,
        mode=mode,
        max_bytes=max_bytes,
        create_dirs=create_dirs,
        effect_key=key,
    )


KIND = ToolImplementation(
    kind="write_file",
    run=run,
    description="Write a UTF-8 text file in the workspace (overwrite, append or create). "
    "Paths are relative to the workspace.",
    parameters=PARAMETERS,
    check_config=check_config,
)
