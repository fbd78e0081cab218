"""What a model call cost, from the provider's price table (USD per million tokens)."""

from __future__ import annotations

import dataclasses

from workflows.types import ModelPrice, ProviderSpec, Usage

WILDCARD = "*"


def price(usage: Usage, provider: ProviderSpec, model: str) -> Usage:
    """`usage` with `cost_usd` set from `provider.prices`; 0 when no price matches `model`.

    Cached prompt tokens are priced at the cached price (the input price when the entry has
    none), the rest of the prompt at the input price, the completion at the output price.
    """
    entry = find_price(provider.prices, model)
    if entry is None:
        return dataclasses.replace(usage, cost_usd=0.0)
    cached = min(max(usage.cached_input_tokens, 0), max(usage.input_tokens, 0))
    uncached = max(usage.input_tokens, 0) - cached
    cached_rate = (
        entry.cached_input_usd_per_mtok
        if entry.cached_input_usd_per_mtok is not None
        else entry.input_usd_per_mtok
    )
    cost = (
        uncached * entry.input_usd_per_mtok
        + cached * cached_rate
        + max(usage.output_tokens, 0) * entry.output_usd_per_mtok
    ) / 1e6
    return dataclasses.replace(usage, cost_usd=cost)


def find_price(prices: tuple[ModelPrice, ...], model: str) -> ModelPrice | None:
    """The entry for `model`: the one naming it exactly, else the longest prefix pattern that
    matches it (an entry whose model ends with `*`, e.g. `gpt-4o*`), else None."""
    best: ModelPrice | None = None
    for entry in prices:
        if entry.model == model:
            return entry
        if entry.model.endswith(WILDCARD):
            prefix = entry.model[: -len(WILDCARD)]
            if model.startswith(prefix) and (best is None or len(entry.model) > len(best.model)):
                best = entry
    return best
