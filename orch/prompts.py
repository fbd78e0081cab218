"""The terminal side of `orch run --interactive`: approvals and questions asked one at a time,
and Ctrl-C's "cancel the run?" first, whatever is being asked.

stdin is read by one daemon thread into a queue, so a question being asked can be put aside
(its line not taken) while Ctrl-C's question is asked, then asked again; and a prompt nobody
answers before the run ends does not hold up the exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from orch.client import AsyncOrch, OrchApiError, OrchConnectionError

BY = "orch run"


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


class Stdin:
    """The terminal's lines, in order; "" from the end of input on."""

    def __init__(self) -> None:
        self._lines: asyncio.Queue[str] | None = None
        self._ended = False

    def _start(self) -> asyncio.Queue[str]:
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str] = asyncio.Queue()

        def read() -> None:
            while True:
                line = sys.stdin.readline()
                with contextlib.suppress(RuntimeError):  # the loop closed: nobody asks
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                if not line:
                    return

        threading.Thread(target=read, name="orch-stdin", daemon=True).start()
        return lines

    async def line(self) -> str:
        if self._ended:
            return ""
        if self._lines is None:
            self._lines = self._start()
        line = await self._lines.get()
        self._ended = not line
        return line.strip()


class Prompts:
    """The approvals and questions of one run waiting for this terminal's answer."""

    def __init__(self, orch: AsyncOrch, run_id: str) -> None:
        self._orch = orch
        self._run_id = run_id
        self._stdin = Stdin()
        self._turn = asyncio.Lock()  # one question at a time on the one terminal
        self._waiting: dict[str, tuple[str, dict[str, Any]]] = {}  # call id -> (kind, data)
        self._asking: dict[str, asyncio.Task[None]] = {}
        self._sending: set[str] = set()

    async def ask(self, prompt: str) -> str:
        async with self._turn:
            _write(prompt)
            return await self._stdin.line()

    def requested(self, kind: str, data: dict[str, Any]) -> None:
        """An `approval.requested` or `input.requested`: ask it (after what is being asked)."""
        call_id = str(data["call_id"])
        self._waiting[call_id] = (kind, data)
        self._start(call_id)

    def resolved(self, call_id: str) -> None:
        """Decided or answered, here or elsewhere: no longer asked."""
        self._waiting.pop(call_id, None)
        task = self._asking.get(call_id)
        if task is not None and call_id not in self._sending:
            task.cancel()

    def _start(self, call_id: str) -> None:
        kind, data = self._waiting[call_id]
        work = self._approve(call_id, data) if kind == "approval" else self._answer(call_id)
        task = asyncio.create_task(work)
        self._asking[call_id] = task
        task.add_done_callback(lambda done: self._forget(call_id, done))

    def _forget(self, call_id: str, done: asyncio.Task[None]) -> None:
        if self._asking.get(call_id) is done:  # not the one asking it again since
            del self._asking[call_id]

    async def interrupt(self, confirm: Callable[[], Awaitable[bool]]) -> None:
        """Put aside what is being asked (not yet answered), run `confirm` (which asks its own
        question), then, unless it says the run is being cancelled, ask the rest again."""
        put_aside = [t for c, t in self._asking.items() if c not in self._sending]
        for task in put_aside:
            task.cancel()
        await asyncio.gather(*put_aside, return_exceptions=True)
        if await confirm():
            return
        for call_id in list(self._waiting):
            if call_id not in self._asking:
                self._start(call_id)

    def close(self) -> None:
        for task in list(self._asking.values()):
            task.cancel()

    async def _approve(self, call_id: str, data: dict[str, Any]) -> None:
        call = f"{data['tool']}({json.dumps(data['arguments'])})"
        reply = await self.ask(f"approve {call}? [y/N] ")
        await self._send(call_id, self._decide(call_id, reply.lower() in ("y", "yes")))

    async def _decide(self, call_id: str, approve: bool) -> None:
        if approve:
            await self._orch.approve(self._run_id, call_id, by=BY)
        else:
            await self._orch.reject(self._run_id, call_id, "rejected at the terminal", by=BY)

    async def _answer(self, call_id: str) -> None:
        text = await self.ask("> ")
        reply = self._orch.answer(self._run_id, text or "(no answer)", call_id=call_id)
        await self._send(call_id, reply)

    async def _send(self, call_id: str, sending: Awaitable[object]) -> None:
        self._sending.add(call_id)
        try:
            await sending
        except (OrchApiError, OrchConnectionError) as err:
            _write(f"(not recorded: {err})\n")
        finally:
            self._sending.discard(call_id)
            self._waiting.pop(call_id, None)
