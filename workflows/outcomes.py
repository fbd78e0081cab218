"""Recording how the run ended in its runs row, for the overview (GET /v1/stats/agents).

Each way the loop ends (answer, a policy stop, failure, cancellation) records once, after its
terminal event is published: the final execution of a run only (one that continues as new has
not ended). A local activity (activities/outcomes.py): one marker event, no server round trip.
A database that cannot take it is logged and does not change how the run ends. Runs started
before this code (no `record-outcome` marker) record nothing.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import patches
from workflows.kinds import OUTCOME_STATUSES, member
from workflows.metrics import count_run_finished
from workflows.run_state import Run
from workflows.types import OUTCOME_ERROR_CHARS, RunOutcome

with workflow.unsafe.imports_passed_through():
    from activities.outcomes import OutcomeActivities

PATCH = patches.RECORD_OUTCOME
# A run whose outcome cannot be written still ends as its loop decided (see record_outcome).
TOLERATE_FAILURE = patches.OUTCOME_FAILURE_TOLERATED
TIMEOUT = timedelta(seconds=10)
RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=200))


async def record_outcome(run: Run) -> None:
    state = run.state
    status = member(OUTCOME_STATUSES, state.status)
    if status is None or not patches.patched(PATCH):
        return
    count_run_finished(run.agent.name, status)
    outcome = RunOutcome(
        run_id=run.run_id,
        status=status,
        finished_at=workflow.now(),
        steps=state.steps,
        total_tokens=state.usage.total_tokens,
        cost_usd=state.usage.cost_usd,
        error=state.error[:OUTCOME_ERROR_CHARS] if state.error is not None else None,
    )
    try:
        await workflow.execute_local_activity_method(
            OutcomeActivities.record_outcome,
            outcome,
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
    except (ActivityError, ApplicationError) as err:
        # A local activity's failure arrives as its ApplicationError, not as an ActivityError:
        # before TOLERATE_FAILURE such a failure failed the run (histories that did replay so).
        if not isinstance(err, ActivityError) and not patches.patched(TOLERATE_FAILURE):
            raise
        workflow.logger.warning(
            "could not record how run %s ended: %s",
            run.run_id,
            err.cause,
            extra={"agent": run.agent.name, "step": state.steps},  # as an activity's records
        )
