"""Sub-agents: an agent called as another agent's tool runs as a child workflow.

The parent's snapshot pins the child agent's version; an activity resolves the child's snapshot
when the call comes. The child's budgets are capped by what the parent has left, and its usage
is added to the parent's. A child forwards its events to its parent in ordered signal batches
(workflows/publisher.py); the parent relays them on its own stream as `subagent.event`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    is_cancelled_exception,
)

from workflows import events, policy
from workflows.publisher import Publisher
from workflows.records import PREVIEW_CHARS, record, record_failure
from workflows.run_state import Run, failure_cause
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
    usage_of,
)

with workflow.unsafe.imports_passed_through():
    from activities.subagents import SubagentActivities

RESOLVE_TIMEOUT = timedelta(seconds=30)


def _failed_usage(err: ChildWorkflowError) -> Usage:
    """What a failed sub-agent run spent: its RunResult travels as the failure's details."""
    cause = err.cause
    if not isinstance(cause, ApplicationError) or not cause.details:
        return Usage()
    details = cause.details[0]
    return usage_of(details) if isinstance(details, dict) else Usage()


class Subagents:
    def __init__(self, run: Run, publisher: Publisher) -> None:
        self._run = run
        self._publisher = publisher
        self._children: dict[str, str] = {}  # child run id -> the call that started it

    def relay(self, batch: ChildEvents) -> None:
        """The `child_events` signal's body: a child's events, each as a `subagent.event`."""
        for event in batch.events:
            self._publisher.publish(
                events.SubagentEvent(
                    run_id=batch.run_id,
                    call_id=self._children.get(batch.run_id, ""),
                    event=event,
                )
            )

    async def run_subagent(
        self, seq: int, call: ToolCall, tool: ToolSpec, share: int
    ) -> ToolOutcome:
        """Run another agent as a child workflow; its usage counts against this run's budget."""
        run = self._run
        text = call.arguments.get("input")
        variables = call.arguments.get("variables", {})
        if not isinstance(text, str) or not text.strip() or not isinstance(variables, dict):
            message = (
                f"error: invalid arguments for tool '{tool.name}': give 'input', the task as a "
                "non-empty string (and 'variables' as an object, if any)"
            )
            return await record_failure(run.run_id, seq, call, message, "invalid_arguments")
        depth = run.input.depth
        if depth + 1 > policy.MAX_SUBAGENT_DEPTH:
            message = (
                f"error: tool {tool.name!r} was not run: sub-agents are nested "
                f"{policy.MAX_SUBAGENT_DEPTH} deep already (is an agent calling itself?)"
            )
            return await record_failure(run.run_id, seq, call, message, "tool_error")
        child_id = f"{run.run_id}-{tool.name}-{seq}"
        agent = str(tool.config.get("agent", ""))
        try:
            child = await workflow.execute_activity_method(
                SubagentActivities.resolve_subagent,
                SubagentRequest(
                    parent_run_id=run.run_id,
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
            return await record_failure(run.run_id, seq, call, message, "subagent_failed")
        child = policy.child_limits(child, run.agent, run.state.usage, run.remaining(), share)
        self._children[child_id] = call.id
        self._publisher.publish(
            events.SubagentStarted(
                call_id=call.id,
                tool=tool.name,
                run_id=child_id,
                agent=child.name,
                agent_version=child.version,
                input=text,
                limits=events.ChildLimits(
                    max_total_tokens=child.max_total_tokens,
                    max_cost_usd=child.max_cost_usd,
                    max_duration_s=child.max_duration_s,
                ),
            )
        )
        try:
            # The child is a run of this same workflow type (AgentRun).
            result = await workflow.execute_child_workflow(
                workflow.info().workflow_type,
                RunInput(
                    run_id=child_id,
                    agent=child,
                    input=text,
                    parent_run_id=run.run_id,
                    depth=depth + 1,
                    trace_id=run.input.trace_id,  # the same trace: its run.started shows it
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
            run.spend(usage)
            message, error_type = failure_cause(err)
            self._publisher.publish(
                events.SubagentFailed(
                    call_id=call.id,
                    run_id=child_id,
                    agent=child.name,
                    error=message,
                    error_type=error_type,
                    usage=usage.as_dict(),
                )
            )
            failure = f"error: sub-agent {child.name!r} failed: {message}"
            return await record_failure(run.run_id, seq, call, failure, "subagent_failed")
        run.spend(result.usage)
        self._publisher.publish(
            events.SubagentCompleted(
                call_id=call.id,
                run_id=child_id,
                agent=child.name,
                status=result.status,
                stop_reason=result.stop_reason,
                answer=result.answer,
                usage=result.usage.as_dict(),
            )
        )
        answer = result.answer
        if result.status != "completed":
            answer += f"\n[the sub-agent stopped before it finished: {result.stop_reason}]"
        kept = answer[: tool.max_result_chars]
        if len(kept) < len(answer):
            kept += f"\n[truncated: {len(answer) - len(kept)} more characters]"
        await record(run.run_id, seq, call, kept, is_error=False)
        return ToolOutcome(
            call_id=call.id,
            name=call.name,
            ok=True,
            preview=kept[:PREVIEW_CHARS],
            truncated=len(kept) > PREVIEW_CHARS,
        )
