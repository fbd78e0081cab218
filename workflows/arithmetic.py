"""Arithmetic without eval: parse with `ast` and walk only the nodes arithmetic needs.

Pure and bounded (an expression of at most MAX_EXPRESSION_CHARS, exponents and integers capped),
so the workflow may compute a calculator call itself (workflows/pure_tools.py) and the tool
activity gives the same answer (activities/tools/calculator.py).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any


class ArithmeticProblem(Exception):
    """Why an expression has no value; its text is what the model is told."""


MAX_EXPRESSION_CHARS = 500
MAX_EXPONENT = 1000
MAX_INT_BITS = 4096  # about 1,233 decimal digits

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression: numbers, + - * / // % **, unary +/-, parentheses."""
    text = expression.strip()
    if not text:
        raise ArithmeticProblem("the expression is empty")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ArithmeticProblem(f"the expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise ArithmeticProblem(f"not an arithmetic expression: {text!r}") from exc
    try:
        return _eval(tree.body)
    except ZeroDivisionError as exc:
        raise ArithmeticProblem("division by zero") from exc
    except OverflowError as exc:
        raise ArithmeticProblem("the result is too large") from exc
    except RecursionError as exc:
        raise ArithmeticProblem("the expression is nested too deeply") from exc


def _eval(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ArithmeticProblem(f"only numbers are allowed, not {value!r}")
        return value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_eval(node.operand)))
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            return _checked(_power(left, right))
        if type(node.op) in _BINARY:
            return _checked(_BINARY[type(node.op)](left, right))
    raise ArithmeticProblem(f"unsupported syntax: {ast.unparse(node)!r}")


def _power(base: Number, exponent: Number) -> Number:
    if abs(exponent) > MAX_EXPONENT:
        raise ArithmeticProblem(f"exponents above {MAX_EXPONENT} are not allowed")
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and exponent > 0
        and base.bit_length() * exponent > MAX_INT_BITS
    ):
        raise ArithmeticProblem("the result is too large")
    result = base**exponent
    if not isinstance(result, int | float):
        raise ArithmeticProblem("the result is not a real number")
    return result


def _checked(value: Any) -> Number:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ArithmeticProblem("the result is too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise ArithmeticProblem("the result is too large")
    if not isinstance(value, int | float):
        raise ArithmeticProblem("the result is not a real number")
    return value


def format_number(value: Number) -> str:
    """84 not 84.0; floats to 15 significant digits (0.1 + 0.2 -> 0.3)."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}"
