"""The agent's definition by reference: what an activity input carries instead of the spec.

The `AgentSpec` is in the workflow's own input (`RunInput.agent`, rendered for the run when it
started), once per execution. Activity inputs carry its content hash (`spec_ref`); the worker
keeps the specs it has seen by hash (activities/specs.py) and, on a miss, reads the spec from
the input of the execution that scheduled the activity, checking the hash. So each step adds
the same few bytes to the history however long the prompt and however many the tools.

Deterministic and cheap: one SHA-256 over a canonical JSON of the spec, once per execution.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from workflows import patches
from workflows.types import AgentSpec

# Patch: activity inputs carry `spec_ref` instead of the agent (or the tool) itself.
# Histories before it carry the whole spec in every `llm_step` and `tool_call` input.
SPEC_BY_REFERENCE = patches.SPEC_BY_REFERENCE
# Hex digits of the SHA-256 kept: 128 bits, and the activity checks the spec it reads anyway.
HASH_CHARS = 32


def spec_hash(agent: AgentSpec) -> str:
    """The content hash of `agent`: the same for equal specs, in the workflow and the worker."""
    canonical = json.dumps(
        dataclasses.asdict(agent),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:HASH_CHARS]
