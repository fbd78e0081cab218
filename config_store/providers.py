"""Providers: how to reach a model API. They name the env var holding the key, never the key."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from config_store.models import AgentVersion, Provider
from config_store.rows import NamedResource, copy_fields
from config_store.specs import ModelPriceIn, ProviderIn
from config_store.validation import (
    check_above,
    check_choice,
    check_env_template,
    check_header_name,
    check_name,
    check_no_controls,
)
from core.errors import Conflict, InvalidConfig
from workflows.kinds import PROVIDER_KINDS

MAX_TIMEOUT_S = 600.0
# Keys come from api_key_env only, so that they are never stored in the config store.
_KEY_HEADERS = frozenset({"authorization", "x-api-key", "api-key"})


def _check_headers(headers: dict[str, str]) -> None:
    for name, value in headers.items():
        field = f"headers.{name}"
        check_header_name(name, field)
        if name.lower() in _KEY_HEADERS:
            raise InvalidConfig(
                field,
                "the API key is not set through headers: it comes from the env var that "
                "api_key_env names",
            )
        if not isinstance(value, str):
            raise InvalidConfig(field, "must be a string")
        check_no_controls(value, field)
        check_env_template(value, field)


def _check_prices(prices: list[ModelPriceIn]) -> None:
    seen: set[str] = set()
    for i, price in enumerate(prices):
        if not price.model:
            raise InvalidConfig(f"prices[{i}].model", "must not be empty")
        if price.model in seen:
            raise InvalidConfig(f"prices[{i}].model", f"model {price.model!r} is priced twice")
        seen.add(price.model)
        for key in ("input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok"):
            check_above(getattr(price, key), f"prices[{i}].{key}", 0.0, inclusive=True)


def _validate(spec: ProviderIn) -> None:
    check_choice(spec.kind, PROVIDER_KINDS, "kind")
    if spec.kind == "openai_compatible" and not spec.base_url:
        raise InvalidConfig("base_url", "an openai_compatible provider needs a base_url")
    if spec.base_url is not None and not spec.base_url.startswith(("http://", "https://")):
        raise InvalidConfig("base_url", "must start with http:// or https://")
    if spec.api_key_env is not None and not spec.api_key_env.replace("_", "").isalnum():
        raise InvalidConfig(
            "api_key_env", "must be the *name* of an environment variable, e.g. OPENAI_API_KEY"
        )
    check_above(spec.timeout_s, "timeout_s", 0.0)
    if spec.timeout_s > MAX_TIMEOUT_S:
        raise InvalidConfig(
            "timeout_s", f"must be at most {MAX_TIMEOUT_S:g}, got {spec.timeout_s!r}"
        )
    _check_headers(spec.headers)
    _check_prices(spec.prices)


def _apply(row: Provider, spec: ProviderIn) -> bool:
    return copy_fields(row, spec.model_dump())


_PROVIDERS: NamedResource[Provider, ProviderIn] = NamedResource(
    lambda name: Provider(name=name),
    Provider.name,
    "provider",
    "a provider",
    check_name=check_name,
    validate=_validate,
    apply=_apply,
)
find_provider = _PROVIDERS.find
get_provider = _PROVIDERS.get
list_providers = _PROVIDERS.list
create_provider = _PROVIDERS.create
update_provider = _PROVIDERS.update
upsert_provider = _PROVIDERS.upsert


def delete_provider(session: Session, name: str) -> None:
    row = get_provider(session, name)
    used = session.scalar(select(exists().where(AgentVersion.provider_id == row.id)))
    if used or _is_a_fallback(session, name):
        raise Conflict(f"provider {name!r} is used by agent versions; it cannot be deleted")
    session.delete(row)
    session.flush()


def _is_a_fallback(session: Session, name: str) -> bool:
    """Whether any agent version lists the provider among its fallbacks (stored by name)."""
    return any(
        choice.get("provider") == name
        for fallbacks in session.scalars(select(AgentVersion.fallbacks))
        for choice in fallbacks
    )
