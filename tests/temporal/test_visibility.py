"""The visibility query and page tokens of `GET /v1/runs`, without a server."""

from __future__ import annotations

import pytest

from core.errors import InvalidConfig
from temporal.visibility import decode_page_token, encode_page_token, runs_query


def test_the_query_is_built_from_checked_values_only() -> None:
    base = "WorkflowType = 'AgentRun' AND ExecutionStatus != 'ContinuedAsNew'"
    assert runs_query(agent=None, status=None) == base
    assert runs_query(agent="demo", status="cancelled") == (
        f"{base} AND AgentName = 'demo' AND ExecutionStatus = 'Canceled'"
    )
    assert runs_query(agent=None, status="timed_out").endswith("ExecutionStatus = 'TimedOut'")


@pytest.mark.parametrize(
    ("agent", "status", "page_size", "field"),
    [
        ("demo' OR 'a' = 'a", None, 1, "agent"),
        ("", None, 1, "agent"),
        ("Demo", None, 1, "agent"),
        (None, "stopped", 1, "status"),
        (None, "continued_as_new", 1, "status"),
        (None, None, 0, "limit"),
        (None, None, 201, "limit"),
    ],
)
def test_bad_filters_name_the_field(
    agent: str | None, status: str | None, page_size: int, field: str
) -> None:
    with pytest.raises(InvalidConfig) as err:
        runs_query(agent=agent, status=status, page_size=page_size)
    assert err.value.field == field


def test_page_tokens_round_trip_and_others_are_refused() -> None:
    token = b'{"CloseTime":"2026-11-25T14:25:00Z","RunID":"r"}'
    text = encode_page_token(token)
    assert "=" not in text and "+" not in text and "/" not in text
    assert decode_page_token(text) == token
    for bad in ["", "nope", "eyJ4IjoxfQ", text[:-2], text + "A", text.replace(text[3], "_", 1)]:
        if bad == text:
            continue
        with pytest.raises(InvalidConfig) as err:
            decode_page_token(bad)
        assert err.value.field == "page_token"
