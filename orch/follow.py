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
import json
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from orch.client import AsyncOrch, OrchApiError, OrchConnectionError, RunEvent
from orch.terminal import format_event

QUIET_S = 10.0  # say "still waiting" after this long without an event
BY = "orch run"


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _settle(future: asyncio.Future[str], line: str) -> None:
    if not future.done():
        future.set_result(line)


async def _ask(prompt: str) -> str:
    """A line from the terminal, read without blocking the event loop. The reading thread is a
    daemon: a prompt nobody answers before the run ends does not hold up the exit."""
    _write(prompt)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def read() -> None:
        line = sys.stdin.readline()
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody asks
            loop.call_soon_threadsafe(_settle, future, line)

    threading.Thread(target=read, name="orch-prompt", daemon=True).start()
    return (await future).strip()


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
        self._last_event = time.monotonic()
        self._step = 0
        self._prompts: set[asyncio.Task[None]] = set()
        self._one_prompt = asyncio.Lock()  # one question at a time on the one terminal

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
            for task in (watchdog, interrupts, *self._prompts):
                task.cancel()
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
        line = format_event({"type": kind, "step": event.step, "data": data}, shown=shown)
        if line is not None:
            _write(line + "\n")
        if kind == "approval.requested":
            self._pending(self._approve, data, self._approval_commands)
        elif kind == "input.requested":
            self._pending(self._answer, data, self._answer_command)
        return kind

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
        self,
        ask: Callable[[dict[str, Any]], Coroutine[Any, Any, None]],
        data: dict[str, Any],
        commands: Callable[[str], list[str]],
    ) -> None:
        """Ask at the prompt when interactive; else say how to answer, and follow on."""
        if not self._interactive:
            for line in commands(str(data["call_id"])):
                _write(f"  {line}\n")
            return
        task = asyncio.create_task(ask(data))
        self._prompts.add(task)
        task.add_done_callback(self._prompts.discard)

    def _approval_commands(self, call_id: str) -> list[str]:
        approve = _command("orch", "approve", self._run_id, call_id)
        return [f"approve: {approve}", f'reject:  {approve} --reject --reason "TEXT"']

    def _answer_command(self, call_id: str) -> list[str]:
        return [f'answer:  {_command("orch", "answer", self._run_id, call_id)} "TEXT"']

    async def _approve(self, data: dict[str, Any]) -> None:
        call = f"{data['tool']}({json.dumps(data['arguments'])})"
        async with self._one_prompt:
            reply = await _ask(f"approve {call}? [y/N] ")
        call_id = str(data["call_id"])
        try:
            if reply.lower() in ("y", "yes"):
                await self._orch.approve(self._run_id, call_id, by=BY)
            else:
                await self._orch.reject(self._run_id, call_id, "rejected at the terminal", by=BY)
        except (OrchApiError, OrchConnectionError) as err:
            _write(f"(not recorded: {err})\n")

    async def _answer(self, data: dict[str, Any]) -> None:
        async with self._one_prompt:
            text = await _ask("> ")
        try:
            await self._orch.answer(
                self._run_id, text or "(no answer)", call_id=str(data["call_id"])
            )
        except (OrchApiError, OrchConnectionError) as err:
            _write(f"(not recorded: {err})\n")

    async def _on_interrupt(self, interrupted: asyncio.Event) -> None:
        while True:
            await interrupted.wait()
            interrupted.clear()
            async with self._one_prompt:
                reply = await _ask("\ncancel the run? [y/N] ")
            if reply.lower() in ("y", "yes"):
                try:
                    await self._orch.cancel(self._run_id)
                except (OrchApiError, OrchConnectionError) as err:
                    _write(f"(not cancelled: {err})\n")
                else:
                    _write("cancelling...\n")

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
