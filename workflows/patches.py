"""The workflow's patches, and one marker for all of them in a run started now.

Every `workflow.patched(id)` a run takes for the first time writes two events into its history: a
marker and an upsert of the `TemporalChangeVersion` search attribute (the server then rewrites the
run's visibility record). A run started now took seven such changes, four of them on a run that
calls the calculator: eight events, about 900 bytes and four visibility writes a bare workflow
does not pay.

So a run takes one patch instead: `BASELINE` stood for every change in `IMPLIED`. Histories
recorded before it have no `BASELINE` marker, so `patched` falls back to the change's own marker
for them, exactly as before. The Python SDK keeps a patch's first answer for the rest of the run,
and `patched` always asks for the baselines first: a run's answers to them are settled at the
first patched point it reaches, and no change they imply can be asked for on its own before that.

A change after a baseline gets its own id, outside what that baseline implies, and a later
baseline takes it in: `BASELINE_2` stands for `IMPLIED` and `inline-pure-tools`, so a run started
now still writes one marker. `patched` asks the newest baseline first; a run recorded under an
older one answers no to the newer (its history has no such marker at that point) and is answered
by its own, and a change after its baseline by that change's own marker, as before.
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


# a step whose every call is to a quick, pure tool runs in the workflow, no activity
# (workflows/pure_tools.py).
INLINE_PURE_TOOLS: Final = "inline-pure-tools"

BASELINE_2: Final = "baseline-2026-12b"
IMPLIED_2: Final = IMPLIED | {INLINE_PURE_TOOLS}

# Newest first: the marker a run started now writes, then the ones older runs hold.
BASELINES: Final = ((BASELINE_2, IMPLIED_2), (BASELINE, IMPLIED))


def patched(patch_id: str) -> bool:
    """`workflow.patched(patch_id)`, answered by a baseline's marker for a change it implies."""
    for baseline, implied in BASELINES:
        if patch_id in implied and workflow.patched(baseline):
            return True
    return workflow.patched(patch_id)
