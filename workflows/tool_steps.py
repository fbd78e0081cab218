"""Running the tools of one model step: concurrently, results in call order, each call an
activity with its tool's timeout and retries, or a person's approval or answer first."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, is_cancelled_exception

from workflows import policy
from workflows.loop_state import INVALID_ARGUMENTS, RunFailed, failure_cause
from workflows.subagents import Subagents
from workflows.types import PendingAction, ToolCall, ToolCallInput, ToolOutcome

with workflow.unsafe.imports_passed_through():
    from activities.tools.activity import ToolActivities
    from activities.tools.registry import argument_problem

# Tool activities heartbeat every 2 s: a dead worker is noticed in 10 s, and a cancel reaches
# the call in flight.
HEARTBEAT_TIMEOUT = timedelta(seconds=10)
ASK_USER = "ask_user"
SUBAGENT = "agent"


class ToolSteps(Subagents):
    async def _run_tools(self, calls: tuple[ToolCall, ...]) -> None:
        first_seq = self._next_seq
        self._next_seq += len(calls)
        self._tool_calls += len(calls)
        kinds = {tool.name: tool.kind for tool in self._agent.tools}
        subagents = sum(1 for call in calls if kinds.get(call.name) == SUBAGENT)
        for call in calls:
            self._publish(
                "tool.started",
                {"call_id": call.id, "name": call.name, "arguments": call.arguments},
            )
        outcomes = await asyncio.gather(
            *(self._run_tool(first_seq + i, call, subagents) for i, call in enumerate(calls))
        )
        failed: ToolOutcome | None = None
        for call, outcome in zip(calls, outcomes, strict=True):
            if not outcome.ok:
                self._tool_errors += 1
                if outcome.error_type == INVALID_ARGUMENTS:
                    self._invalid_tool_calls += 1
                elif failed is None and outcome.error_type in policy.TOOL_FAILURES:
                    failed = outcome
            self._publish(
                "tool.completed",
                {
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": call.arguments,
                    "ok": outcome.ok,
                    "result": outcome.preview,
                    "truncated": outcome.truncated,
                    "error": outcome.error,
                    "error_type": outcome.error_type,
                    "tool_errors": self._tool_errors,
                    "invalid_tool_calls": self._invalid_tool_calls,
                },
            )
        if failed is not None and self._agent.on_tool_error == policy.FAIL_ON_TOOL_ERROR:
            raise RunFailed(f"tool {failed.name!r} failed: {failed.error}", "ToolFailed")

    async def _run_tool(self, seq: int, call: ToolCall, subagents: int) -> ToolOutcome:
        tool = next((t for t in self._agent.tools if t.name == call.name), None)
        if tool is not None:
            # Before anything runs, and before a person is asked to approve or answer it.
            problem = argument_problem(tool, call.arguments)
            if problem is not None:
                return await self._record_failure(seq, call, f"error: {problem}", INVALID_ARGUMENTS)
        if tool is not None and tool.kind == ASK_USER:
            return await self._ask_user(seq, call)
        if tool is not None and tool.requires_approval:
            refusal = await self._approval(call)
            if refusal is not None:
                return await self._record_failure(seq, call, refusal, "rejected")
        if tool is not None and tool.kind == SUBAGENT:
            return await self._run_subagent(seq, call, tool, subagents)
        timeout = timedelta(seconds=tool.timeout_s if tool else 30)
        attempts = tool.retry_attempts if tool else 1
        try:
            return await workflow.execute_activity_method(
                ToolActivities.tool_call,
                ToolCallInput(run_id=self._run_id, seq=seq, step=self._steps, call=call, tool=tool),
                start_to_close_timeout=timeout,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1), maximum_attempts=max(1, attempts)
                ),
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            # The tool never reported (timed out on every attempt): the model is told so.
            message = f"error: tool {call.name!r} failed: {failure_cause(err)[0]}"
            return await self._record_failure(seq, call, message, "timeout")

    async def _wait_for_person(self, action: PendingAction, done: Callable[[], bool]) -> bool:
        """Wait until `done()`, at most the agent's approval timeout. False: it expired."""
        self._pending[action.call_id] = action
        try:
            await workflow.wait_condition(
                done, timeout=timedelta(seconds=self._agent.approval_timeout_s)
            )
            return True
        except TimeoutError:
            return False
        finally:
            self._pending.pop(action.call_id, None)

    async def _approval(self, call: ToolCall) -> str | None:
        """Ask a person to approve `call`; None when approved, else why it was not."""
        action = PendingAction(
            kind="approval", call_id=call.id, tool=call.name, arguments=call.arguments
        )
        self._publish(
            "approval.requested",
            {
                "call_id": call.id,
                "tool": call.name,
                "arguments": call.arguments,
                "timeout_s": self._agent.approval_timeout_s,
            },
        )
        decided = await self._wait_for_person(action, lambda: call.id in self._decisions)
        decision = self._decisions.pop(call.id, None)
        refusal: str | None = None
        if not decided or decision is None:
            verdict = "expired"
            waited = self._agent.approval_timeout_s
            refusal = f"error: nobody approved this call within {waited:g} s; it was not run"
        elif decision.approve:
            verdict = "approved"
        else:
            verdict = "rejected"
            refusal = f"error: a person rejected this call: {decision.reason or 'no reason given'}"
        self._publish(
            "approval.resolved",
            {
                "call_id": call.id,
                "tool": call.name,
                "decision": verdict,
                "reason": decision.reason if decision else "",
                "by": decision.by if decision else "",
            },
        )
        return refusal

    async def _ask_user(self, seq: int, call: ToolCall) -> ToolOutcome:
        question = str(call.arguments.get("question", ""))
        action = PendingAction(
            kind="input",
            call_id=call.id,
            tool=call.name,
            arguments=call.arguments,
            question=question,
        )
        self._publish("input.requested", {"call_id": call.id, "question": question})
        answered = await self._wait_for_person(action, lambda: call.id in self._answers)
        answer = self._answers.pop(call.id, None)
        if not answered or answer is None:
            message = f"error: nobody answered within {self._agent.approval_timeout_s:g} s"
            return await self._record_failure(seq, call, message, "rejected")
        self._publish("input.received", {"call_id": call.id, "text": answer})
        await self._record(seq, call, answer, is_error=False)
        return ToolOutcome(call_id=call.id, name=call.name, ok=True, preview=answer)
