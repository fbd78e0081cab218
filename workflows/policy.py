"""Stop rules: pure functions of the run's state, called by the workflow between steps."""

from __future__ import annotations

from workflows.types import AgentSpec, ScriptTurn

# Why a run ended. "answer": the model responded without asking for tools.
ANSWER = "answer"
MAX_STEPS = "max_steps"
ERROR = "error"
CANCELLED = "cancelled"


def stop_before_tools(agent: AgentSpec, steps_taken: int) -> str | None:
    """Whether to stop instead of running the tools the model just asked for.

    `max_steps` counts model calls. When the last allowed call still asks for tools, running them
    would produce results no model call will ever read, so the run stops there.
    """
    if steps_taken >= agent.max_steps:
        return MAX_STEPS
    return None


def script_window(script: tuple[ScriptTurn, ...], step_index: int) -> tuple[ScriptTurn, ...]:
    """The part of an offline model's script that model call `step_index` (0-based) needs.

    Sending the whole script into every call would make the history grow with steps x script
    length. Past the end the script keeps answering with its last turn's text.
    """
    if not script:
        return ()
    if step_index < len(script):
        return (script[step_index],)
    return (ScriptTurn(text=script[-1].text),)
