"""The floor of the overhead benchmarks: workflows with no project code at all.

In a module of its own so that the workflow sandbox imports nothing but temporalio.

- `BareLoop`: one trivial 'model' and one trivial 'tool' activity per step (`bench/overhead.py
  --scripted`).
- `BareAgentLoop`: the same hops as an agent on the user's path: the 'model' activity posts the
  conversation's length to the fake model server with httpx and reads its answer, the 'tool'
  activity computes the result; N-1 tool steps, then the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    import httpx


@activity.defn
async def bare_model(step: int) -> int:
    return step


@activity.defn
async def bare_tool(step: int) -> int:
    return step


@workflow.defn
class BareLoop:
    """The same hops as the agent, one 'model' and one 'tool' activity per step."""

    @workflow.run
    async def run(self, steps: int) -> int:
        timeout = timedelta(seconds=30)
        for step in range(steps):
            await workflow.execute_activity(bare_model, step, start_to_close_timeout=timeout)
            if step < steps - 1:
                await workflow.execute_activity(bare_tool, step, start_to_close_timeout=timeout)
        return steps


@dataclass(frozen=True)
class ModelCall:
    base_url: str
    steps: int
    tool_results: int  # how many tool results the conversation holds so far


@dataclass(frozen=True)
class ModelAnswer:
    text: str = ""
    expression: str | None = None  # the calculator call, when the model asked for one


class FloorModel:
    """One pooled httpx client for the worker, as any real worker would have."""

    def __init__(self) -> None:
        self.http = httpx.AsyncClient(timeout=30)

    @activity.defn(name="floor_model")
    async def call(self, call: ModelCall) -> ModelAnswer:
        messages: list[dict[str, object]] = [{"role": "user", "content": f"steps={call.steps}"}]
        for i in range(call.tool_results):
            messages.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": f"c{i}",
                            "type": "function",
                            "function": {"name": "calculator", "arguments": "{}"},
                        }
                    ],
                }
            )
            messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": "42"})
        response = await self.http.post(
            f"{call.base_url}/chat/completions", json={"model": "m", "messages": messages}
        )
        response.raise_for_status()
        message = response.json()["choices"][0]["message"]
        if message.get("tool_calls"):
            return ModelAnswer(expression="6*7")
        return ModelAnswer(text=message["content"] or "")


@activity.defn(name="floor_tool")
async def floor_tool(expression: str) -> str:
    left, right = expression.split("*")
    return str(int(left) * int(right))


@workflow.defn
class BareAgentLoop:
    """Model call, then the tool it asked for, until it answers. Returns the steps taken."""

    @workflow.run
    async def run(self, call: ModelCall) -> int:
        timeout = timedelta(seconds=30)
        steps = 0
        while True:
            steps += 1
            answer = await workflow.execute_activity(
                "floor_model",
                ModelCall(call.base_url, call.steps, steps - 1),
                start_to_close_timeout=timeout,
                result_type=ModelAnswer,
            )
            if answer.expression is None:
                return steps
            await workflow.execute_activity(
                floor_tool, answer.expression, start_to_close_timeout=timeout
            )
