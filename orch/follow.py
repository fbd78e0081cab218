"""`orch run`: start a run through the API, follow its events, and steer it from the terminal.

Tokens print as they come, and the answer once: an `llm.completed` or a run's end that carries
the text already streamed does not print it again. A retried model call prints a line
(`llm.retrying`). Approvals and `ask_user` questions are asked at the prompt when interactive;
otherwise the pending question is printed with the `orch approve` / `orch answer` command that
answers it, and the run is followed on. Ctrl-C offers to cancel the run (when interactive); a
long quiet wait says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from orch.client import AsyncOrch, OrchApiError, OrchConnectionError, RunEvent
from orch.prompts import Prompts
from orch.terminal import format_event

QUIET_S = 10.0  # say "still waiting" after this long without an event


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _command(*words: str) -> str:
    return " ".join(shlex.quote(word) for word in words)


class Follower:
    def __init__(self, orch: AsyncOrch, run_id: str, *, interactive: bool) -> None:
        self._orch = orch
        self._run_id = run_id
        self._interactive = interactive
        self._mid_line = False  # token text printed without its newline yet
        self._streaming: tuple[int, int] | None = None  # (step, attempt) of the streamed line
        self._streamed = ""  # the text of that line so far
        self._shown: str | None = None  # the model's last text the person saw whole
        self._done_steps: set[int] = set()
        self._child_texts: dict[str, str] = {}  # each sub-agent run's last model text, shown
        self._last_event = time.monotonic()
        self._step = 0
        self._prompts = Prompts(orch, run_id)

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
            async for event in self._orch.events(self._run_id, tokens=True):
                final = self._show(event)
                if event.terminal:
                    break
        finally:
            for task in (watchdog, interrupts):
                task.cancel()
            self._prompts.close()
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
        if self._mid_line:
            _write("\n")
        return 0 if final == "run.completed" else 1

    def _show(self, event: RunEvent) -> str:
        self._last_event = time.monotonic()
        kind = event.type
        self._step = event.step or self._step
        data = event.data
        if kind == "llm.delta":
            self._delta(self._step, int(data.get("attempt") or 1), str(data.get("text", "")))
            return kind
        if self._mid_line:
            _write("\n")
            self._mid_line = False
        shown = self._shown
        if kind == "llm.completed":
            streamed = self._streaming is not None and self._streaming[0] == self._step
            shown = self._streamed if streamed else None
            self._done_steps.add(self._step)
            self._streaming, self._streamed = None, ""
            self._shown = str(data.get("text") or "") or self._shown
        elif kind == "subagent.event":
            shown = self._child_shown(data)
        line = format_event({"type": kind, "step": event.step, "data": data}, shown=shown)
        if line is not None:
            _write(line + "\n")
        if kind == "approval.requested":
            self._pending("approval", data, self._approval_commands)
        elif kind == "input.requested":
            self._pending("input", data, self._answer_command)
        elif kind in ("approval.resolved", "input.received") and self._interactive:
            self._prompts.resolved(str(data["call_id"]))
        return kind

    def _child_shown(self, data: dict[str, Any]) -> str | None:
        """The text a sub-agent's event would repeat: its run's last model text, which its
        `llm.completed` line showed (a child's tokens are not streamed to the terminal)."""
        while data["event"].get("type") == "subagent.event":  # a grandchild's, wrapped twice
            data = data["event"]["data"]
        child, event = str(data["run_id"]), data["event"]
        if event.get("type") == "llm.completed":
            self._child_texts[child] = str(event.get("data", {}).get("text") or "")
            return None
        return self._child_texts.get(child)

    def _delta(self, step: int, attempt: int, text: str) -> None:
        if step in self._done_steps or not text:  # a late batch: its step's text is out
            return
        if self._streaming != (step, attempt):  # a new call, or a retry streaming again
            if self._mid_line:
                _write("\n")
            _write(f"step {step} model: ")
            self._streaming, self._streamed = (step, attempt), ""
        _write(text)
        self._streamed += text
        self._mid_line = True

    def _pending(
        self, kind: str, data: dict[str, Any], commands: Callable[[str], list[str]]
    ) -> None:
        """Ask at the prompt when interactive; else say how to answer, and follow on."""
        if self._interactive:
            self._prompts.requested(kind, data)
            return
        for line in commands(str(data["call_id"])):
            _write(f"  {line}\n")

    def _approval_commands(self, call_id: str) -> list[str]:
        approve = _command("orch", "approve", self._run_id, call_id)
        return [f"approve: {approve}", f'reject:  {approve} --reject --reason "TEXT"']

    def _answer_command(self, call_id: str) -> list[str]:
        return [f'answer:  {_command("orch", "answer", self._run_id, call_id)} "TEXT"']

    async def _on_interrupt(self, interrupted: asyncio.Event) -> None:
        while True:
            await interrupted.wait()
            interrupted.clear()
            await self._prompts.interrupt(self._confirm_cancel)

    async def _confirm_cancel(self) -> bool:
        """Ask whether to cancel the run, and do; True when it is being cancelled."""
        if (await self._prompts.ask("\ncancel the run? [y/N] ")).lower() not in ("y", "yes"):
            return False
        try:
            await self._orch.cancel(self._run_id)
        except (OrchApiError, OrchConnectionError) as err:
            _write(f"(not cancelled: {err})\n")
            return False
        _write("cancelling...\n")
        return True

    async def _watch_quiet(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            quiet = time.monotonic() - self._last_event
            if quiet >= QUIET_S:
                _write(f"... still waiting (step {self._step}, {quiet:.0f} s without news)\n")
                self._last_event = time.monotonic()


async def run_and_follow(
    orch: AsyncOrch,
    agent: str,
    text: str,
    variables: dict[str, str] | None = None,
    *,
    interactive: bool = False,
) -> int:
    """Start a run of `agent` (asking for its tokens from the start) and follow it; 0 when it
    completes, 1 when it ends any other way."""
    started = await orch.start_run(agent, text, variables=variables, tokens=True)
    _write(f"run {started.run_id}  {started.temporal_ui_url}\n")
    return await Follower(orch, started.run_id, interactive=interactive).follow()
