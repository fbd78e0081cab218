"""The floor of the overhead benchmark: a workflow with no project code at all.

In a module of its own so that the workflow sandbox imports nothing but temporalio.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def bare_model(step: int) -> int:
    return step


@activity.defn
async def bare_tool(step: int) -> int:
    return step


@workflow.defn
class BareLoop:
    """The floor: the same hops as the agent, one 'model' and one 'tool' activity per step."""

    @workflow.run
    async def run(self, steps: int) -> int:
        timeout = timedelta(seconds=30)
        for step in range(steps):
            await workflow.execute_activity(bare_model, step, start_to_close_timeout=timeout)
            if step < steps - 1:
                await workflow.execute_activity(bare_tool, step, start_to_close_timeout=timeout)
        return steps
