"""The workflow's patches, and one marker for all of them in a run started now.

Every `workflow.patched(id)` a run takes for the first time writes two events into its history: a
marker and an upsert of the `TemporalChangeVersion` search attribute (the server then rewrites the
run's visibility record). A run started now took seven such changes, four of them on a run that
calls the calculator: eight events, about 900 bytes and four visibility writes a bare workflow
does not pay.

A run started now takes one patch instead, `BASELINE`, which stands for every change in `IMPLIED`.
Histories recorded before it have no `BASELINE` marker, so `patched` falls back to the change's own
marker for them, exactly as before. The Python SDK keeps a patch's first answer for the rest of the
run, and `patched` always asks for `BASELINE` first: a run's answer to it is settled at the first
patched point it reaches, and no change of `IMPLIED` can be asked for on its own before that.

A change after this one gets its own id, outside `IMPLIED` (a later baseline may take it in).
"""

from __future__ import annotations

from typing import Final

from temporalio import workflow

# activity inputs carry `spec_ref` instead of the agent (or the tool) itself.
SPEC_BY_REFERENCE: Final = "spec-by-reference"
# token deltas only while someone follows the run's stream.
DELTAS_WHEN_WATCHED: Final = "deltas-when-watched"
# an execution carries on only the events it published itself.
CARRY_OWN_EVENTS: Final = "carry-own-events"
# a non-idempotent call whose outcome is unknown may wait for a person to approve a retry.
ASK_ON_UNKNOWN_OUTCOME: Final = "ask-on-unknown-outcome"
# a call of a quick, pure kind runs as a local activity.
LOCAL_PURE_TOOLS: Final = "local-pure-tools"
# the run's outcome is written by the `record_outcome` local activity.
RECORD_OUTCOME: Final = "record-outcome"
# a run whose outcome cannot be written still ends as its loop decided.
OUTCOME_FAILURE_TOLERATED: Final = "outcome-failure-tolerated"

BASELINE: Final = "baseline-2026-12"
IMPLIED: Final = frozenset(
    {
        SPEC_BY_REFERENCE,
        DELTAS_WHEN_WATCHED,
        CARRY_OWN_EVENTS,
        ASK_ON_UNKNOWN_OUTCOME,
        LOCAL_PURE_TOOLS,
        RECORD_OUTCOME,
        OUTCOME_FAILURE_TOLERATED,
    }
)


def patched(patch_id: str) -> bool:
    """`workflow.patched(patch_id)`, answered by the `BASELINE` marker for a change it implies."""
    if patch_id in IMPLIED and workflow.patched(BASELINE):
        return True
    return workflow.patched(patch_id)
