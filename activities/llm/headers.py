"""A provider's extra request headers, with `${VAR}` references resolved from the environment.

A header value may name env vars as `${VAR}`, one or several, mixed with text:
`{"X-Gateway-Token": "${GATEWAY_TOKEN}", "X-Org": "${ORG}-${TEAM}"}`. The spec (and so the
workflow history) holds only the template; the values are read in the activity, from the `env`
mapping it was given, and are redacted from every error message like the API key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from activities.llm.errors import invalid_provider_config, missing_header_env
from workflows.types import ProviderSpec

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Characters that would split or end a header on the wire.
_FORBIDDEN = ("\r", "\n", "\0")


@dataclass(frozen=True)
class ResolvedHeaders:
    headers: dict[str, str]
    # What came from the environment (each env value, and each header value built from one):
    # never to appear in an error message.
    secrets: tuple[str, ...] = ()


def resolve_headers(spec: ProviderSpec, env: Mapping[str, str]) -> ResolvedHeaders:
    """The spec's headers with every `${VAR}` replaced by `env[VAR]`.

    Raises a non-retryable `ApplicationError`: "MissingHeaderEnv" when a referenced var is unset
    or empty (naming the provider, the header and the var, never a value), "InvalidProviderConfig"
    when a resolved value holds a line break or NUL.
    """
    headers: dict[str, str] = {}
    secrets: list[str] = []
    for name, template in spec.headers.items():
        value, found = _substitute(spec, name, template, env)
        if any(char in value for char in _FORBIDDEN):
            raise invalid_provider_config(
                spec, f"header {name} has a line break or NUL in its value"
            )
        headers[name] = value
        if found:
            secrets.extend(found)
            secrets.append(value)
    return ResolvedHeaders(headers=headers, secrets=tuple(dict.fromkeys(secrets)))


def _substitute(
    spec: ProviderSpec, header: str, template: str, env: Mapping[str, str]
) -> tuple[str, list[str]]:
    """(the value, the env values put into it)."""
    parts: list[str] = []
    found: list[str] = []
    position = 0
    for match in ENV_REFERENCE.finditer(template):
        var = match.group(1)
        value = env.get(var)
        if not value:
            raise missing_header_env(spec, header, var)
        parts += [template[position : match.start()], value]
        found.append(value)
        position = match.end()
    parts.append(template[position:])
    return "".join(parts), found
