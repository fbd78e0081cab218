"""The pid file of `orch up`'s dev server, and how a later `orch up` clears a leftover of its own.

`orch up` records, next to DEV_SERVER_DB, the pid of the dev server it started, that process's
start time and command line, and its own pid. A later `orch up` stops the recorded process only
when all of these hold (on Linux, read from /proc):

- a process with that pid is alive and started at the recorded time (so the pid was not reused);
- its command line is the recorded one, and that is a `temporal server start-dev` of the same
  binary on the same db file (what `orch up` would start);
- its parent is no longer the `orch up` that started it (a running `orch up` keeps its own).

Anything else is some other program's process, or a dead one: the pid file is just removed.
The signal goes through a pidfd opened before those checks, so it cannot reach a process that
took the pid in between.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class DevServerRecord:
    pid: int
    start_time: int  # clock ticks after boot (/proc/<pid>/stat, field 22)
    cmdline: tuple[str, ...]
    owner_pid: int  # the `orch up` that started it


@dataclass(frozen=True)
class _Stat:
    parent: int
    start_time: int
    zombie: bool


def pid_file_for(db_file: Path) -> Path:
    """`.orch/temporal.db` -> `.orch/temporal.db.pid`: one pid file per dev server db."""
    return db_file.with_name(db_file.name + ".pid")


def can_check() -> bool:
    """Whether this system shows other processes' start times and command lines (Linux)."""
    return (PROC / "self" / "stat").exists()


def _stat(pid: int) -> _Stat | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and ")", so split after the last ")".
    fields = text[text.rindex(")") + 2 :].split()
    return _Stat(parent=int(fields[1]), start_time=int(fields[19]), zombie=fields[0] in "ZX")


def _cmdline(pid: int) -> tuple[str, ...] | None:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return tuple(os.fsdecode(part) for part in raw.split(b"\0")[:-1])


def record_of(pid: int, cmdline: Sequence[str]) -> DevServerRecord | None:
    """The record of a process this one just started, or None where /proc does not tell."""
    stat = _stat(pid)
    if stat is None:
        return None
    return DevServerRecord(
        pid=pid, start_time=stat.start_time, cmdline=tuple(cmdline), owner_pid=os.getpid()
    )


def write(path: Path, record: DevServerRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(
        json.dumps(
            {
                "pid": record.pid,
                "start_time": record.start_time,
                "cmdline": list(record.cmdline),
                "owner_pid": record.owner_pid,
            }
        )
    )
    partial.replace(path)


def read(path: Path) -> DevServerRecord | None:
    """The record in `path`; None when there is none or it is not one of ours."""
    try:
        data = json.loads(path.read_text())
        return DevServerRecord(
            pid=int(data["pid"]),
            start_time=int(data["start_time"]),
            cmdline=tuple(str(part) for part in data["cmdline"]),
            owner_pid=int(data["owner_pid"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def is_dev_server_for(cmdline: Sequence[str], binary: Path, db_file: Path) -> bool:
    """Whether `cmdline` is a dev server of `binary` on `db_file`, as `orch up` starts one."""
    args = list(cmdline)
    if args[:3] != [str(binary), "server", "start-dev"] or "--db-filename" not in args:
        return False
    at = args.index("--db-filename")
    return at + 1 < len(args) and args[at + 1] == str(db_file)


def _is_the_recorded_leftover(
    record: DevServerRecord, binary: Path, db_file: Path
) -> tuple[bool, str]:
    stat = _stat(record.pid)
    if stat is None or stat.zombie:
        return False, "it is not running"
    if stat.start_time != record.start_time or _cmdline(record.pid) != record.cmdline:
        return False, "that pid now belongs to another program"
    if not is_dev_server_for(record.cmdline, binary, db_file):
        return False, "it is not the dev server orch up would start"
    if stat.parent == record.owner_pid:
        return False, "the orch up that started it is still running"
    return True, ""


def clear_leftover(path: Path, binary: Path, db_file: Path, *, timeout_s: float = 10.0) -> str:
    """Stop the dev server a dead `orch up` left behind on `db_file`, if `path` names one that
    passes every check above; otherwise touch no process. Returns what it did, in words."""
    record = read(path)
    if record is None:
        if path.exists():
            remove(path)
            return f"removed {path}: not a pid file of orch up"
        return ""
    if not can_check():
        return ""
    try:
        pidfd = os.pidfd_open(record.pid)
    except ProcessLookupError:
        remove(path)
        return f"removed the stale {path}: process {record.pid} is gone"
    except OSError:  # no pidfds (Linux before 5.3): no safe way to signal it, so leave it be
        return ""
    try:
        # Checked after the pidfd is open: the signal below reaches this process or none.
        leftover, why = _is_the_recorded_leftover(record, binary, db_file)
        if not leftover:
            if why != "the orch up that started it is still running":
                remove(path)
                return f"removed the stale {path}: process {record.pid} left alone ({why})"
            return f"left {path} alone: {why} (pid {record.owner_pid})"
        with contextlib.suppress(ProcessLookupError):  # it may end by itself meanwhile
            signal.pidfd_send_signal(pidfd, signal.SIGTERM)
            if not _exited(pidfd, timeout_s):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                _exited(pidfd, 5.0)
    finally:
        os.close(pidfd)
    remove(path)
    return f"stopped the dev server (pid {record.pid}) that an earlier orch up left running"


def _exited(pidfd: int, timeout_s: float) -> bool:
    """Wait for the process of `pidfd` to exit (a pidfd turns readable when it does)."""
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return bool(poller.poll(int(timeout_s * 1000)))
