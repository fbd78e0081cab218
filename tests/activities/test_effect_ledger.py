"""write_file through the workspace's effect ledger: a call (one idempotency key) changes the
file once, whatever the retries, and a retry answers as the first attempt did. The crashes are
real: a child process that dies (os._exit) at the step under test."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.tools.activity import ToolActivities
from activities.tools.base import ToolContext, ToolError
from activities.tools.effects import LEDGER_DIR, temp_name
from activities.tools.list_files import list_entries
from activities.tools.net import idempotency_key
from activities.tools.write_file import write_text
from config_store.transcript import TranscriptStore
from workflows.types import ToolCall, ToolCallInput, ToolSpec

KEY = "orch-0123456789abcdef0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


def crash_during(ws: Path, step: str, path: str, content: str, mode: str) -> None:
    """write_text with KEY in a child process that dies at `step`: "link" (the commit) or
    "rename" (moving the new content into place, after the commit: a link for `create`)."""
    code = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from activities.tools.write_file import write_text
        real_link, real_replace = os.link, os.replace
        def link(src, dst, **kw):
            if {step!r} == "link" and dst == {KEY!r}:
                os._exit(9)
            if {step!r} == "rename" and dst != {KEY!r}:  # `create` links it into place
                os._exit(9)
            return real_link(src, dst, **kw)
        def replace(src, dst, **kw):
            if {step!r} == "rename" and src.startswith(".write_file-"):
                os._exit(9)
            return real_replace(src, dst, **kw)
        os.link, os.replace = link, replace
        write_text(Path({str(ws)!r}), {path!r}, {content!r}, mode={mode!r}, effect_key={KEY!r})
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, timeout=60
    )
    assert done.returncode == 9


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "log.txt").write_text("one\n")
    return root


@pytest.mark.parametrize("mode", ["overwrite", "append", "create"])
def test_a_repeated_call_writes_once_and_answers_the_same(ws: Path, mode: str) -> None:
    first = write_text(ws, "docs/new.txt", "two\n", mode=mode, effect_key=KEY)
    again = write_text(ws, "docs/new.txt", "two\n", mode=mode, effect_key=KEY)
    assert again == first
    assert (ws / "docs" / "new.txt").read_text() == "two\n"
    other = write_text(ws, "docs/log.txt", "two\n", mode="append", effect_key=KEY + "x")
    assert other == "appended 4 bytes to docs/log.txt (now 8 bytes)"
    assert write_text(ws, "docs/log.txt", "two\n", mode="append", effect_key=KEY + "x") == other
    assert (ws / "docs" / "log.txt").read_text() == "one\ntwo\n"
    # What stays: one small record per call, no content, no temporary files.
    assert sorted(p.name for p in (ws / LEDGER_DIR).iterdir()) == [f"{KEY}.json", f"{KEY}x.json"]
    assert sorted(p.name for p in (ws / "docs").iterdir()) == ["log.txt", "new.txt"]


@pytest.mark.parametrize("mode", ["overwrite", "append", "create"])
def test_a_crash_after_the_commit_is_finished_by_the_retry_not_repeated(
    ws: Path, mode: str
) -> None:
    path = "docs/log.txt" if mode != "create" else "docs/fresh.txt"
    crash_during(ws, "rename", path, "two\n", mode)
    # Committed (the ledger holds the new content), not yet in place.
    assert (ws / LEDGER_DIR / KEY).exists() and (ws / "docs" / temp_name(KEY)).exists()
    result = write_text(ws, path, "two\n", mode=mode, effect_key=KEY)
    expected = {"overwrite": "two\n", "append": "one\ntwo\n", "create": "two\n"}[mode]
    assert (ws / path).read_text() == expected
    assert write_text(ws, path, "two\n", mode=mode, effect_key=KEY) == result
    assert (ws / path).read_text() == expected
    assert not (ws / LEDGER_DIR / KEY).exists() and not (ws / "docs" / temp_name(KEY)).exists()
    meta = json.loads((ws / LEDGER_DIR / f"{KEY}.json").read_text())
    assert meta == {"result": result, "done": True}


def test_a_crash_before_the_commit_changed_nothing_and_the_retry_writes_once(ws: Path) -> None:
    crash_during(ws, "link", "docs/log.txt", "two\n", "append")
    assert (ws / "docs" / "log.txt").read_text() == "one\n"
    result = write_text(ws, "docs/log.txt", "two\n", mode="append", effect_key=KEY)
    assert result == "appended 4 bytes to docs/log.txt (now 8 bytes)"
    assert write_text(ws, "docs/log.txt", "two\n", mode="append", effect_key=KEY) == result
    assert (ws / "docs" / "log.txt").read_text() == "one\ntwo\n"
    assert sorted(p.name for p in (ws / "docs").iterdir()) == ["log.txt"]


def test_the_ledger_is_neither_listed_nor_writable(ws: Path) -> None:
    write_text(ws, "a.txt", "x", effect_key=KEY)
    assert LEDGER_DIR not in list_entries(ws, ".", recursive=True)
    for path in (f"{LEDGER_DIR}/{KEY}.json", f"docs/../{LEDGER_DIR}/x"):
        with pytest.raises(ToolError, match="ledger"):
            write_text(ws, path, "{}", effect_key=KEY + "y")
        with pytest.raises(ToolError, match="ledger"):
            write_text(ws, path, "{}")


async def test_the_tool_activity_keys_writes_by_the_call(
    session_factory: sessionmaker[Session], ws: Path
) -> None:
    tools = ToolActivities(TranscriptStore(session_factory), ToolContext(workspace_dir=ws))
    tool = ToolSpec(name="write_file", kind="write_file")
    call = ToolCall(id="c1", name="write_file", arguments={"path": "n.txt", "content": "hi"})
    outcome = await ActivityEnvironment().run(
        tools.tool_call, ToolCallInput(run_id="fx-1", seq=2, step=1, call=call, tool=tool)
    )
    assert outcome.ok and outcome.preview == "wrote 2 bytes to n.txt"
    assert (ws / LEDGER_DIR / f"{idempotency_key('fx-1', 'c1')}-2.json").exists()
    # A model that gives a later call the same id: another call, another write.
    again = dataclasses.replace(call, arguments={**call.arguments, "mode": "append"})
    later = ToolCallInput(run_id="fx-1", seq=4, step=2, call=again, tool=tool)
    assert (await ActivityEnvironment().run(tools.tool_call, later)).ok
    assert (ws / "n.txt").read_text() == "hihi"
