"""System prompt templates: checked at save time, rendered in a sandbox at run start."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest

from core.errors import InvalidConfig
from core.prompts import check_template, check_variable_names, render_system_prompt

DAY = date(2026, 11, 25)


def render(template: str, declared: tuple[str, ...] = (), **variables: Any) -> str:
    return render_system_prompt(
        template, agent="helper", input="hi there", date=DAY, variables=variables, declared=declared
    )


def problem(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(InvalidConfig) as err:
        call(*args, **kwargs)
    return err.value.field, err.value.problem


def test_builtins_and_declared_variables() -> None:
    template = "You are {{ agent }}. Today is {{ date }}.\n{{ input }} / {{ tone }}\n"
    check_template(template, ["tone"])
    assert render(template, ("tone",), tone="terse") == (
        "You are helper. Today is 2026-11-25.\nhi there / terse\n"
    )


def test_plain_text_renders_to_itself() -> None:
    text = "Be brief. Costs are in $ and {braces} stay.\n"
    check_template(text, [])
    assert render(text) == text


def test_loops_sets_filters_and_json_values() -> None:
    template = (
        "{% set n = items | length %}{{ n }} items:"
        "{% for item in items %} {{ loop.index }}={{ item.name | upper }}{% endfor %}"
        "{% if extra is defined %} +{{ extra }}{% endif %} {{ missing | default('-') }}"
    )
    check_template(template, ["items", "extra", "missing"])
    items = [{"name": "a"}, {"name": "b"}]
    assert render(template, ("items", "extra", "missing"), items=items) == "2 items: 1=A 2=B -"


def test_syntax_error_names_the_line() -> None:
    field, message = problem(check_template, "one\ntwo {{ input \nthree", [])
    assert (field, message) == (
        "system_prompt",
        "line 3: expected token 'end of print statement', got 'three'",
    )
    field, message = problem(check_template, "ok\n\n{% if input %}never closed", [])
    assert (field, message.split(":")[0]) == ("system_prompt", "line 3")
    # Unknown filters and tests are found when the template compiles.
    field, message = problem(check_template, "a\n{{ input | nosuchfilter }}", [])
    assert (field, message) == ("system_prompt", "line 2: No filter named 'nosuchfilter'.")
    assert problem(render, "{{ input is nosuchtest }}")[0] == "system_prompt"


def test_unknown_variable_names_the_line() -> None:
    template = "{% set x = 1 %}{{ x }}\n{% for i in range(2) %}{{ i }}{% endfor %}\n\n{{ user }}"
    field, message = problem(check_template, template, ["tone"])
    assert field == "system_prompt"
    assert message.startswith("line 4: unknown variable 'user'")
    assert "tone" in message and "prompt_variables" in message
    check_template(template, ["user"])


def test_attribute_escapes_are_refused_at_save_and_at_render() -> None:
    escape = "{{ ''.__class__.__mro__ }}"
    field, message = problem(check_template, "a\n" + escape, [])
    assert field == "system_prompt"
    assert message.startswith("line 2: access to '__") and message.endswith("' is not allowed")
    field, message = problem(check_template, "{{ input['__class__'] }}", [])
    assert field == "system_prompt"
    # Were one stored anyway, the sandbox refuses it when the run starts.
    field, message = problem(render, "x\n" + escape)
    assert field == "system_prompt"
    assert message.startswith("line 2: ") and "unsafe" in message
    for template in ("{% include 'x' %}", "{% extends 'x' %}", "{% import 'x' as y %}"):
        assert problem(check_template, template, [])[0] == "system_prompt"


def test_unknown_and_missing_variables() -> None:
    field, message = problem(render, "{{ tone }}", ("tone",), tone="x", colour="red")
    assert (field, message) == (
        "variables.colour",
        "this agent declares no such variable (declared: tone)",
    )
    assert problem(render, "hi", (), x=1) == (
        "variables.x",
        "this agent declares no such variable (declared: none)",
    )
    assert problem(render, "a {{ tone }}", ("tone",)) == (
        "variables.tone",
        "required by the agent's prompt",
    )
    assert problem(render, "{{ user.name }}", ("user",)) == (
        "variables.user",
        "required by the agent's prompt",
    )
    # Declared but not used: not required.
    assert render("{{ input }}", ("tone",)) == "hi there"


def test_render_errors_name_the_prompt() -> None:
    field, message = problem(render, "a\n\n{{ 1 / 0 }}")
    assert (field, message) == ("system_prompt", "line 3: ZeroDivisionError: division by zero")
    field, message = problem(render, "{{ user.nickname }}", ("user",), user={"name": "x"})
    assert field == "system_prompt" and "nickname" in message


def test_no_random_globals() -> None:
    assert problem(check_template, "{{ lipsum() }}", [])[0] == "system_prompt"


@pytest.mark.parametrize(
    ("names", "field"),
    [
        (["ok", "1bad"], "prompt_variables[1]"),
        (["has-dash"], "prompt_variables[0]"),
        (["input"], "prompt_variables[0]"),
        (["date"], "prompt_variables[0]"),
        (["for"], "prompt_variables[0]"),
        (["true"], "prompt_variables[0]"),
        (["loop"], "prompt_variables[0]"),
        (["range"], "prompt_variables[0]"),
        (["a", "a"], "prompt_variables[1]"),
        ([""], "prompt_variables[0]"),
    ],
)
def test_variable_names(names: list[str], field: str) -> None:
    assert problem(check_variable_names, names)[0] == field


def test_good_variable_names() -> None:
    check_variable_names(["tone", "user_name", "_x", "Customer2"])


# Each is saved (the text alone does not show the size) and must stop at render, fast.
RUNAWAY_AT_RENDER = {
    "nested loops": "{% set n = 100000 %}{% for i in range(n) %}{% for k in range(n) %}"
    "{% endfor %}{% endfor %}",
    "loop over the input": "{% for a in input * 40000 %}{% for b in input * 40000 %}"
    "{% endfor %}{% endfor %}",
    "string repetition": "{% set n = 10**9 %}{{ 'x' * n }}",
    "list repetition": "{% set n = 10**9 %}{{ ([1] * n)|length }}",
    "power": "{% set n = 10**6 %}{{ 7 ** n }}",
    "doubling": "{% set ns = namespace(s='x') %}{% for i in range(60) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "doubling with +": "{% set ns = namespace(s='x') %}{% for i in range(60) %}"
    "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
    "recursion": "{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}"
    "{% endmacro %}{{ f(40) }}",
    "center": "{% set n = 10**9 %}{{ 'x'|center(n) }}",
    "indent": "{% set s = 'a\n' * 50000 %}{{ s|indent(50000) }}",
    "wordwrap": "{% set n = 10**9 %}{{ 'x y'|wordwrap(n) }}",
    "batch": "{% set n = 10**9 %}{{ [1]|batch(n, 'x')|list|length }}",
    "join": "{% set n = 50000 %}{{ range(n)|join('x' * n) }}",
    "replace": "{% set s = 'x' * 50000 %}{{ s|replace('x', s) }}",
    "str method": "{% set n = 10**9 %}{{ 'x'.ljust(n) }}",
    "str.format width": "{% set f = '{:>1000000000}' %}{{ f.format(1) }}",
    "% width": "{% set f = '%1000000000d' %}{{ f % 1 }}",
    "loop text": "{% set n = 99000 %}{% for i in range(n) %}" + "x" * 1000 + "{% endfor %}",
    "long output": "{% for i in range(30000) %}{{ input }}{% endfor %}",
}


@pytest.mark.parametrize("template", RUNAWAY_AT_RENDER.values(), ids=RUNAWAY_AT_RENDER.keys())
def test_runaway_templates_stop_at_render(template: str) -> None:
    check_template(template, [])
    start = time.perf_counter()
    field, message = problem(render, template)
    assert field == "system_prompt"
    assert "than" in message, message  # "more than N ...", "longer than N ...", "larger than"
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize(
    "template",
    [
        "{% for i in range(100000) %}{% for k in range(100000) %}{% endfor %}{% endfor %}",
        "{% for i in range(1000000) %}{% endfor %}",
        "{{ range(10**9)|list }}",
        "{{ 'x' * 10**9 }}",
        "{{ [1, 2] * 1000000 }}",
        "{{ 10 ** 100000 }}",
        "{% for i in [1, 2, 3] %}{% for k in range(50000) %}{% endfor %}{% endfor %}",
    ],
)
def test_runaway_templates_are_refused_at_save(template: str) -> None:
    field, message = problem(check_template, template, [])
    assert field == "system_prompt" and message.startswith("line 1: ")
    assert "over the limit" in message


def test_bounded_templates_render() -> None:
    template = (
        "{% for i in range(3) %}{{ i }}{% endfor %} {{ range(4)|join(',') }} {{ 'ab' * 2 }} "
        "{{ 2 ** 10 }} {{ '%03d' % 7 }} {{ 'x'|center(5) }}|{{ 'a' ~ 'b' }} {{ [1, 2]|sum }} "
        "{{ '{:>4}'.format(1) }} {{ 'a-b'|replace('-', '+') }} {{ input|upper }}"
    )
    check_template(template, [])
    assert render(template) == "012 0,1,2,3 abab 1024 007   x  |ab 3    1 a+b HI THERE"
    # Up to the limits: a 100 000-character prompt, and a loop of 40 000 items.
    assert len(render("{{ 'x' * 100000 }}")) == 100_000
    assert render("{% for i in range(40000) %}{% endfor %}done") == "done"


def test_bounds_do_not_refuse_ordinary_numbers() -> None:
    template = (
        "{{ 'order %d' % 2000000 }} {{ 'id {}'.format(12345678) }} {{ 10 ** 20 }} "
        "{% set ns = namespace(items=[]) %}{% set _ = ns.items.append(5000000) %}{{ ns.items }}"
    )
    check_template(template, [])
    assert render(template) == "order 2000000 id 12345678 100000000000000000000 [5000000]"
    field, message = problem(render, "{% set n = 10**9 %}{{ '%*d' % (n, 1) }}")
    assert "larger than 100000" in message
