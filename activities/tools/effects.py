"""The workspace's effect ledger: a file write keyed by its call (its idempotency key and
transcript position, write_file.effect_key) happens once.

A tool call that changes a file we hold (write_file, every mode) is applied as a small
write-ahead journal in `<workspace>/.orch-effects/`, under one lock per workspace:

1. the new content goes to a temporary file beside the target, named after the key, synced;
2. `<key>.json` records the call's result text (pending);
3. **commit**: the temporary file is hard-linked into the ledger as `<key>`. One `link()` is
   atomic: after it the change is decided, before it nothing has happened;
4. the temporary file is renamed over the target (or linked, for `create`);
5. `<key>.json` is marked done and the `<key>` link is removed.

A retry of the same call finds `<key>.json`: done, or committed with the rename still to do
(the temporary file is still there and is the ledger's inode), which it finishes; either way it
returns the first attempt's result and writes nothing more. A `<key>.json` without the commit
link is an attempt cut off before step 3: nothing happened, and the retry writes afresh. The
target changes only in step 4, one rename, so readers see the old content or the new, never half.

The ledger keeps one small `<key>.json` per write (the result text), so a retry of a write
from long ago still answers; `prune` removes those older than a given age (services/prune.py:
EFFECTS_RETENTION_DAYS), with the records of attempts cut off that long ago.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

LEDGER_DIR = ".orch-effects"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class LedgerUnavailable(Exception):
    """The ledger cannot hold this write (the target's folder is on another file system)."""


@contextlib.contextmanager
def open_ledger(workspace_dir: Path) -> Iterator[int]:
    """The ledger folder's descriptor, holding the workspace's write lock until the block ends
    (an flock: it serialises the writes of every worker process on this host)."""
    root = os.open(workspace_dir, _DIR_FLAGS)
    try:
        with contextlib.suppress(FileExistsError):
            os.mkdir(LEDGER_DIR, 0o700, dir_fd=root)
        fd = os.open(LEDGER_DIR, _DIR_FLAGS, dir_fd=root)
    finally:
        os.close(root)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def temp_name(key: str) -> str:
    return f".write_file-{key}.tmp"


def recorded(
    ledger: int, key: str, dir_fd: int, name: str, finish: Callable[[str], None]
) -> str | None:
    """The result of the write keyed `key` if it was committed (finishing it if a crash cut it
    off after the commit), or None when it never was."""
    meta = _read_meta(ledger, key)
    if meta is None:
        return None
    result = str(meta.get("result", ""))
    if meta.get("done") is True:
        return result
    entry = _lstat(ledger, key)
    if entry is None:
        return None  # cut off before the commit: nothing happened
    temp = temp_name(key)
    target, pending = _lstat(dir_fd, name), _lstat(dir_fd, temp)
    applied = target is not None and _same(target, entry)
    if pending is not None and _same(pending, entry):
        if applied:  # `create` linked it, the temporary name was not removed yet
            _remove(dir_fd, temp)
        else:
            try:
                finish(temp)  # the rename that the crash cut off
            except BaseException:
                _remove(ledger, key)
                _remove(ledger, f"{key}.json")
                _remove(dir_fd, temp)
                raise
            _remove(dir_fd, temp)  # still there when `create` linked it
            _sync(dir_fd)
    _done(ledger, key, result)
    return result


def commit(
    ledger: int,
    key: str,
    dir_fd: int,
    data: bytes,
    mode: int | None,
    result: str,
    finish: Callable[[str], None],
) -> None:
    """Write `data` through the journal (steps 1-5 above); `finish(temp)` moves the temporary
    file to the target. LedgerUnavailable before anything changed if the link cannot be made."""
    temp = temp_name(key)
    _remove(dir_fd, temp)  # left by an attempt cut off before its commit
    fd = os.open(temp, _NEW_FILE_FLAGS, 0o666, dir_fd=dir_fd)
    committed = False
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        _write_meta(ledger, key, {"result": result, "done": False})
        try:
            os.link(temp, key, src_dir_fd=dir_fd, dst_dir_fd=ledger, follow_symlinks=False)
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EOPNOTSUPP):
                raise LedgerUnavailable(str(exc)) from exc
            raise
        committed = True
        _sync(ledger)
        try:
            finish(temp)
        except BaseException:
            # Not applied after all (a `create` that found the file made meanwhile): undone, so
            # that a retry neither claims it nor finds it half done.
            _remove(ledger, key)
            _remove(ledger, f"{key}.json")
            raise
        _sync(dir_fd)
    finally:
        if not committed or _lstat(dir_fd, temp) is not None:
            _remove(dir_fd, temp)
    _done(ledger, key, result)


# Records one hold of the ledger's lock prunes at most (writes wait while it is held).
PRUNE_BATCH = 500


def prune(ledger: int, older_than_s: float, *, limit: int = PRUNE_BATCH) -> int:
    """Remove at most `limit` records last written more than `older_than_s` ago: those of
    writes done, and those of attempts cut off (their commit link too); the caller holds the
    lock. How many were removed."""
    removed = 0
    cutoff = time.time() - older_than_s
    with os.scandir(ledger) as entries:
        names = [entry.name for entry in entries]
    for name in names:
        if removed >= limit:
            break
        info = _lstat(ledger, name)
        if info is None or info.st_mtime >= cutoff:
            continue
        if name.startswith(".") and name.endswith(".json.tmp"):
            _remove(ledger, name)  # a record write cut off before its rename
        elif name.endswith(".json"):
            _remove(ledger, name[: -len(".json")])  # the commit link of a write cut off after it
            _remove(ledger, name)
            removed += 1
    return removed


def prune_workspace(
    workspace_dir: Path, older_than_s: float, *, batch: int = PRUNE_BATCH, limit: int = 50_000
) -> int:
    """`prune` the workspace's ledger, `batch` records per hold of its lock, at most `limit`
    in all; a workspace with no ledger is left as it is. How many were removed."""
    if not (workspace_dir / LEDGER_DIR).is_dir():
        return 0
    removed = 0
    while removed < limit:
        with open_ledger(workspace_dir) as ledger:
            gone = prune(ledger, older_than_s, limit=min(batch, limit - removed))
        removed += gone
        if gone < batch:
            break
    return removed


def _done(ledger: int, key: str, result: str) -> None:
    _write_meta(ledger, key, {"result": result, "done": True})
    _remove(ledger, key)


def _write_meta(ledger: int, key: str, meta: dict[str, object]) -> None:
    temp = f".{key}.json.tmp"
    _remove(ledger, temp)
    fd = os.open(temp, _NEW_FILE_FLAGS, 0o600, dir_fd=ledger)
    try:
        os.write(fd, json.dumps(meta).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, f"{key}.json", src_dir_fd=ledger, dst_dir_fd=ledger)
    _sync(ledger)


def _read_meta(ledger: int, key: str) -> dict[str, object] | None:
    try:
        fd = os.open(f"{key}.json", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=ledger)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as file:
        try:
            found = json.loads(file.read())
        except ValueError:
            return None  # cannot be: written whole by rename; treated as never written
    return found if isinstance(found, dict) else None


def _lstat(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _remove(dir_fd: int, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=dir_fd)


def _sync(dir_fd: int) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot sync a directory
        os.fsync(dir_fd)
