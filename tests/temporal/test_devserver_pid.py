"""The pid file of `orch up`'s dev server: a leftover of its own is stopped, any other process is
left alone (its pid file removed). Every process here is one the test started, on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from temporal import devserver_pid
from temporal.devserver import dev_server_command, temporal_binary
from tests.support.temporal import free_port

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not devserver_pid.can_check(), reason="needs /proc (Linux)"),
]


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the test starts; killed (by pid) at the end if still running."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def sleeper(started: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["sleep", "60"])
    started.append(proc)
    return proc


def a_dead_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def write_record(
    path: Path, pid: int, cmdline: list[str], *, owner: int, start: int | None = None
) -> None:
    record = devserver_pid.record_of(pid, cmdline)
    assert record is not None
    devserver_pid.write(
        path,
        devserver_pid.DevServerRecord(
            pid=pid,
            start_time=record.start_time if start is None else start,
            cmdline=tuple(cmdline),
            owner_pid=owner,
        ),
    )


def dev_command(db: Path) -> list[str]:
    return dev_server_command(port=free_port(), ui_port=free_port(), db_file=db)


@pytest.mark.parametrize(
    "claim",
    ["a dev server command", "its own command", "another start time", "no owner"],
)
def test_a_pid_file_that_names_another_program_never_touches_it(
    claim: str, tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    db = tmp_path / "temporal.db"
    pid_file = devserver_pid.pid_file_for(db)
    sleep = sleeper(started)
    if claim == "a dev server command":  # its /proc cmdline says otherwise
        write_record(pid_file, sleep.pid, dev_command(db), owner=a_dead_pid())
    elif claim == "its own command":  # true, but that is not a dev server
        write_record(pid_file, sleep.pid, ["sleep", "60"], owner=a_dead_pid())
    elif claim == "another start time":  # the pid was reused
        write_record(pid_file, sleep.pid, ["sleep", "60"], owner=a_dead_pid(), start=1)
    else:
        pid_file.write_text(json.dumps({"pid": sleep.pid}))

    said = devserver_pid.clear_leftover(pid_file, temporal_binary(), db, timeout_s=2)

    assert sleep.poll() is None, said  # still running
    assert not pid_file.exists()
    assert "removed" in said and "stopped" not in said


def test_a_dead_pid_only_removes_the_file(tmp_path: Path) -> None:
    db = tmp_path / "temporal.db"
    pid_file = devserver_pid.pid_file_for(db)
    devserver_pid.write(
        pid_file,
        devserver_pid.DevServerRecord(
            pid=a_dead_pid(), start_time=1, cmdline=tuple(dev_command(db)), owner_pid=1
        ),
    )
    said = devserver_pid.clear_leftover(pid_file, temporal_binary(), db)
    assert "is gone" in said and not pid_file.exists()


def test_no_pid_file_does_nothing(tmp_path: Path) -> None:
    db = tmp_path / "temporal.db"
    assert devserver_pid.clear_leftover(devserver_pid.pid_file_for(db), temporal_binary(), db) == ""


def test_a_leftover_dev_server_on_the_same_db_is_stopped(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    db = tmp_path / "temporal.db"
    pid_file = devserver_pid.pid_file_for(db)
    cmd = dev_command(db)
    server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    started.append(server)
    # Recorded by an `orch up` that is gone: the server's parent is not its owner any more.
    write_record(pid_file, server.pid, cmd, owner=a_dead_pid())

    said = devserver_pid.clear_leftover(pid_file, temporal_binary(), db)

    assert said == (
        f"stopped the dev server (pid {server.pid}) that an earlier orch up left running"
    )
    assert server.wait(timeout=5) is not None
    assert not pid_file.exists()


def test_the_dev_server_of_a_running_orch_up_is_left_alone(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    db = tmp_path / "temporal.db"
    pid_file = devserver_pid.pid_file_for(db)
    cmd = dev_command(db)
    server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    started.append(server)
    write_record(pid_file, server.pid, cmd, owner=os.getpid())  # this process: alive

    said = devserver_pid.clear_leftover(pid_file, temporal_binary(), db, timeout_s=2)

    assert "still running" in said
    assert server.poll() is None and pid_file.exists()


def test_a_dev_server_on_another_db_is_left_alone(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    db = tmp_path / "temporal.db"
    pid_file = devserver_pid.pid_file_for(db)
    cmd = dev_command(tmp_path / "other.db")
    server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    started.append(server)
    write_record(pid_file, server.pid, cmd, owner=a_dead_pid())

    said = devserver_pid.clear_leftover(pid_file, temporal_binary(), db, timeout_s=2)

    assert "not the dev server orch up would start" in said
    assert server.poll() is None and not pid_file.exists()


def test_the_check_reads_the_dev_server_command_exactly(tmp_path: Path) -> None:
    db = tmp_path / "temporal.db"
    binary = temporal_binary()
    assert devserver_pid.is_dev_server_for(dev_command(db), binary, db)
    assert not devserver_pid.is_dev_server_for(dev_command(tmp_path / "x.db"), binary, db)
    assert not devserver_pid.is_dev_server_for([sys.executable, "server", "start-dev"], binary, db)
    assert not devserver_pid.is_dev_server_for([*dev_command(db)[:-1]], binary, db)
