"""Peer: Pydantic AI's durable agent on Temporal (`pydantic_ai.durable_exec.temporal`: the
`TemporalDurability` capability, which replaces the deprecated `TemporalAgent` wrapper). Model
requests and the calculator tool run as activities. The agent itself is in `pai_agent.py`.
Needs the `bench` extra.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import pai_agent


@workflow.defn
class PydanticAIRun:
    @workflow.run
    async def run(self, prompt: str) -> str:
        result = await pai_agent.AGENT.run(prompt)
        return str(result.output)
