"""Peer: the OpenAI Agents SDK on Temporal through its plugin (`temporalio.openai_agents`,
package `temporalio-openai-agents`; `temporalio.contrib.openai_agents` forwards to it). The
model call is the plugin's activity, the calculator a function tool run as an activity.

In a module of its own so that the workflow sandbox imports little. Needs the `bench` extra.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from agents import Agent, Runner
    from temporalio.openai_agents import workflow as agents_workflow


@activity.defn
async def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression and return the result."""
    left, right = expression.split("*")
    return str(int(left) * int(right))


@workflow.defn
class OpenAIAgentsRun:
    @workflow.run
    async def run(self, prompt: str) -> str:
        agent = Agent(
            name="bench",
            instructions="Use the calculator for arithmetic. Answer briefly.",
            model="m",
            tools=[
                agents_workflow.activity_as_tool(
                    calculator, start_to_close_timeout=timedelta(seconds=30)
                )
            ],
        )
        result = await Runner.run(agent, prompt, max_turns=1000)
        return str(result.final_output)


def plugin(base_url: str) -> object:
    """The client plugin: model calls go to the fake server, Chat Completions wire."""
    from agents import OpenAIProvider, set_tracing_disabled
    from openai import AsyncOpenAI
    from temporalio.openai_agents import ModelActivityParameters, OpenAIAgentsPlugin

    set_tracing_disabled(True)
    provider = OpenAIProvider(
        openai_client=AsyncOpenAI(base_url=base_url, api_key="k", max_retries=0),
        use_responses=False,
    )
    return OpenAIAgentsPlugin(
        model_params=ModelActivityParameters(start_to_close_timeout=timedelta(seconds=30)),
        model_provider=provider,
    )
