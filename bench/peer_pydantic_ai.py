"""Peer: Pydantic AI's durable agent on Temporal (`pydantic_ai.durable_exec.temporal`: the
`TemporalDurability` capability, which replaces the deprecated `TemporalAgent` wrapper). Model
requests and the calculator tool run as activities. The agent itself is in `pai_agent.py`.
Needs the `bench` extra.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import pai_agent
    from pydantic_ai import UsageLimits


@workflow.defn
class PydanticAIRun:
    @workflow.run
    async def run(self, prompt: str) -> str:
        # The default request_limit (50) would stop the 200-step run.
        result = await pai_agent.AGENT.run(prompt, usage_limits=UsageLimits(request_limit=1000))
        return str(result.output)
