"""The API-client commands of `orch` (run, runs, cancel, approve, answer, the config commands)
as a user runs them: subprocesses that know only ORCH_URL and ORCH_TOKEN, against a dev server,
a worker and the API on ports of their own (none of the defaults). TEMPORAL_ADDRESS points
nowhere and DATABASE_URL at nothing: a command that used either would fail."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from core.settings import Settings
from tests.fakes.provider_server import FakeProviderServer, FakeReply
from tests.support.auth import ADMIN_TOKEN, AUTH
from tests.support.temporal import REPO, free_port, serving

pytestmark = pytest.mark.timeout(120)

KEY_ENV = "ORCH_TEST_CLI_PROVIDER_KEY"
UI = "http://temporal-ui.test:18233"  # the API's TEMPORAL_UI_URL: no default could print it
ANSWER = "Twelve times seven is eighty-four, as anyone can check."


def client_env(url: str | None, home: Path) -> dict[str, str]:
    """This process's environment without any orch, Temporal or database setting, plus ORCH_URL
    and ORCH_TOKEN (no URL: None)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ORCH_", "TEMPORAL_", "DATABASE_", "LOCAL_TOKEN", "DEV_SERVER"))
    }
    env.update(
        PYTHONPATH=str(REPO),
        ORCH_TOKEN=ADMIN_TOKEN,
        TEMPORAL_ADDRESS="127.0.0.1:1",
        DATABASE_URL=f"sqlite:///{home}/absent/none.db",
    )
    if url is not None:
        env["ORCH_URL"] = url
    return env


def cli(env: dict[str, str], home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orch.cli", *args],
        env=env,
        cwd=home,  # no .orch/ here: only ORCH_URL says where the API is
        capture_output=True,
        text=True,
        timeout=60,
    )


async def acli(env: dict[str, str], home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`cli`, off the event loop that serves the API and the worker."""
    return await asyncio.to_thread(cli, env, home, *args)


@pytest_asyncio.fixture
async def stack(
    orch_settings: Settings, worker: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """The API (TEMPORAL_UI_URL=UI) on a free port, with a worker; the fake provider's key set."""
    monkeypatch.setenv(KEY_ENV, "sk-test")
    async with serving(orch_settings.model_copy(update={"temporal_ui_url": UI})) as url:
        yield url


async def _create(url: str, path: str, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=AUTH) as http:
        made = await http.post(path, json=body)
        assert made.status_code == 201, made.text


async def _streaming_agent(url: str, fake: FakeProviderServer) -> None:
    provider = {
        "name": "fake",
        "kind": "openai",
        "base_url": fake.openai_base_url,
        "api_key_env": KEY_ENV,
    }
    await _create(url, "/v1/providers", provider)
    await _create(url, "/v1/agents", {"name": "streamer", "provider": "fake", "model": "m"})


async def test_run_streams_the_answer_once_and_runs_lists_it_with_only_orch_url(
    stack: str, fake_provider: FakeProviderServer, tmp_path: Path
) -> None:
    await _streaming_agent(stack, fake_provider)
    fake_provider.queue_reply(FakeReply(text=ANSWER, chunk_delay=0.02))
    env = client_env(stack, tmp_path)

    ran = await acli(env, tmp_path, "run", "streamer", "What is 12*7?")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    run_id = lines[0].split()[1]
    assert lines[0] == f"run {run_id}  {UI}/namespaces/default/workflows/{run_id}"
    assert ran.stdout.count(ANSWER) == 1, ran.stdout  # streamed, and not printed again
    assert f"step 1 model: {ANSWER}" in lines
    assert re.fullmatch(r"completed \(answer, 1 steps, \d+ tokens\)", lines[-1]), lines[-1]
    [request] = fake_provider.requests
    assert request.json["stream"] is True  # the answer came as deltas
    assert ran.stderr == ""

    deadline = time.monotonic() + 20  # Temporal visibility is eventually consistent
    while True:
        listed = await acli(env, tmp_path, "runs", "--agent", "streamer")
        assert listed.returncode == 0, listed.stderr
        if run_id in listed.stdout or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)
    assert f"{run_id}  streamer  completed" in listed.stdout


async def test_a_retried_model_call_prints_a_line(
    stack: str, fake_provider: FakeProviderServer, tmp_path: Path
) -> None:
    await _streaming_agent(stack, fake_provider)
    fake_provider.queue_fault(503)
    fake_provider.queue_text("four")
    ran = await acli(client_env(stack, tmp_path), tmp_path, "run", "streamer", "2+2?")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    retried = [line for line in ran.stdout.splitlines() if "retrying" in line]
    assert len(retried) == 1, ran.stdout
    assert retried[0].startswith("step 1: openai provider 'fake' (model m) answered 503")
    assert retried[0].endswith(", retrying in 1.0 s (attempt 2)")
    assert ran.stdout.count("four") == 1


