"""Cost of a model call from the provider's price table."""

from __future__ import annotations

import pytest

from activities.llm.pricing import find_price, price
from workflows.types import ModelPrice, ProviderSpec, Usage

GPT_4O = ModelPrice(
    model="gpt-4o", input_usd_per_mtok=2.5, output_usd_per_mtok=10.0, cached_input_usd_per_mtok=1.25
)
GPT_4O_ANY = ModelPrice(model="gpt-4o*", input_usd_per_mtok=5.0, output_usd_per_mtok=20.0)
GPT_4O_MINI_ANY = ModelPrice(model="gpt-4o-mini*", input_usd_per_mtok=0.15, output_usd_per_mtok=0.6)
NO_CACHED_PRICE = ModelPrice(model="llama3", input_usd_per_mtok=1.0, output_usd_per_mtok=2.0)
PROVIDER = ProviderSpec(
    name="main",
    kind="openai",
    prices=(GPT_4O_ANY, GPT_4O_MINI_ANY, GPT_4O, NO_CACHED_PRICE),
)
USAGE = Usage(input_tokens=1_000_000, output_tokens=200_000, cached_input_tokens=400_000)


def test_exact_match_with_cached_price() -> None:
    priced = price(USAGE, PROVIDER, "gpt-4o")

    # 600k uncached * 2.5 + 400k cached * 1.25 + 200k out * 10, per million.
    assert priced.cost_usd == pytest.approx(1.5 + 0.5 + 2.0)
    assert (priced.input_tokens, priced.output_tokens, priced.cached_input_tokens) == (
        1_000_000,
        200_000,
        400_000,
    )


def test_exact_match_beats_a_pattern_listed_first() -> None:
    assert find_price(PROVIDER.prices, "gpt-4o") is GPT_4O


def test_cached_tokens_fall_back_to_the_input_price() -> None:
    priced = price(USAGE, PROVIDER, "llama3")

    assert priced.cost_usd == pytest.approx((1_000_000 * 1.0 + 200_000 * 2.0) / 1e6)


def test_prefix_match() -> None:
    priced = price(Usage(input_tokens=1000, output_tokens=100), PROVIDER, "gpt-4o-2024-08-06")

    assert priced.cost_usd == pytest.approx((1000 * 5.0 + 100 * 20.0) / 1e6)


def test_the_longest_prefix_wins() -> None:
    assert find_price(PROVIDER.prices, "gpt-4o-mini-2024-07-18") is GPT_4O_MINI_ANY
    assert find_price(PROVIDER.prices, "gpt-4o-audio") is GPT_4O_ANY


def test_a_star_matches_only_as_a_prefix() -> None:
    assert find_price(PROVIDER.prices, "my-gpt-4o") is None
    # A pattern matches the bare prefix too.
    assert find_price((GPT_4O_MINI_ANY,), "gpt-4o-mini") is GPT_4O_MINI_ANY


def test_unknown_model_costs_nothing() -> None:
    already = Usage(input_tokens=10, output_tokens=5, cost_usd=3.0)

    assert price(already, PROVIDER, "claude-sonnet").cost_usd == 0.0
    assert price(USAGE, ProviderSpec(name="p", kind="openai"), "gpt-4o").cost_usd == 0.0


def test_no_tokens_cost_nothing() -> None:
    assert price(Usage(), PROVIDER, "gpt-4o") == Usage()


def test_more_cached_than_input_is_clamped() -> None:
    odd = Usage(input_tokens=100, output_tokens=0, cached_input_tokens=500)

    assert price(odd, PROVIDER, "gpt-4o").cost_usd == pytest.approx(100 * 1.25 / 1e6)


def test_price_is_pure() -> None:
    before = Usage(input_tokens=10, output_tokens=5, cached_input_tokens=2)

    after = price(before, PROVIDER, "gpt-4o")

    assert before.cost_usd == 0.0
    assert after is not before
    assert after == price(before, PROVIDER, "gpt-4o")
