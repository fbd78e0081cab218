"""System prompts are Jinja2 templates, rendered in a sandbox when a run starts.

Pure functions, no database. A template may use the built-in variables `input` (the user's
message), `agent` (the agent's name) and `date` (the run's date, `YYYY-MM-DD`), and the names
the agent declares in `prompt_variables`, which the caller supplies per run. Anything else is
refused when the agent is saved (`check_template`), with the line it is on.

Rendering is strict: a declared variable the template prints but the caller did not give is an
error naming that variable; `{% if x is defined %}` and `{{ x | default(...) }}` make one
optional. Errors are `InvalidConfig` naming the field (`system_prompt`, `variables.<name>`).
"""

from __future__ import annotations

import datetime as dt
import keyword
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from types import TracebackType
from typing import Any

from jinja2 import (
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
    meta,
    nodes,
)
from jinja2.sandbox import SandboxedEnvironment

from core.errors import InvalidConfig

BUILTINS = ("input", "agent", "date")

# Names a template cannot use for a caller's variable: Jinja's constants and the names it
# binds itself inside loops, macros and calls.
_JINJA_RESERVED = frozenset(
    {"true", "false", "none", "loop", "self", "caller", "varargs", "kwargs"}
)
_VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MARKERS = ("{{", "{%", "{#")


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    # Random text has no place in a prompt that should be reproducible from its inputs.
    env.globals.pop("lipsum", None)
    return env


_ENV = _environment()


class _MissingVariable(UndefinedError):
    """A declared variable the caller did not give was used. Its message is the name."""


def is_template(text: str) -> bool:
    """False for plain text, which renders to itself."""
    return any(marker in text for marker in _MARKERS)


def check_variable_names(names: Sequence[str], field: str = "prompt_variables") -> None:
    """Declared variable names: identifiers, unique, not a built-in or a Jinja name."""
    seen: set[str] = set()
    for i, name in enumerate(names):
        where = f"{field}[{i}]"
        if not isinstance(name, str) or not _VARIABLE_RE.fullmatch(name):
            raise InvalidConfig(
                where,
                f"{name!r} is not a valid variable name: 1-64 characters of letters, digits "
                "and '_', not starting with a digit",
            )
        if name in BUILTINS:
            raise InvalidConfig(where, f"{name!r} is a built-in variable; it is always available")
        if keyword.iskeyword(name) or name in _JINJA_RESERVED or name in _ENV.globals:
            raise InvalidConfig(where, f"{name!r} is reserved in templates; choose another name")
        if name in seen:
            raise InvalidConfig(where, f"{name!r} is declared twice")
        seen.add(name)


def _syntax_error(err: TemplateSyntaxError) -> InvalidConfig:
    return InvalidConfig("system_prompt", f"line {err.lineno}: {err.message}")


def _first_line(ast: nodes.Template, names: Iterable[str]) -> tuple[int, str]:
    """The first place (line, name) where one of `names` is read."""
    wanted = set(names)
    found = [
        (node.lineno, node.name)
        for node in ast.find_all(nodes.Name)
        if node.ctx == "load" and node.name in wanted
    ]
    return min(found) if found else (1, sorted(wanted)[0])


def _check_nodes(ast: nodes.Template) -> None:
    """What the sandbox would refuse anyway, refused at save time with its line."""
    for stmt in ast.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        raise InvalidConfig(
            "system_prompt",
            f"line {stmt.lineno}: extends, include and import are not available in prompts",
        )
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        attr: object = node.attr if isinstance(node, nodes.Getattr) else None
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            attr = node.arg.value
        if isinstance(attr, str) and attr.startswith("_"):
            raise InvalidConfig(
                "system_prompt", f"line {node.lineno}: access to {attr!r} is not allowed"
            )


def check_template(template: str, declared: Iterable[str]) -> None:
    """Refuse a system prompt that does not compile or reads a variable nobody supplies.

    Raises InvalidConfig("system_prompt", "line N: ...").
    """
    if not is_template(template):
        return
    try:
        ast = _ENV.parse(template)
        # Compiles it too: unknown filters and tests are found here.
        used = meta.find_undeclared_variables(ast)
    except TemplateSyntaxError as err:  # TemplateAssertionError included
        raise _syntax_error(err) from None
    _check_nodes(ast)
    known = set(BUILTINS) | set(declared)
    unknown = used - known
    if unknown:
        line, name = _first_line(ast, unknown)
        offer = ", ".join(sorted(known))
        raise InvalidConfig(
            "system_prompt",
            f"line {line}: unknown variable {name!r} (available: {offer}; "
            "declare caller-supplied ones in prompt_variables)",
        )


@lru_cache(maxsize=256)
def _compile(template: str) -> Template:
    return _ENV.from_string(template)


def _template_line(tb: TracebackType | None) -> int | None:
    """The template line an error was raised on (Jinja rewrites tracebacks to show it)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_system_prompt(
    template: str,
    *,
    agent: str,
    input: str,
    date: dt.date,
    variables: Mapping[str, Any],
    declared: Sequence[str],
) -> str:
    """Render an agent's system prompt for one run.

    `variables` may hold only `declared` names; a declared name the template prints but
    `variables` lacks is an error. Raises InvalidConfig naming `variables.<name>` or
    `system_prompt` (syntax, sandbox or other render errors, with the line when known).
    """
    for key in variables:
        if key not in declared:
            names = ", ".join(declared) if declared else "none"
            raise InvalidConfig(
                f"variables.{key}",
                f"this agent declares no such variable (declared: {names})",
            )
    if not is_template(template):
        return template
    try:
        compiled = _compile(template)
    except TemplateSyntaxError as err:
        raise _syntax_error(err) from None
    context: dict[str, Any] = {
        name: StrictUndefined(hint=name, name=name, exc=_MissingVariable) for name in declared
    }
    context.update(variables)
    context.update(input=input, agent=agent, date=date.isoformat())
    try:
        return compiled.render(context)
    except _MissingVariable as err:
        raise InvalidConfig(f"variables.{err.message}", "required by the agent's prompt") from None
    except Exception as err:  # any failure of the template itself: sandbox, undefined, types
        line = _template_line(err.__traceback__)
        where = f"line {line}: " if line is not None else ""
        if isinstance(err, TemplateError) and err.message:
            problem = err.message
        else:
            problem = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        raise InvalidConfig("system_prompt", f"{where}{problem}") from None
