"""`orch run`: follow a run from a terminal, and steer it from there.

Tokens print as they come; approvals are asked as y/n questions and `ask_user` questions at a
prompt (when interactive); Ctrl-C offers to cancel the run; a long quiet wait says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from typing import Any

from temporalio.client import Client

from config_store.db import make_engine, make_session_factory
from core.errors import OrchError
from core.settings import Settings
from orch.terminal import format_event
from services.runs import launch_run
from temporal.client import connect, workflow_ui_url
from temporal.control import cancel_run, provide_input, resolve_approval
from temporal.stream import run_events
from workflows.events import TERMINAL_EVENTS
from workflows.types import ApprovalDecision, UserInput

QUIET_S = 10.0  # say "still waiting" after this long without an event


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


async def _ask(prompt: str) -> str:
    """A line from the terminal, read without blocking the event loop."""
    _write(prompt)
    line: str = await asyncio.to_thread(sys.stdin.readline)
    return line.strip()


class Follower:
    def __init__(self, client: Client, run_id: str, *, interactive: bool) -> None:
        self._client = client
        self._run_id = run_id
        self._interactive = interactive
        self._mid_line = False  # token text printed without its newline yet
        self._last_event = time.monotonic()
        self._step = 0
        self._prompts: set[asyncio.Task[None]] = set()

    async def follow(self) -> int:
        """Print the run's events until its terminal one; 0 when it completed."""
        loop = asyncio.get_running_loop()
        interrupted = asyncio.Event()
        if self._interactive:  # else Ctrl-C just stops following; the run goes on
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signal.SIGINT, interrupted.set)
        watchdog = asyncio.create_task(self._watch_quiet())
        interrupts = asyncio.create_task(self._on_interrupt(interrupted))
        final = ""
        try:
            async for item in run_events(self._client, self._run_id):
                final = self._show(item.event)
                if final in TERMINAL_EVENTS:
                    break
        finally:
            for task in (watchdog, interrupts, *self._prompts):
                task.cancel()
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
        return 0 if final == "run.completed" else 1

    def _show(self, event: dict[str, Any]) -> str:
        self._last_event = time.monotonic()
        kind = str(event.get("type", ""))
        self._step = int(event.get("step") or self._step)
        data = event.get("data", {})
        if kind == "llm.delta":
            if not self._mid_line:
                _write(f"step {self._step} model: ")
            _write(str(data.get("text", "")))
            self._mid_line = True
            return kind
        if self._mid_line:
            _write("\n")
            self._mid_line = False
        line = format_event(event)
        if line is not None:
            _write(line + "\n")
        if kind == "approval.requested":
            self._prompt(self._approve(data))
        elif kind == "input.requested":
            self._prompt(self._answer(data))
        return kind

    def _prompt(self, work: Any) -> None:
        if not self._interactive:
            return
        task = asyncio.create_task(work)
        self._prompts.add(task)
        task.add_done_callback(self._prompts.discard)

    async def _approve(self, data: dict[str, Any]) -> None:
        call = f"{data['tool']}({json.dumps(data['arguments'])})"
        reply = await _ask(f"approve {call}? [y/N] ")
        approve = reply.lower() in ("y", "yes")
        reason = "" if approve else "rejected at the terminal"
        decision = ApprovalDecision(
            call_id=str(data["call_id"]), approve=approve, reason=reason, by="orch run"
        )
        try:
            await resolve_approval(self._client, self._run_id, decision)
        except OrchError as err:
            _write(f"(not recorded: {err})\n")

    async def _answer(self, data: dict[str, Any]) -> None:
        text = await _ask(f"{data['question']}\n> ")
        try:
            reply = UserInput(text=text or "(no answer)", call_id=str(data["call_id"]))
            await provide_input(self._client, self._run_id, reply)
        except OrchError as err:
            _write(f"(not recorded: {err})\n")

    async def _on_interrupt(self, interrupted: asyncio.Event) -> None:
        while True:
            await interrupted.wait()
            interrupted.clear()
            if (await _ask("\ncancel the run? [y/N] ")).lower() in ("y", "yes"):
                await cancel_run(self._client, self._run_id)
                _write("cancelling...\n")

    async def _watch_quiet(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            quiet = time.monotonic() - self._last_event
            if quiet >= QUIET_S:
                _write(f"... still waiting (step {self._step}, {quiet:.0f} s without news)\n")
                self._last_event = time.monotonic()


async def run_and_follow(
    settings: Settings,
    agent: str,
    text: str,
    variables: dict[str, str] | None = None,
    *,
    interactive: bool = False,
) -> int:
    """Start a run of `agent` and follow it; 0 when it completes."""
    engine = make_engine(settings.database_url)
    try:
        client = await connect(settings)
        run_id, _ = await launch_run(
            make_session_factory(engine),
            client,
            task_queue=settings.temporal_task_queue,
            text=text,
            agent=agent,
            variables=variables,
            follow=True,  # it follows the run's stream, tokens included, from the start
        )
    finally:
        engine.dispose()
    _write(f"run {run_id}  {workflow_ui_url(settings, run_id)}\n")
    return await Follower(client, run_id, interactive=interactive).follow()
