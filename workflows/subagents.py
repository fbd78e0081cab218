"""Sub-agents: an agent called as another agent's tool runs as a child workflow.

The parent's snapshot pins the child agent's version; an activity resolves the child's snapshot
when the call comes. The child's budgets are capped by what the parent has left, and its usage
is added to the parent's. A child forwards its events to its parent in ordered signal batches;
the parent relays them on its own stream as `subagent.event`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    FailureError,
    is_cancelled_exception,
)

from workflows import policy
from workflows.loop_state import INVALID_ARGUMENTS, PREVIEW_CHARS, LoopState, failure_cause
from workflows.types import (
    AGENT_NAME,
    ChildEvents,
    RunInput,
    RunResult,
    SubagentRequest,
    ToolCall,
    ToolOutcome,
    ToolSpec,
    Usage,
)

with workflow.unsafe.imports_passed_through():
    from activities.subagents import SubagentActivities
    from activities.transcript import usage_of

RESOLVE_TIMEOUT = timedelta(seconds=30)


def _failed_usage(err: ChildWorkflowError) -> Usage:
    """What a failed sub-agent run spent: its RunResult travels as the failure's details."""
    cause = err.cause
    if not isinstance(cause, ApplicationError) or not cause.details:
        return Usage()
    details = cause.details[0]
    return usage_of(details) if isinstance(details, dict) else Usage()


class Subagents(LoopState):
    @workflow.signal
    def child_events(self, batch: ChildEvents) -> None:
        """Events of a sub-agent run, relayed on this run's stream inside `subagent.event`."""
        for event in batch.events:
            self._publish(
                "subagent.event",
                {
                    "run_id": batch.run_id,
                    "call_id": self._children.get(batch.run_id, ""),
                    "event": asdict(event),
                },
            )

    async def _run_subagent(
        self, seq: int, call: ToolCall, tool: ToolSpec, share: int
    ) -> ToolOutcome:
        """Run another agent as a child workflow; its usage counts against this run's budget."""
        text = call.arguments.get("input")
        variables = call.arguments.get("variables", {})
        if not isinstance(text, str) or not text.strip() or not isinstance(variables, dict):
            message = (
                f"error: invalid arguments for tool '{tool.name}': give 'input', the task as a "
                "non-empty string (and 'variables' as an object, if any)"
            )
            return await self._record_failure(seq, call, message, INVALID_ARGUMENTS)
        if self._depth + 1 > policy.MAX_SUBAGENT_DEPTH:
            message = (
                f"error: tool {tool.name!r} was not run: sub-agents are nested "
                f"{policy.MAX_SUBAGENT_DEPTH} deep already (is an agent calling itself?)"
            )
            return await self._record_failure(seq, call, message, "tool_error")
        child_id = f"{self._run_id}-{tool.name}-{seq}"
        agent = str(tool.config.get("agent", ""))
        try:
            child = await workflow.execute_activity_method(
                SubagentActivities.resolve_subagent,
                SubagentRequest(
                    parent_run_id=self._run_id,
                    run_id=child_id,
                    agent=agent,
                    version=tool.config.get("version"),
                    input=text,
                    variables=variables,
                ),
                start_to_close_timeout=RESOLVE_TIMEOUT,
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            message = f"error: {failure_cause(err)[0]}"
            return await self._record_failure(seq, call, message, "subagent_failed")
        child = policy.child_limits(child, self._agent, self._usage, self._remaining(), share)
        self._children[child_id] = call.id
        self._publish(
            "subagent.started",
            {
                "call_id": call.id,
                "tool": tool.name,
                "run_id": child_id,
                "agent": child.name,
                "agent_version": child.version,
                "input": text,
                "limits": {
                    "max_total_tokens": child.max_total_tokens,
                    "max_cost_usd": child.max_cost_usd,
                    "max_duration_s": child.max_duration_s,
                },
            },
        )
        try:
            # The child is a run of this same workflow type (AgentRun, which extends this class).
            result = await workflow.execute_child_workflow(
                workflow.info().workflow_type,
                RunInput(
                    run_id=child_id,
                    agent=child,
                    input=text,
                    parent_run_id=self._run_id,
                    depth=self._depth + 1,
                ),
                id=child_id,
                static_summary=f"sub-agent {child.name} v{child.version} (tool {tool.name})",
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(AGENT_NAME, child.name)]
                ),
                result_type=RunResult,
            )
        except ChildWorkflowError as err:
            if is_cancelled_exception(err):
                raise
            usage = _failed_usage(err)
            self._usage = self._usage + usage
            message, error_type = failure_cause(err)
            self._publish(
                "subagent.failed",
                {
                    "call_id": call.id,
                    "run_id": child_id,
                    "agent": child.name,
                    "error": message,
                    "error_type": error_type,
                    "usage": usage.as_dict(),
                },
            )
            failure = f"error: sub-agent {child.name!r} failed: {message}"
            return await self._record_failure(seq, call, failure, "subagent_failed")
        self._usage = self._usage + result.usage
        self._publish(
            "subagent.completed",
            {
                "call_id": call.id,
                "run_id": child_id,
                "agent": child.name,
                "status": result.status,
                "stop_reason": result.stop_reason,
                "answer": result.answer,
                "usage": result.usage.as_dict(),
            },
        )
        answer = result.answer
        if result.status != "completed":
            answer += f"\n[the sub-agent stopped before it finished: {result.stop_reason}]"
        kept = answer[: tool.max_result_chars]
        if len(kept) < len(answer):
            kept += f"\n[truncated: {len(answer) - len(kept)} more characters]"
        await self._record(seq, call, kept, is_error=False)
        return ToolOutcome(
            call_id=call.id,
            name=call.name,
            ok=True,
            preview=kept[:PREVIEW_CHARS],
            truncated=len(kept) > PREVIEW_CHARS,
        )

    async def _forward(self, parent: str) -> None:
        """Signal the parent the events published so far, batch by batch, in order. A parent
        that is gone (terminated) no longer listens: the rest is dropped."""
        handle = workflow.get_external_workflow_handle(parent)
        try:
            while self._outbox:
                batch = ChildEvents(run_id=self._run_id, events=tuple(self._outbox))
                self._outbox.clear()
                await handle.signal(Subagents.child_events, batch)
        except FailureError:
            self._parent = None
            self._outbox.clear()
        finally:
            self._forwarding = False

    async def _forwarded(self) -> None:
        await workflow.wait_condition(lambda: not self._forwarding)
