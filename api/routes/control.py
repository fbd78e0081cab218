"""Run control: cancel a run, approve or reject a tool call, answer the agent's question."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.auth import RUN
from api.deps import TemporalDep, WorkersDep
from api.openapi import NO_WORKER, NOT_FOUND, TEMPORAL, Answer, errors
from temporal.control import cancel_run, provide_input, resolve_approval
from workflows.types import ApprovalDecision, ApprovalOutcome, InputOutcome, UserInput

router = APIRouter(prefix="/v1/runs", tags=["run control"])

NOT_PENDING = Answer(409, "conflict", "nothing of that id is pending, or the run has ended.")


class CancelAnswer(BaseModel):
    run_id: str
    status: str  # "cancelling", or the status of a run that had already ended


class ApprovalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=2000, description="told to the model on reject")
    by: str = Field(default="", max_length=200, description="who decided, for the record")


class InputBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20000)
    call_id: str | None = Field(default=None, description="needed when several are pending")


@router.post(
    "/{run_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **errors(NOT_FOUND, *TEMPORAL),
        200: {"model": CancelAnswer, "description": "The run had already ended: its status."},
    },
    dependencies=[RUN],
)
async def cancel(run_id: str, client: TemporalDep, response: Response) -> CancelAnswer:
    """Cancel a run through Temporal: the call in flight sees it at its next heartbeat and the
    run ends with `run.cancelled`. A run that already ended answers 200 with its status."""
    ended = await cancel_run(client, run_id)
    if ended is not None:
        response.status_code = status.HTTP_200_OK
        return CancelAnswer(run_id=run_id, status=ended)
    return CancelAnswer(run_id=run_id, status="cancelling")


@router.post(
    "/{run_id}/approvals/{call_id}",
    responses=errors(NOT_FOUND, NOT_PENDING, NO_WORKER, *TEMPORAL),
    dependencies=[RUN],
)
async def decide(
    run_id: str, call_id: str, body: ApprovalBody, client: TemporalDep, workers: WorkersDep
) -> ApprovalOutcome:
    """Approve or reject a tool call waiting for approval (409 when none of that id waits;
    503 no_worker when no worker polls the run's task queue)."""
    decision = ApprovalDecision(
        call_id=call_id, approve=body.decision == "approve", reason=body.reason, by=body.by
    )
    return await resolve_approval(client, run_id, decision, workers)


@router.post(
    "/{run_id}/input",
    responses=errors(NOT_FOUND, NOT_PENDING, NO_WORKER, *TEMPORAL),
    dependencies=[RUN],
)
async def answer(
    run_id: str, body: InputBody, client: TemporalDep, workers: WorkersDep
) -> InputOutcome:
    """Answer the question the agent asked with `ask_user` (409 when none is pending; 503
    no_worker when no worker polls the run's task queue)."""
    reply = UserInput(text=body.text, call_id=body.call_id)
    return await provide_input(client, run_id, reply, workers)
