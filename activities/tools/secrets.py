"""The secrets a tool uses, and their redaction from everything the tool returns.

A tool's config names secrets only indirectly: as `${VAR}` inside a string (an HTTP header
template) or as the name of an env var under a key ending in `_env` (`token_env`,
`api_key_env`). Their values are read in the worker, so they can appear in a result or an error
message (an API that echoes a header, an exception that prints a URL); they are replaced with
`[redacted]` before a result is stored, logged or returned to the workflow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from activities.tools.base import ToolError

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
REDACTED = "[redacted]"
# Shorter values would blank out ordinary words; no real credential is this short.
MIN_SECRET_CHARS = 6


def env_names(config: Any) -> set[str]:
    """Every env var a config references, at any depth."""
    names: set[str] = set()
    if isinstance(config, Mapping):
        for key, value in config.items():
            if isinstance(key, str) and key.endswith("_env") and isinstance(value, str):
                names.add(value)
            names |= env_names(value)
    elif isinstance(config, list | tuple):
        for item in config:
            names |= env_names(item)
    elif isinstance(config, str):
        names.update(ENV_REFERENCE.findall(config))
    return names


def secret_values(
    config: Mapping[str, Any], env: Mapping[str, str], defaults: Iterable[str] = ()
) -> tuple[str, ...]:
    """The values of the env vars `config` references (and of the kind's `defaults`), longest
    first."""
    names = env_names(config) | set(defaults)
    values = {env[name] for name in names if len(env.get(name, "")) >= MIN_SECRET_CHARS}
    return tuple(sorted(values, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def substitute_env(template: str, env: Mapping[str, str], where: str) -> str:
    """`template` with each `${VAR}` replaced by its value. A missing var is a ToolError naming
    `where` and the var, never a value."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        found = env.get(name)
        if not found:
            raise ToolError(f"{where} references ${{{name}}}, which is not set on the worker")
        return found

    return ENV_REFERENCE.sub(value, template)
