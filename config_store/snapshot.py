"""Rows and stored JSON to the frozen dataclasses that cross the Temporal boundary.

A field named as a column is copied as it is (`from_row`); only the fields that need a
conversion (a copy of mutable JSON, a tuple, a nested type) are written out here.
"""

from __future__ import annotations

import copy
from typing import Any

from config_store.models import Provider, Tool
from config_store.rows import from_row
from workflows.types import ModelPrice, ProviderSpec, ScriptTurn, ToolCall, ToolSpec


def model_price(stored: dict[str, Any]) -> ModelPrice:
    cached = stored.get("cached_input_usd_per_mtok")
    return ModelPrice(
        model=str(stored["model"]),
        input_usd_per_mtok=float(stored.get("input_usd_per_mtok") or 0.0),
        output_usd_per_mtok=float(stored.get("output_usd_per_mtok") or 0.0),
        cached_input_usd_per_mtok=None if cached is None else float(cached),
    )


def provider_spec(row: Provider) -> ProviderSpec:
    return from_row(
        ProviderSpec,
        row,
        headers=dict(row.headers),
        prices=tuple(model_price(price) for price in row.prices),
    )


def tool_spec(row: Tool) -> ToolSpec:
    return from_row(
        ToolSpec,
        row,
        parameters=copy.deepcopy(row.parameters),
        config=copy.deepcopy(row.config),
    )


def script_turns(script: list[dict[str, Any]]) -> tuple[ScriptTurn, ...]:
    """Stored script JSON to turns; a tool call without an id gets `call_{turn}_{i}`."""
    return tuple(
        ScriptTurn(
            text=str(turn.get("text", "")),
            tool_calls=tuple(
                ToolCall(
                    id=str(call.get("id") or f"call_{t}_{i}"),
                    name=str(call["name"]),
                    arguments=copy.deepcopy(dict(call.get("arguments") or {})),
                )
                for i, call in enumerate(turn.get("tool_calls") or [])
            ),
        )
        for t, turn in enumerate(script)
    )