async def test_no_interactive_prints_the_pending_question_and_the_command_that_answers_it(
    stack: str, tmp_path: Path
) -> None:
    await _create(stack, "/v1/tools", {"name": "ask", "kind": "ask_user"})
    await _create(
        stack,
        "/v1/tools",
        {"name": "guarded_calc", "kind": "calculator", "requires_approval": True},
    )
    script = [
        {"tool_calls": [{"name": "ask", "arguments": {"question": "Which city?"}}]},
        {"tool_calls": [{"name": "guarded_calc", "arguments": {"expression": "12*7"}}]},
        {"text": "done"},
    ]
    agent = {
        "name": "interviewer",
        "provider": "offline",
        "tools": ["ask", "guarded_calc"],
        "script": script,
    }
    await _create(stack, "/v1/agents", agent)
    env = client_env(stack, tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "orch.cli",
        "run",
        "interviewer",
        "go",
        "--no-interactive",
        env=env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    seen: list[str] = []

    async def line_starting(prefix: str) -> str:
        while True:
            raw = await asyncio.wait_for(proc.stdout.readline(), timeout=30)  # type: ignore[union-attr]
            assert raw, "".join(seen)
            seen.append(raw.decode())
            if raw.decode().strip().startswith(prefix):
                return raw.decode().strip()

    try:
        answer = await line_starting("answer:")
        assert any("question: Which city?" in line for line in seen), seen
        command = shlex.split(answer.removeprefix("answer:"))
        assert command[:2] == ["orch", "answer"] and command[-1] == "TEXT"
        answered = await acli(env, tmp_path, *command[1:-1], "Paris")
        assert answered.returncode == 0, answered.stdout + answered.stderr

        approve = await line_starting("approve:")
        assert any("waiting for approval: guarded_calc" in line for line in seen), seen
        command = shlex.split(approve.removeprefix("approve:"))
        assert command[:2] == ["orch", "approve"]
        approved = await acli(env, tmp_path, *command[1:])
        assert approved.returncode == 0, approved.stdout + approved.stderr
        assert "approved" in approved.stdout

        rest, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = "".join(seen) + rest.decode()
    assert proc.returncode == 0, text + err.decode()
    assert "ask: Paris" in text and "guarded_calc: 84" in text
    assert "RuntimeWarning" not in err.decode() and "never awaited" not in err.decode()
    assert text.splitlines()[-2:] == [
        "step 3 model: done",
        "completed (answer, 3 steps, 12 tokens)",
    ]
    again = await acli(env, tmp_path, *command[1:])  # nothing waits any more: a 409, one line
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    assert again.stderr.startswith("orch: 409")


async def test_ctrl_c_stops_following_with_130_and_cancel_ends_the_run(
    stack: str, tmp_path: Path
) -> None:
    await _create(stack, "/v1/tools", {"name": "ask", "kind": "ask_user"})
    script = [{"tool_calls": [{"name": "ask", "arguments": {"question": "Why?"}}]}]
    asker = {"name": "asker", "provider": "offline", "tools": ["ask"], "script": script}
    await _create(stack, "/v1/agents", asker)
    env = client_env(stack, tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "orch.cli",
        "run",
        "asker",
        "go",
        env=env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL,  # not a terminal: not interactive
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        first = (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).decode()
        run_id = first.split()[1]
        while not (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).startswith(
            b"  answer:"
        ):
            pass
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 130 and "Traceback" not in err.decode(), err.decode()

    async with httpx.AsyncClient(base_url=stack, timeout=30, headers=AUTH) as http:
        assert (await http.get(f"/v1/runs/{run_id}")).json()["status"] == "running"
        cancelled = await acli(env, tmp_path, "cancel", run_id)
        assert cancelled.returncode == 0, cancelled.stderr
        assert cancelled.stdout == f"run {run_id}: cancelling\n"
        deadline = time.monotonic() + 30
        while (await http.get(f"/v1/runs/{run_id}")).json()["status"] == "running":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        assert (await http.get(f"/v1/runs/{run_id}")).json()["status"] == "cancelled"


async def test_ctrl_c_at_a_question_offers_to_cancel_the_run(stack: str, tmp_path: Path) -> None:
    await _create(stack, "/v1/tools", {"name": "ask", "kind": "ask_user"})
    script = [{"tool_calls": [{"name": "ask", "arguments": {"question": "Why?"}}]}]
    asker = {"name": "asker", "provider": "offline", "tools": ["ask"], "script": script}
    await _create(stack, "/v1/agents", asker)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "orch.cli",
        "run",
        "asker",
        "go",
        "--interactive",
        env=client_env(stack, tmp_path),
        cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    seen = ""

    async def until(text: str) -> None:
        nonlocal seen
        while text not in seen:
            chunk = await asyncio.wait_for(proc.stdout.read(200), timeout=30)  # type: ignore[union-attr]
            assert chunk, seen
            seen += chunk.decode()

    try:
        await until("question: Why?\n> ")  # asked, waiting for the answer
        proc.send_signal(signal.SIGINT)
        await until("cancel the run? [y/N] ")  # asked first
        proc.stdin.write(b"y\n")
        await proc.stdin.drain()
        rest, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = seen + rest.decode()
    assert proc.returncode == 1, text + err.decode()  # it ended, and not completed
    assert "cancelling..." in text and text.splitlines()[-1].startswith("cancelled ("), text


async def test_usage_and_api_errors_are_one_line_and_exit_2(stack: str, tmp_path: Path) -> None:
    env = client_env(stack, tmp_path)
    bogus = await acli(env, tmp_path, "runs", "--status", "bogus")
    assert (bogus.returncode, bogus.stdout) == (2, "")
    assert bogus.stderr == (
        "orch: --status must be one of running, completed, failed, cancelled, terminated, "
        "timed_out\n"
    )
    empty = await acli(env, tmp_path, "run", "demo", "")
    assert empty.returncode == 2 and empty.stdout == ""
    assert empty.stderr.count("\n") == 1 and "(body.input)" in empty.stderr, empty.stderr
    assert empty.stderr == (  # as docs/cli.md shows it
        "orch: 422 validation_error (body.input): String should have at least 1 character\n"
    )
    nobody = await acli(env, tmp_path, "run", "nobody", "hi")
    assert nobody.returncode == 2 and nobody.stderr.startswith("orch: 404 ")

    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    unreachable = await acli(client_env(down, tmp_path), tmp_path, "run", "demo", "hi")
    assert unreachable.returncode == 2 and unreachable.stdout == ""
    assert unreachable.stderr.startswith(f"orch: cannot reach the orch API at {down}")
    assert unreachable.stderr.count("\n") == 1 and "Traceback" not in unreachable.stderr


async def test_temporal_down_behind_the_api_is_its_503_in_one_line(
    orch_settings: Settings, seeded: Any, tmp_path: Path
) -> None:
    down = orch_settings.model_copy(update={"temporal_address": "127.0.0.1:9"})
    async with serving(down) as url:
        ran = await acli(client_env(url, tmp_path), tmp_path, "run", "demo", "hi")
    assert ran.returncode == 2 and ran.stdout == ""
    assert ran.stderr.startswith("orch: 503 temporal_unavailable: ") and ran.stderr.count("\n") == 1


async def test_apply_creates_then_updates_and_a_refusal_names_its_field(
    stack: str, tmp_path: Path
) -> None:
    env = client_env(stack, tmp_path)
    tools = tmp_path / "tools.yaml"
    tools.write_text(
        "- name: calc2\n  kind: calculator\n- name: ask2\n  kind: ask_user\n  description: asks\n"
    )
    applied = await acli(env, tmp_path, "tools", "apply", "-f", str(tools))
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout == "created tool calc2\ncreated tool ask2\n"
    agent = {"name": "helper", "provider": "offline", "tools": ["calc2"], "max_steps": 3}
    agent_file = tmp_path / "agent.json"
    agent_file.write_text(json.dumps(agent))
    made = await acli(env, tmp_path, "agents", "apply", "-f", str(agent_file))
    assert made.stdout == "created agent helper (v1)\n", made.stderr
    agent_file.write_text(json.dumps({**agent, "max_steps": 4}))
    changed = await acli(env, tmp_path, "agents", "apply", "-f", str(agent_file))
    assert changed.stdout == "updated agent helper (v2)\n", changed.stderr

    shown = await acli(env, tmp_path, "agents", "show", "helper")
    body = json.loads(shown.stdout)
    assert (body["name"], body["version"], body["max_steps"], body["tools"]) == (
        "helper",
        2,
        4,
        ["calc2"],
    )
    listed = await acli(env, tmp_path, "tools", "list")
    assert "calc2  calculator" in listed.stdout.splitlines()

    agent_file.write_text(json.dumps({**agent, "max_steps": 0}))
    refused = await acli(env, tmp_path, "agents", "apply", "-f", str(agent_file))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "max_steps" in refused.stderr, refused.stderr
    assert refused.stderr == (  # as docs/cli.md shows it
        f"orch: {agent_file}: 422 invalid_config (max_steps): must be between 1 and 1000, got 0\n"
    )

    gone = await acli(env, tmp_path, "agents", "delete", "helper")
    assert gone.stdout == "deleted agent helper\n", gone.stderr
    missing = await acli(env, tmp_path, "agents", "show", "helper")
    assert missing.returncode == 2 and missing.stderr.startswith("orch: 404 ")


def test_a_failed_replay_prints_no_colour_codes_into_a_pipe(tmp_path: Path) -> None:
    data = json.loads((REPO / "tests" / "histories" / "approval_approved.json").read_text())
    for event in data["events"]:
        attrs = event.get("activityTaskScheduledEventAttributes")
        if attrs and attrs["activityType"]["name"] == "llm_step":
            attrs["activityType"]["name"] = "send_email"
            break
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data))
    bad = cli(client_env(None, tmp_path), tmp_path, "replay", str(tampered))
    assert bad.returncode == 1
    assert "replay FAILED" in bad.stdout and "send_email" in bad.stdout
    assert "\x1b" not in bad.stdout + bad.stderr
