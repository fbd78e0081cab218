"""The Pydantic AI agent of the peer benchmark, built once before the worker starts (the worker
registers its activities). A module of its own that the workflow imports passed through the
sandbox, so that workflow code finds the very agent the worker registered."""

from __future__ import annotations

from typing import Any

from pydantic_ai import Agent
from pydantic_ai.durable_exec.temporal import TemporalDurability
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

AGENT: Any = None


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression and return the result."""
    left, right = expression.split("*")
    return str(int(left) * int(right))


def build_agent(base_url: str) -> Any:
    global AGENT
    model = OpenAIChatModel("m", provider=OpenAIProvider(base_url=base_url, api_key="k"))
    AGENT = Agent(
        model,
        name="bench_pai",
        instructions="Use the calculator for arithmetic. Answer briefly.",
        tools=[calculator],
        capabilities=[TemporalDurability()],
    )
    return AGENT
