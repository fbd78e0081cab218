"""Running the tools of one model step: concurrently, results in call order, each call an
activity with its tool's timeout and retries (a local one for a quick, pure tool), or a person's
approval or answer first (or, for a call whose outcome is unknown and whose tool says
`on_unknown_outcome: ask`, before a retry)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, is_cancelled_exception

from workflows import events, metrics, patches, policy, pure_tools
from workflows.arguments import argument_problem
from workflows.kinds import PURE_TOOL_KINDS, OnUnknownOutcome
from workflows.people import People
from workflows.publisher import Publisher
from workflows.records import record_failure
from workflows.run_state import Run, RunFailure, failure_cause
from workflows.subagents import Subagents
from workflows.types import ToolCall, ToolCallInput, ToolOutcome, ToolSpec

with workflow.unsafe.imports_passed_through():
    from activities.tools.activity import ToolActivities

# Tool activities heartbeat every 2 s: a dead worker is noticed in 10 s, and a cancel reaches
# the call in flight.
HEARTBEAT_TIMEOUT = timedelta(seconds=10)
ASK_USER = "ask_user"
SUBAGENT = "agent"
ASK: OnUnknownOutcome = "ask"
# Patch: a non-idempotent call whose outcome is unknown may wait for a person to
# approve a retry (its tool's `on_unknown_outcome: ask`). Histories before it never asked.
ASK_ON_UNKNOWN_OUTCOME = patches.ASK_ON_UNKNOWN_OUTCOME
# Patch: a call of a quick, pure kind runs as a local activity (on the worker that runs
# the workflow task: no scheduled/started/completed events, no activity task poll, no extra
# workflow task; one marker instead). Histories before it scheduled a `tool_call` activity.
LOCAL_PURE_TOOLS = patches.LOCAL_PURE_TOOLS


def runs_locally(tool: ToolSpec | None) -> bool:
    """Whether a call of `tool` may run as a local activity (before the patch is asked)."""
    return (
        tool is not None
        and tool.kind in PURE_TOOL_KINDS
        and tool.idempotent
        and not tool.requires_approval
    )


class ToolSteps:
    def __init__(
        self, run: Run, publisher: Publisher, people: People, subagents: Subagents
    ) -> None:
        self._run = run
        self._publisher = publisher
        self._people = people
        self._subagents = subagents

    async def run_tools(self, calls: tuple[ToolCall, ...]) -> None:
        """Run the calls of one step; RunFailure when one fails an agent that fails on it."""
        run = self._run
        first_seq = run.start_tools(len(calls))
        kinds = {tool.name: tool.kind for tool in run.agent.tools}
        subagents = sum(1 for call in calls if kinds.get(call.name) == SUBAGENT)
        for call in calls:
            self._publisher.publish(
                events.ToolStarted(call_id=call.id, name=call.name, arguments=call.arguments)
            )
        if self._inline(calls):
            computed = [pure_tools.run_inline(call) for call in calls]
            outcomes = [outcome for outcome, _ in computed]
            run.unwritten = tuple(message for _, message in computed)
            for call, outcome in zip(calls, outcomes, strict=True):
                metrics.count_tool_call(call.name, outcome.error_type)
        else:
            outcomes = await asyncio.gather(
                *(self._run_tool(first_seq + i, call, subagents) for i, call in enumerate(calls))
            )
        failed: ToolOutcome | None = None
        for call, outcome in zip(calls, outcomes, strict=True):
            if not outcome.ok:
                invalid = outcome.error_type == "invalid_arguments"
                run.tool_failed(invalid_arguments=invalid)
                if not invalid and failed is None and outcome.error_type in policy.TOOL_FAILURES:
                    failed = outcome
            self._publisher.publish(
                events.ToolCompleted(
                    call_id=call.id,
                    name=call.name,
                    arguments=call.arguments,
                    ok=outcome.ok,
                    result=outcome.preview,
                    truncated=outcome.truncated,
                    error=outcome.error,
                    error_type=outcome.error_type,
                    tool_errors=run.state.tool_errors,
                    invalid_tool_calls=run.state.invalid_tool_calls,
                )
            )
        if failed is not None and run.agent.on_tool_error == policy.FAIL_ON_TOOL_ERROR:
            raise RunFailure(f"tool {failed.name!r} failed: {failed.error}", "ToolFailed")

    def _inline(self, calls: tuple[ToolCall, ...]) -> bool:
        """Whether the workflow computes this step's calls itself (workflows/pure_tools.py):
        every one names a tool that may run locally, with arguments that fit it."""
        tools = {tool.name: tool for tool in self._run.agent.tools}
        for call in calls:
            tool = tools.get(call.name)
            if tool is None or not runs_locally(tool) or argument_problem(tool, call.arguments):
                return False
        # Asked only for such steps (a run from before the baseline that implies it takes the
        # patch by its own marker at its first such step).
        return patches.patched(pure_tools.PATCH)

    async def _run_tool(self, seq: int, call: ToolCall, subagents: int) -> ToolOutcome:
        run = self._run
        tool = next((t for t in run.agent.tools if t.name == call.name), None)
        if tool is not None:
            # Before anything runs, and before a person is asked to approve or answer it.
            problem = argument_problem(tool, call.arguments)
            if problem is not None:
                message = f"error: {problem}"
                return await record_failure(run.run_id, seq, call, message, "invalid_arguments")
        if tool is not None and tool.kind == ASK_USER:
            return await self._people.ask_user(seq, call)
        if tool is not None and tool.requires_approval:
            refusal = await self._people.approval(call)
            if refusal is not None:
                return await record_failure(run.run_id, seq, call, refusal, "rejected")
        if tool is not None and tool.kind == SUBAGENT:
            return await self._subagents.run_subagent(seq, call, tool, subagents)
        # The tool's settings are read before `patched`: only such calls' histories hold it.
        ask = (
            tool is not None
            and not tool.idempotent
            and tool.on_unknown_outcome == ASK
            and patches.patched(ASK_ON_UNKNOWN_OUTCOME)
        )
        outcome = await self._call(seq, call, tool, ask_on_unknown=ask)
        if not ask or outcome.error_type != "outcome_unknown":
            return outcome
        report = outcome.error or "error: the outcome of the call is unknown"
        refusal = await self._people.retry_unknown(call, report)
        if refusal is not None:
            return await record_failure(run.run_id, seq, call, refusal, "outcome_unknown")
        return await self._call(seq, call, tool, retry_unknown=True)

    async def _call(
        self,
        seq: int,
        call: ToolCall,
        tool: ToolSpec | None,
        *,
        ask_on_unknown: bool = False,
        retry_unknown: bool = False,
    ) -> ToolOutcome:
        """The `tool_call` activity, with the tool's timeout and attempts: a local activity for
        a call of a quick, pure tool (`runs_locally`), else a normal one."""
        run = self._run
        timeout = timedelta(seconds=tool.timeout_s if tool else 30)
        attempts = tool.retry_attempts if tool else 1
        spec_ref = run.spec_ref()
        input = ToolCallInput(
            run_id=run.run_id,
            seq=seq,
            step=run.state.steps,
            call=call,
            # The activity finds the tool by the call's name in the referenced spec.
            tool=tool if spec_ref is None else None,
            ask_on_unknown=ask_on_unknown,
            retry_unknown=retry_unknown,
            spec_ref=spec_ref,
        )
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=1), maximum_attempts=max(1, attempts)
        )
        # The tool's settings are read before `patched`: only such calls' histories hold it.
        local = runs_locally(tool) and patches.patched(LOCAL_PURE_TOOLS)
        try:
            if local:
                return await workflow.execute_local_activity_method(
                    ToolActivities.tool_call,
                    input,
                    start_to_close_timeout=timeout,
                    retry_policy=retry,
                )
            return await workflow.execute_activity_method(
                ToolActivities.tool_call,
                input,
                start_to_close_timeout=timeout,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=retry,
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            # The tool never reported (timed out on every attempt): the model is told so.
            message = f"error: tool {call.name!r} failed: {failure_cause(err)[0]}"
            return await record_failure(run.run_id, seq, call, message, "timeout")
