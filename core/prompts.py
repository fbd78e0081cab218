"""System prompts are Jinja2 templates, rendered in a sandbox when a run starts.

Pure functions, no database. A template may use the built-in variables `input` (the user's
message), `agent` (the agent's name) and `date` (the run's date, `YYYY-MM-DD`), and the names
the agent declares in `prompt_variables`, which the caller supplies per run. Anything else is
refused when the agent is saved (`check_template`), with the line it is on.

Rendering is strict: a declared variable the template prints but the caller did not give is an
error naming that variable; `{% if x is defined %}` and `{{ x | default(...) }}` make one
optional. Errors are `InvalidConfig` naming the field (`system_prompt`, `variables.<name>`).

A render is bounded, so that no template can hold the host: at most `MAX_WORK` steps (a loop's
items, a range's items, a call) and `MAX_TEXT` characters produced in all (printed values and
the text of loop and macro bodies each time they run), its result at most `MAX_OUTPUT`
characters, and no value (string, list, integer) made by `*`, `**`, `+`, `~`, `%` or a filter
or string method larger than `MAX_OUTPUT` items (integers: `MAX_INT_BITS` bits). Over a bound,
the render stops with InvalidConfig on `system_prompt`. `check_template` refuses what is over
a bound already in the text: a literal range, nested loops over literal ranges, a literal
string or list multiplied past the limit.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import keyword
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    pass_context,
)
from jinja2.runtime import Context
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


MAX_WORK = 100_000
MAX_TEXT = 1_000_000
MAX_OUTPUT = 100_000
MAX_INT_BITS = 4096


class _OverLimit(Exception):
    """A render went over one of its bounds. Its message says which."""


class _Budget:
    def __init__(self) -> None:
        self.work = 0
        self.text = 0

    def spend(self, work: int = 0, text: int = 0) -> None:
        self.work += work
        self.text += text
        if self.work > MAX_WORK:
            raise _OverLimit(f"the prompt takes more than {MAX_WORK} steps (loop items, calls)")
        if self.text > MAX_TEXT:
            raise _OverLimit(f"the prompt produces more than {MAX_TEXT} characters")


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "prompt_budget", default=None
)


def _spend(work: int = 0, text: int = 0) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.spend(work, text)


def _size(value: Any) -> int:
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        return len(value)
    return 0


def _check_value(value: Any) -> Any:
    """Refuse a value too large to be part of a prompt."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INT_BITS:
            raise _OverLimit(f"an integer is larger than {MAX_INT_BITS} bits")
    elif _size(value) > MAX_OUTPUT:
        raise _OverLimit(f"a value is longer than {MAX_OUTPUT} items")
    return value


def _check_args(args: Iterable[Any]) -> None:
    """Widths and counts larger than any prompt (`center(10**9)`, `ljust`, `batch`)."""
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_OUTPUT:
            raise _OverLimit(f"a width or count is larger than {MAX_OUTPUT}")


# The widths and precisions of `%` conversions and of `{…}` replacement fields.
_PERCENT_WIDTHS = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\d*)(?:\.(\d*))?")
_FIELD_SPECS = re.compile(r"\{[^{}]*\}")
_NUMBER = re.compile(r"\d+")
_NESTED_FIELD = re.compile(r"\{[^{}]*\{")


def _check_format(fmt: str) -> None:
    numbers = [n for match in _PERCENT_WIDTHS.findall(fmt) for n in match if n]
    numbers += [n for spec in _FIELD_SPECS.findall(fmt) for n in _NUMBER.findall(spec)]
    for number in numbers:
        if len(number) > 6 or int(number) > MAX_OUTPUT:
            raise _OverLimit(f"a width in a format is larger than {MAX_OUTPUT}")


def _safe_range(*args: int) -> range:
    _check_args(args)
    items = range(*args)
    if len(items) > MAX_WORK:
        raise _OverLimit(f"a range has more than {MAX_WORK} items")
    _spend(work=len(items))
    return items


