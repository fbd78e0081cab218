"""What a run asks a person: to approve a tool call (or a retry of one whose outcome is
unknown), or to answer an `ask_user` question.

The run waits (at most the agent's approval timeout) for the `resolve_approval` or
`provide_input` Update, whose handlers on AgentRun delegate here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

from workflows import events
from workflows.kinds import ApprovalCause, ApprovalResolution, ApprovalVerdict
from workflows.metrics import count_approval_requested, count_approval_resolved
from workflows.publisher import Publisher
from workflows.records import record, record_failure
from workflows.run_state import Run
from workflows.types import (
    ApprovalDecision,
    ApprovalOutcome,
    InputOutcome,
    PendingAction,
    ToolCall,
    ToolOutcome,
    UserInput,
)


class People:
    def __init__(self, run: Run, publisher: Publisher) -> None:
        self._run = run
        self._publisher = publisher
        self._pending: dict[str, PendingAction] = {}
        self._decisions: dict[str, ApprovalDecision] = {}
        self._answers: dict[str, str] = {}

    @property
    def pending(self) -> tuple[PendingAction, ...]:
        return tuple(self._pending.values())

    # ----- the Update handlers' bodies ------------------------------------------------------

    def resolve_approval(self, decision: ApprovalDecision) -> ApprovalOutcome:
        pending = self._pending.pop(decision.call_id)
        self._decisions[decision.call_id] = decision
        verdict: ApprovalVerdict = "approved" if decision.approve else "rejected"
        return ApprovalOutcome(call_id=decision.call_id, tool=pending.tool, decision=verdict)

    def check_approval(self, decision: ApprovalDecision) -> None:
        pending = self._pending.get(decision.call_id)
        if pending is None or pending.kind != "approval":
            raise ValueError(f"no approval is pending for call {decision.call_id!r}")

    def provide_input(self, reply: UserInput) -> InputOutcome:
        call_id = self.input_call(reply)
        pending = self._pending.pop(call_id)
        self._answers[call_id] = reply.text
        return InputOutcome(call_id=call_id, question=pending.question)

    def input_call(self, reply: UserInput) -> str:
        """The call a reply answers; ValueError when it answers none."""
        waiting = [p.call_id for p in self._pending.values() if p.kind == "input"]
        if reply.call_id is not None:
            if reply.call_id not in waiting:
                raise ValueError(f"no question is pending for call {reply.call_id!r}")
            return reply.call_id
        if len(waiting) != 1:
            raise ValueError(
                "no question is pending"
                if not waiting
                else f"several questions are pending: name one with call_id ({', '.join(waiting)})"
            )
        return waiting[0]

    # ----- the waits ------------------------------------------------------------------------

    async def approval(self, call: ToolCall) -> str | None:
        """Ask a person to approve `call`; None when approved, else why it was not."""
        verdict, decision = await self.decide(call, "requires_approval")
        if verdict == "expired":
            timeout_s = self._run.agent.approval_timeout_s
            return f"error: nobody approved this call within {timeout_s:g} s; it was not run"
        if verdict == "rejected":
            reason = decision.reason if decision else ""
            return f"error: a person rejected this call: {reason or 'no reason given'}"
        return None

    async def retry_unknown(self, call: ToolCall, report: str) -> str | None:
        """Ask a person to approve calling again after an outcome that is unknown (`report`,
        what the model is told otherwise); None when approved, else the model's result."""
        verdict, decision = await self.decide(call, "outcome_unknown")
        if verdict == "expired":
            timeout_s = self._run.agent.approval_timeout_s
            return f"{report} (nobody approved a retry within {timeout_s:g} s)"
        if verdict == "rejected":
            reason = (decision.reason if decision else "") or "no reason given"
            return f"{report} (a person rejected a retry: {reason})"
        return None

    async def decide(
        self, call: ToolCall, cause: ApprovalCause
    ) -> tuple[ApprovalResolution, ApprovalDecision | None]:
        """Wait for a person's decision on `call` (at most the agent's approval timeout),
        with the `approval.requested` and `approval.resolved` events."""
        timeout_s = self._run.agent.approval_timeout_s
        action = PendingAction(
            kind="approval", call_id=call.id, tool=call.name, arguments=call.arguments, cause=cause
        )
        self._publisher.publish(
            events.ApprovalRequested(
                call_id=call.id,
                tool=call.name,
                arguments=call.arguments,
                timeout_s=timeout_s,
                cause=cause,
            )
        )
        agent = self._run.agent.name
        count_approval_requested(agent, cause)
        try:
            decided = await self._wait_for_person(action, lambda: call.id in self._decisions)
        except asyncio.CancelledError:  # the run (or its step) was cancelled while it waited
            count_approval_resolved(agent, cause, "cancelled")
            raise
        decision = self._decisions.pop(call.id, None)
        verdict: ApprovalResolution
        if not decided or decision is None:
            verdict = "expired"
        elif decision.approve:
            verdict = "approved"
        else:
            verdict = "rejected"
        count_approval_resolved(agent, cause, verdict)
        self._publisher.publish(
            events.ApprovalResolved(
                call_id=call.id,
                tool=call.name,
                decision=verdict,
                reason=decision.reason if decision else "",
                by=decision.by if decision else "",
                cause=cause,
            )
        )
        return verdict, decision

    async def ask_user(self, seq: int, call: ToolCall) -> ToolOutcome:
        question = str(call.arguments.get("question", ""))
        action = PendingAction(
            kind="input",
            call_id=call.id,
            tool=call.name,
            arguments=call.arguments,
            question=question,
        )
        self._publisher.publish(events.InputRequested(call_id=call.id, question=question))
        answered = await self._wait_for_person(action, lambda: call.id in self._answers)
        answer = self._answers.pop(call.id, None)
        run_id = self._run.run_id
        if not answered or answer is None:
            message = f"error: nobody answered within {self._run.agent.approval_timeout_s:g} s"
            return await record_failure(run_id, seq, call, message, "rejected")
        self._publisher.publish(events.InputReceived(call_id=call.id, text=answer))
        await record(run_id, seq, call, answer, is_error=False)
        return ToolOutcome(call_id=call.id, name=call.name, ok=True, preview=answer)

    async def _wait_for_person(self, action: PendingAction, done: Callable[[], bool]) -> bool:
        """Wait until `done()`, at most the agent's approval timeout. False: it expired."""
        self._pending[action.call_id] = action
        try:
            await workflow.wait_condition(
                done, timeout=timedelta(seconds=self._run.agent.approval_timeout_s)
            )
            return True
        except TimeoutError:
            return False
        finally:
            self._pending.pop(action.call_id, None)
