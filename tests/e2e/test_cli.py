"""The `orch` command line, run as a user runs it (a subprocess with settings in its env)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from tests.support.auth import AUTH
from tests.support.cli import client_env, orch
from tests.support.temporal import EXAMPLE_CONFIG


def test_db_and_seed_commands(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}
    early = orch(env, "seed", str(EXAMPLE_CONFIG))  # before the schema exists
    assert early.returncode == 2 and "Traceback" not in early.stderr
    assert "run `orch db upgrade` first" in early.stderr
    assert orch(env, "db", "upgrade").returncode == 0
    assert orch(env, "db", "check").returncode == 0
    first = orch(env, "seed", str(EXAMPLE_CONFIG))
    assert first.returncode == 0, first.stderr
    again = orch(env, "seed", str(EXAMPLE_CONFIG))
    assert again.returncode == 0 and "seeded" in again.stdout

    refused = orch(env, "db", "downgrade", "0002")  # the example config has an ask_user tool
    assert refused.returncode == 2, refused.stderr
    assert "delete them first" in refused.stderr and "Traceback" not in refused.stderr

    # The refusal changed nothing: still at the newest revision, which `seed` insists on.
    bad = tmp_path / "bad.yaml"
    bad.write_text("agents:\n  - name: x\n    provider: nowhere\n    model: m\n")
    refused = orch(env, "seed", str(bad))
    assert refused.returncode == 2
    assert "agents[0].provider" in refused.stderr and "Traceback" not in refused.stderr


async def test_run_prints_the_events_and_runs_lists_it(api_url: str) -> None:
    env = client_env(api_url)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "orch.cli",
        "run",
        "demo",
        "What is 12*7?",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    lines = out.decode().splitlines()
    assert proc.returncode == 0, err.decode()
    assert lines[0].startswith("run run-")
    assert any("calculator" in line and "84" in line for line in lines)
    assert lines[-1].startswith("completed (answer")
    answer = [line for line in lines if " model: " in line][-1].split(" model: ", 1)[1]
    assert "84" in answer and sum(answer in line for line in lines) == 1  # the answer, once

    run_id = lines[0].split()[1]
    malformed = await asyncio.to_thread(orch, env, "run", "demo", "hi", "--var", "novalue")
    assert malformed.returncode == 2 and "NAME=VALUE" in malformed.stderr
    # `orch runs` reads Temporal visibility, which is eventually consistent.
    deadline = time.monotonic() + 20
    while True:
        listed = await asyncio.to_thread(orch, env, "runs", "--agent", "demo", "--limit", "200")
        assert listed.returncode == 0, listed.stderr
        if run_id in listed.stdout or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert f"{run_id}  demo  completed" in listed.stdout


async def test_run_asks_approvals_and_questions_at_the_prompt(api_url: str) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        for tool in (
            {"name": "guarded_calc", "kind": "calculator", "requires_approval": True},
            {"name": "ask", "kind": "ask_user"},
        ):
            assert (await http.post("/v1/tools", json=tool)).status_code == 201
        agent = {
            "name": "interviewer",
            "provider": "offline",
            "tools": ["guarded_calc", "ask"],
            "script": [
                {"tool_calls": [{"name": "ask", "arguments": {"question": "Which city?"}}]},
                {"tool_calls": [{"name": "guarded_calc", "arguments": {"expression": "12*7"}}]},
                {"text": "done"},
            ],
        }
        assert (await http.post("/v1/agents", json=agent)).status_code == 201

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "orch.cli",
        "run",
        "interviewer",
        "go",
        "--interactive",
        env=client_env(api_url),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(b"Paris\ny\n"), timeout=60)
    text = out.decode()
    assert proc.returncode == 0, text + err.decode()
    assert "Which city?" in text and "approve guarded_calc" in text
    assert "ask: Paris" in text and "guarded_calc: 84" in text
    assert "step 3 model: done" in text.splitlines()
