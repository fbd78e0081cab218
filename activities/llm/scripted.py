"""An offline, deterministic model: no network, same request -> same answer.

With a script, step k (k = assistant messages already in the transcript) answers `script[k]`;
past the end it repeats the last turn's text without tool calls.

Without a script it follows the demo rule:
- after tool results, it answers with them ("The answer is 84.", or says the tool failed);
- when the last user message holds an arithmetic expression and a calculator is offered, it
  calls the calculator with that expression;
- otherwise it echoes the input.

It answers at once, so it does not stream: `on_delta` is never called (token deltas come from
the models that take time to answer).
"""

from __future__ import annotations

import json
import re

from activities.llm.base import ModelRequest
from workflows.types import (
    LlmStepResult,
    ScriptTurn,
    ToolCall,
    ToolSpec,
    TranscriptMessage,
    Usage,
)

CALCULATOR = "calculator"
DEFAULT_MODEL = "scripted"

# Runs of characters that can make up an arithmetic expression; filtered further below.
_EXPRESSION_RUN = re.compile(r"[0-9+\-*/%().\s]+")
# An operator that follows an operand: "12*7", "(1+2)", "2 ** 8" but not "-5" or "1.5".
_LEADING_JUNK = re.compile(r"^(?:[*/%]+|\.(?!\d))")
_TRAILING_JUNK = re.compile(r"[-+*/%.]+$")
_HAS_OPERATOR = re.compile(r"[0-9).]\s*(?:\*\*|//|[-+*/%])\s*[-+(0-9.]")
# A word with the blanks before and after it: the pieces cover the whole text.


class ScriptedProvider:
    """Implements `ModelProvider` without a network."""

    async def complete(self, request: ModelRequest) -> LlmStepResult:
        step = sum(1 for m in request.messages if m.role == "assistant")
        if request.script:
            turn = _scripted_turn(request.script, max(0, step - request.script_start))
            text, calls = turn.text, _with_ids(turn.tool_calls, step)
        else:
            text, calls = _demo_turn(request, step)
        return LlmStepResult(
            text=text,
            tool_calls=calls,
            usage=Usage(
                input_tokens=_input_words(request),
                output_tokens=_words(text) + sum(_words(json.dumps(c.arguments)) for c in calls),
            ),
            model=request.model or DEFAULT_MODEL,
        )

    async def aclose(self) -> None:
        return None


def _scripted_turn(script: tuple[ScriptTurn, ...], step: int) -> ScriptTurn:
    if step < len(script):
        return script[step]
    return ScriptTurn(text=script[-1].text)


def _with_ids(calls: tuple[ToolCall, ...], step: int) -> tuple[ToolCall, ...]:
    return tuple(
        c if c.id else ToolCall(id=f"call_{step}_{i}", name=c.name, arguments=c.arguments)
        for i, c in enumerate(calls)
    )


def _demo_turn(request: ModelRequest, step: int) -> tuple[str, tuple[ToolCall, ...]]:
    messages = request.messages
    if messages and messages[-1].role == "tool":
        return _answer_from_results(_trailing_tool_results(messages)), ()
    user_text = next((m.text for m in reversed(messages) if m.role == "user"), "")
    calculator = _calculator(request.tools)
    expression = find_expression(user_text)
    if calculator is not None and expression is not None:
        call = ToolCall(id=f"call_{step}_0", name=calculator, arguments={"expression": expression})
        return "", (call,)
    return (f"You said: {user_text}" if user_text else "Hello! Ask me something."), ()


def _trailing_tool_results(messages: tuple[TranscriptMessage, ...]) -> list[TranscriptMessage]:
    results: list[TranscriptMessage] = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        results.append(message)
    results.reverse()
    return results


def _answer_from_results(results: list[TranscriptMessage]) -> str:
    sentences: list[str] = []
    for result in results:
        name = result.tool_name or "the tool"
        if result.is_error:
            sentences.append(f"The tool {name} failed: {result.text}")
        else:
            sentences.append(f"The answer is {result.text}.")
    return " ".join(sentences)


def _calculator(tools: tuple[ToolSpec, ...]) -> str | None:
    """The name to call: a tool named `calculator`, else the first tool of kind `calculator`."""
    if any(t.name == CALCULATOR for t in tools):
        return CALCULATOR
    return next((t.name for t in tools if t.kind == CALCULATOR), None)


def find_expression(text: str) -> str | None:
    """The longest run of arithmetic characters in `text` that contains an operator."""
    best: str | None = None
    for match in _EXPRESSION_RUN.finditer(text):
        candidate = _trim(match.group())
        if _HAS_OPERATOR.search(candidate) and (best is None or len(candidate) > len(best)):
            best = candidate
    return best


def _trim(run: str) -> str:
    """Drop blanks, dangling operators, sentence dots and unbalanced outer parentheses."""
    previous = None
    while run != previous:
        previous = run
        run = _TRAILING_JUNK.sub("", _LEADING_JUNK.sub("", run.strip())).strip()
        if run.endswith(")") and run.count(")") > run.count("("):
            run = run[:-1]
        if run.startswith("(") and run.count("(") > run.count(")"):
            run = run[1:]
    return run


def _words(text: str) -> int:
    return len(text.split())


def _input_words(request: ModelRequest) -> int:
    return _words(request.system_prompt) + sum(_words(m.text) for m in request.messages)
