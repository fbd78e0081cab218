"""The offline scripted model: the demo rule, script mode, determinism."""

from __future__ import annotations

from activities.llm.base import ModelRequest
from activities.llm.scripted import ScriptedProvider, find_expression
from tests.support.llm import CALCULATOR, READ_FILE
from workflows.types import (
    LlmStepResult,
    ProviderSpec,
    ScriptTurn,
    ToolCall,
    ToolSpec,
    TranscriptMessage,
    Usage,
)

SCRIPTED = ProviderSpec(name="offline", kind="scripted")


def _request(
    *messages: TranscriptMessage,
    tools: tuple[ToolSpec, ...] = (CALCULATOR,),
    script: tuple[ScriptTurn, ...] = (),
) -> ModelRequest:
    return ModelRequest(
        provider=SCRIPTED,
        model="scripted-1",
        system_prompt="Be brief.",
        messages=messages,
        tools=tools,
        script=script,
    )


async def _complete(request: ModelRequest) -> LlmStepResult:
    return await ScriptedProvider().complete(request)


USER = TranscriptMessage(role="user", text="What is 12*7?")
CALL = ToolCall(id="call_0_0", name="calculator", arguments={"expression": "12*7"})
ASKED = TranscriptMessage(role="assistant", tool_calls=(CALL,))


async def test_demo_calls_the_calculator() -> None:
    result = await _complete(_request(USER))

    assert result.text == ""
    assert result.tool_calls == (CALL,)
    assert result.model == "scripted-1"
    # input: "Be brief." + "What is 12*7?"; output: the JSON arguments {"expression": "12*7"}
    assert result.usage == Usage(input_tokens=5, output_tokens=2)


async def test_demo_answers_with_the_tool_result() -> None:
    result = await _complete(
        _request(
            USER,
            ASKED,
            TranscriptMessage(
                role="tool", text="84", tool_call_id="call_0_0", tool_name="calculator"
            ),
        )
    )

    assert result.tool_calls == ()
    assert "84" in result.text
    assert result.text == "The answer is 84."


async def test_demo_reports_a_failed_tool() -> None:
    result = await _complete(
        _request(
            USER,
            ASKED,
            TranscriptMessage(
                role="tool",
                text="error: division by zero",
                tool_call_id="call_0_0",
                tool_name="calculator",
                is_error=True,
            ),
        )
    )

    assert "failed" in result.text
    assert "division by zero" in result.text


async def test_demo_echoes_without_a_calculator_or_arithmetic() -> None:
    no_tool = await _complete(_request(USER, tools=(READ_FILE,)))
    no_math = await _complete(_request(TranscriptMessage(role="user", text="Hello there")))

    assert no_tool.tool_calls == ()
    assert "What is 12*7?" in no_tool.text
    assert no_math.tool_calls == ()
    assert "Hello there" in no_math.text


async def test_demo_finds_a_calculator_by_kind() -> None:
    calc = ToolSpec(name="math", kind="calculator")

    result = await _complete(_request(USER, tools=(calc,)))

    assert result.tool_calls == (
        ToolCall(id="call_0_0", name="math", arguments={"expression": "12*7"}),
    )


def test_find_expression() -> None:
    assert find_expression("What is 12*7?") == "12*7"
    assert find_expression("compute (1 + 2) * 3.5, please.") == "(1 + 2) * 3.5"
    assert find_expression("2 ** 10 or 3-1?") == "2 ** 10"
    assert find_expression("the year 2024 and -5 degrees") is None
    assert find_expression("a well-known fact") is None


async def test_script_mode_follows_the_assistant_count() -> None:
    script = (
        ScriptTurn(
            tool_calls=(ToolCall(id="", name="calculator", arguments={"expression": "1+1"}),)
        ),
        ScriptTurn(text="Two."),
    )
    first = await _complete(_request(USER, script=script))
    second = await _complete(
        _request(
            USER,
            TranscriptMessage(role="assistant", tool_calls=first.tool_calls),
            TranscriptMessage(role="tool", text="2", tool_call_id="call_0_0"),
            script=script,
        )
    )
    past_the_end = await _complete(
        _request(
            USER,
            TranscriptMessage(role="assistant", text="a"),
            TranscriptMessage(role="assistant", text="b"),
            script=script,
        )
    )

    assert first.tool_calls == (
        ToolCall(id="call_0_0", name="calculator", arguments={"expression": "1+1"}),
    )
    assert second.text == "Two."
    assert second.tool_calls == ()
    assert past_the_end.text == "Two."
    assert past_the_end.tool_calls == ()


async def test_script_past_the_end_drops_tool_calls() -> None:
    script = (ScriptTurn(text="hm", tool_calls=(CALL,)),)

    result = await _complete(
        _request(USER, TranscriptMessage(role="assistant", text="x"), script=script)
    )

    assert result.text == "hm"
    assert result.tool_calls == ()


async def test_deterministic() -> None:
    request = _request(USER, ASKED, TranscriptMessage(role="tool", text="84", tool_call_id="c"))

    results = [await _complete(request) for _ in range(3)]

    assert results[0] == results[1] == results[2]