def _mul_size(left: Any, right: Any) -> None:
    for seq, count in ((left, right), (right, left)):
        if isinstance(count, int) and _size(seq):
            if _size(seq) * max(count, 0) > MAX_OUTPUT:
                raise _OverLimit(f"a repeated value would be longer than {MAX_OUTPUT} items")
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise _OverLimit(f"an integer would be larger than {MAX_INT_BITS} bits")


def _pow_size(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        if (abs(left).bit_length() - 1) * right > MAX_INT_BITS:
            raise _OverLimit(f"an integer would be larger than {MAX_INT_BITS} bits")


def _add_size(left: Any, right: Any) -> None:
    if _size(left) + _size(right) > MAX_OUTPUT:
        raise _OverLimit(f"a value would be longer than {MAX_OUTPUT} items")


_STR_METHODS_SIZED = frozenset(
    {"ljust", "rjust", "center", "zfill", "expandtabs", "format", "format_map"}
)


def _replace_size(text: str, old: str, new: str, count: int = -1) -> None:
    times = text.count(old) if old else len(text) + 1
    if count >= 0:
        times = min(times, count)
    if len(text) + times * max(len(new) - len(old), 0) > MAX_OUTPUT:
        raise _OverLimit(f"a replacement would be longer than {MAX_OUTPUT} characters")


class _BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, with the work and the size of what a template makes bounded."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _mul_size(left, right)
        elif operator == "**":
            _pow_size(left, right)
        elif operator == "+":
            _add_size(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
            if "*" in left:  # `%*d`: the width is an argument
                _check_args(right if isinstance(right, tuple) else (right,))
        return _check_value(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _spend(work=1)
        # The sandbox hands `str.format` out wrapped; the wrapper keeps the method.
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        name = getattr(target, "__name__", "")
        if isinstance(owner, str) and name in _STR_METHODS_SIZED:
            if name not in ("format", "format_map"):
                _check_args(args)
            else:
                _check_format(owner)
            if name == "format" and _NESTED_FIELD.search(owner):  # `{:{w}}`: a width argument
                _check_args(args)
                _check_args(kwargs.values())
        if isinstance(owner, str) and name == "replace" and len(args) >= 2:
            _replace_size(owner, str(args[0]), str(args[1]), *args[2:3])
        if isinstance(owner, str) and name == "join" and args:
            items = list(args[0])
            _check_value(items)
            total = sum(len(str(item)) for item in items)
            if total + len(owner) * len(items) > MAX_OUTPUT:
                raise _OverLimit(f"a join would be longer than {MAX_OUTPUT} characters")
            args = (items, *args[1:])
        return _check_value(super().call(__context, __obj, *args, **kwargs))


# Filters whose numeric arguments are widths or counts of what they make.
_SIZED_FILTERS = frozenset({"center", "indent", "wordwrap", "batch", "slice", "format"})


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        passed = Context | SandboxedEnvironment | nodes.EvalContext
        values = [a for a in args if not isinstance(a, passed)]
        if name in _SIZED_FILTERS:
            _check_args(values[1:])
            _check_args(kwargs.values())
            if name == "format" and values and isinstance(values[0], str):
                _check_format(values[0])
        if name == "indent" and values and isinstance(values[0], str):
            width = values[1] if len(values) > 1 else kwargs.get("width", 4)
            lines = values[0].count("\n") + 1
            if (
                len(values[0])
                + lines * _size(width)
                + lines * (width if isinstance(width, int) else 0)
                > MAX_OUTPUT
            ):
                raise _OverLimit(f"indenting would make more than {MAX_OUTPUT} characters")
        if name == "replace" and len(values) >= 3 and isinstance(values[0], str):
            _replace_size(values[0], str(values[1]), str(values[2]), *values[3:4])
        if name in ("join", "sum") and values:
            items = list(values[0])
            _check_value(items)
            sep = values[1] if len(values) > 1 else kwargs.get("d", "")
            total = sum(_size(item) or len(str(item)) for item in items)
            if total + _size(sep) * len(items) > MAX_OUTPUT:
                raise _OverLimit(f"a {name} would be longer than {MAX_OUTPUT} items")
            args = tuple(items if a is values[0] else a for a in args)
        return _check_value(func(*args, **kwargs))

    return bounded


@pass_context
def _loop_items(context: Context, items: Any) -> Iterator[Any]:
    """A loop's iterable: each item is a step of the render's work."""
    for item in items:
        _spend(work=1)
        yield item


@pass_context
def _body_text(context: Context, size: int) -> str:
    """At the start of a loop's or a macro's body: its text is produced once more."""
    _spend(text=size)
    return ""


@pass_context
def _joined(context: Context, value: Any) -> Any:
    """The result of `~`: as large as a value may be."""
    return _check_value(value)


def _finalize(value: Any) -> Any:
    """Every printed value counts to the characters the render produces."""
    _spend(text=len(value) if isinstance(value, str) else 0)
    return value


def _environment() -> SandboxedEnvironment:
    env = _BoundedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, finalize=_finalize
    )
    # Random text has no place in a prompt that should be reproducible from its inputs.
    env.globals.pop("lipsum", None)
    env.globals["range"] = _safe_range
    env.filters = {name: _bounded_filter(name, f) for name, f in env.filters.items()}
    env.filters.update(
        {"_orch_loop": _loop_items, "_orch_body": _body_text, "_orch_joined": _joined}
    )
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


_HUGE = MAX_WORK * MAX_WORK


def _static_int(node: nodes.Node) -> int | None:
    """An integer the text fixes (`100`, `10**9`), capped at _HUGE; None if not fixed."""
    if isinstance(node, nodes.Const) and isinstance(node.value, int):
        return min(node.value, _HUGE) if not isinstance(node.value, bool) else None
    if isinstance(node, nodes.Neg):
        inner = _static_int(node.node)
        return -inner if inner is not None else None
    if isinstance(node, nodes.Mul | nodes.Pow | nodes.Add | nodes.Sub):
        left, right = _static_int(node.left), _static_int(node.right)
        if left is None or right is None:
            return None
        if isinstance(node, nodes.Pow):
            if right < 0 or abs(left) <= 1:
                return None
            if (abs(left).bit_length() - 1) * right > _HUGE.bit_length():
                return _HUGE
        ops: dict[type, Callable[[int, int], int]] = {
            nodes.Mul: operator.mul,
            nodes.Pow: operator.pow,
            nodes.Add: operator.add,
            nodes.Sub: operator.sub,
        }
        return max(min(ops[type(node)](left, right), _HUGE), -_HUGE)
    return None


def _static_length(node: nodes.Node) -> int | None:
    """How many items a loop over `node` has, when the text fixes it."""
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name):
        if node.node.name == "range" and node.args and not node.kwargs:
            bounds = [_static_int(arg) for arg in node.args]
            if None in bounds or len(bounds) > 3:
                return None
            try:
                return len(range(*[b for b in bounds if b is not None]))
            except (ValueError, OverflowError):
                return None
    if isinstance(node, nodes.List | nodes.Tuple):
        return len(node.items)
    if isinstance(node, nodes.Const) and isinstance(node.value, str | list | tuple):
        return len(node.value)
    return None


def _over(line: int, problem: str) -> InvalidConfig:
    return InvalidConfig("system_prompt", f"line {line}: {problem}")


def _check_static(node: nodes.Node, runs: int = 1) -> None:
    """Refuse the bounds the text alone already passes (loops over literal ranges, nested
    ones, literal repetition)."""
    if isinstance(node, nodes.For):
        length = _static_length(node.iter)
        if length is not None:
            if length > MAX_WORK:
                raise _over(node.lineno, f"a loop of {length} items is over the limit {MAX_WORK}")
            if runs * length > MAX_WORK:
                raise _over(
                    node.lineno,
                    f"nested loops of {runs * length} items in all are over the limit of "
                    f"{MAX_WORK}",
                )
        _check_static(node.iter, runs)
        inner = runs * length if length is not None else runs
        for child in (*node.body, *node.else_, *([node.test] if node.test else [])):
            _check_static(child, inner)
        return
    if isinstance(node, nodes.Call) and _static_length(node) is None:
        if isinstance(node.node, nodes.Name) and node.node.name == "range":
            bounds = [_static_int(arg) for arg in node.args]
            if bounds and None not in bounds and max(abs(b) for b in bounds if b) > MAX_WORK:
                raise _over(node.lineno, f"a range is over the limit of {MAX_WORK} items")
    if isinstance(node, nodes.Call):
        length = _static_length(node)
        if length is not None and length > MAX_WORK:
            raise _over(node.lineno, f"a range of {length} items is over the limit of {MAX_WORK}")
    if isinstance(node, nodes.Mul):
        for seq, count in ((node.left, node.right), (node.right, node.left)):
            size, times = _static_length(seq), _static_int(count)
            if size and times is not None and size * times > MAX_OUTPUT:
                raise _over(
                    node.lineno,
                    f"a value repeated {times} times is over the limit of {MAX_OUTPUT} items",
                )
    if isinstance(node, nodes.Pow):
        base, exponent = _static_int(node.left), _static_int(node.right)
        if base is not None and exponent is not None and exponent > 0 and abs(base) > 1:
            if (abs(base).bit_length() - 1) * exponent > MAX_INT_BITS:
                raise _over(node.lineno, f"an integer is over the limit of {MAX_INT_BITS} bits")
    for child in node.iter_child_nodes():
        _check_static(child, runs)


def _bound_nodes(ast: nodes.Template) -> nodes.Template:
    """Mark the template's steps for the render's budget: each loop item, and the text of
    each loop or macro body each time it runs; `~` results are checked for size."""

    def text_of(body: Sequence[nodes.Node]) -> int:
        return sum(
            len(data.data) for stmt in body for data in stmt.find_all(nodes.TemplateData)
        ) + sum(len(stmt.data) for stmt in body if isinstance(stmt, nodes.TemplateData))

    def charge(body: list[nodes.Node], lineno: int) -> None:
        mark = nodes.Filter(nodes.Const(text_of(body)), "_orch_body", [], [], None, None)
        body.insert(0, nodes.Output([mark], lineno=lineno))

    for loop in list(ast.find_all(nodes.For)):
        loop.iter = nodes.Filter(loop.iter, "_orch_loop", [], [], None, None, lineno=loop.lineno)
        charge(loop.body, loop.lineno)
    for macro in list(ast.find_all(nodes.Macro)):
        charge(macro.body, macro.lineno)
    for call in list(ast.find_all(nodes.CallBlock)):
        charge(call.body, call.lineno)

    def joined(value: Any) -> Any:
        if isinstance(value, nodes.Concat):
            return nodes.Filter(value, "_orch_joined", [], [], None, None, lineno=value.lineno)
        return value

    for parent in list(ast.find_all(nodes.Node)):
        for field, value in parent.iter_fields():
            if isinstance(value, list):
                setattr(parent, field, [joined(item) for item in value])
            else:
                setattr(parent, field, joined(value))
    for node in ast.find_all(nodes.Node):
        node.set_environment(_ENV)
    return ast


def check_template(template: str, declared: Iterable[str]) -> None:
    """Refuse a system prompt that does not compile or reads a variable nobody supplies.

    Raises InvalidConfig("system_prompt", "line N: ...").
    """
    if not is_template(template):
        return
    try:
        ast = _ENV.parse(template)
        _check_static(ast)
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
    ast = _bound_nodes(_ENV.parse(template))
    return _ENV.template_class.from_code(_ENV, _ENV.compile(ast), _ENV.make_globals(None), None)


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
    budget = _Budget()
    token = _BUDGET.set(budget)
    try:
        parts: list[str] = []
        size = 0
        for part in compiled.generate(context):
            size += len(part)
            if size > MAX_OUTPUT:
                raise _OverLimit(f"the prompt is longer than {MAX_OUTPUT} characters")
            parts.append(part)
        return "".join(parts)
    except _OverLimit as err:
        line = _template_line(err.__traceback__)
        where = f"line {line}: " if line is not None else ""
        raise InvalidConfig("system_prompt", f"{where}{err}") from None
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
    finally:
        _BUDGET.reset(token)
