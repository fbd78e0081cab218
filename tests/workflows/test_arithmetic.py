"""The calculator's arithmetic (workflows/arithmetic.py): real arithmetic, no eval."""

from __future__ import annotations

import pytest

from workflows.arithmetic import ArithmeticProblem, evaluate, format_number


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("12*7", "84"),
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("2 ** 3 ** 2", "512"),
        ("-2 ** 2", "-4"),
        ("7 / 2", "3.5"),
        ("6 / 3", "2"),
        ("7 // 2", "3"),
        ("-7 % 3", "2"),
        ("0.1 + 0.2", "0.3"),
        ("+5 - -5", "10"),
        ("1.5e3", "1500"),
        ("2 ** -1", "0.5"),
        ("2 ** 100", "1267650600228229401496703205376"),
        ("  3  ", "3"),
        ("1/3", "0.333333333333333"),
    ],
)
def test_arithmetic(expression: str, expected: str) -> None:
    assert format_number(evaluate(expression)) == expected


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("1/0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("", "empty"),
        ("2 +", "not an arithmetic expression"),
        ("abc", "unsupported"),
        ("__import__('os').system('true')", "unsupported"),
        ("(1).__class__", "unsupported"),
        ("[1, 2]", "unsupported"),
        ("'a' * 3", "only numbers"),
        ("True + 1", "only numbers"),
        ("1j * 2", "only numbers"),
        ("1 < 2", "unsupported"),
        ("2 ** 100000", "exponents above 1000"),
        ("10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000", "too large"),
        ("99 ** 999", "too large"),
        ("1e308 * 10", "too large"),
        ("(-8) ** 0.5", "not a real number"),
        ("1+" * 300 + "1", "longer than"),
    ],
)
def test_errors(expression: str, problem: str) -> None:
    with pytest.raises(ArithmeticProblem) as caught:
        evaluate(expression)
    assert problem in str(caught.value)


def test_format_number() -> None:
    assert format_number(84) == "84"
    assert format_number(84.0) == "84"
    assert format_number(-0.0) == "0"
    assert format_number(2.5) == "2.5"
    assert format_number(1e20) == "1e+20"
