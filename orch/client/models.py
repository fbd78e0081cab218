"""What the run endpoints answer, as the SDK returns it.

The config bodies and answers are the API's own models (api/schemas.py: AgentCreate,
AgentRead, ...). The run endpoints answer dataclasses of temporal/ and models of api/routes/,
whose modules import Temporal and FastAPI: these mirror them field for field (by name and
type) so that importing the SDK starts nothing; tests/orch/test_client_models.py checks them
against the API's OpenAPI document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from workflows.kinds import TokenScope


class _Answer(BaseModel):
    # A newer API may add fields: ignore them rather than break.
    model_config = ConfigDict(extra="ignore", frozen=True)


class RunStarted(_Answer):
    """`202` of POST /v1/runs, /v1/routes/{key}/runs and /v1/threads/{id}/runs."""

    run_id: str
    agent: str
    agent_version: int
    events_url: str
    temporal_ui_url: str


class PendingAction(_Answer):
    """What a run waits on a person for: an approval (`kind` "approval") or an answer."""

    kind: str
    call_id: str
    tool: str
    arguments: dict[str, Any] = {}
    question: str = ""
    cause: str | None = None


class PublishedEvent(_Answer):
    """One event of a run's stream as Temporal's history holds it (`RunView.last_events`)."""

    offset: int
    type: str
    step: int | None = None
    time: str | None = None
    data: dict[str, Any] = {}


class RunView(_Answer):
    """GET /v1/runs/{id}: a run's status, counters, usage and answer."""

    run_id: str
    status: str  # running | completed | stopped | failed | cancelled | terminated | timed_out
    agent: str
    agent_version: int
    stop_reason: str | None = None
    answer: str | None = None
    steps: int = 0
    tool_calls: int = 0
    usage: dict[str, int | float] = {}
    output: Any = None
    error: str | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None
    tool_errors: int = 0
    invalid_tool_calls: int = 0
    parent_run_id: str | None = None
    pending: list[PendingAction] = []
    live: bool = True
    notice: str | None = None
    last_events: list[PublishedEvent] | None = None
    temporal_ui_url: str | None = None

    @property
    def finished(self) -> bool:
        return self.status != "running"


class RunSummary(_Answer):
    """One run of GET /v1/runs. `status` is Temporal's (a `stopped` run is `completed` here)."""

    run_id: str
    agent: str | None
    status: str
    started_at: datetime | None
    closed_at: datetime | None
    parent_run_id: str | None = None


class RunPage(_Answer):
    """GET /v1/runs: pass `next_page_token` back as `page_token`; None on the last page."""

    runs: list[RunSummary]
    next_page_token: str | None = None


class ThreadRun(_Answer):
    run_id: str
    agent: str
    agent_version: int
    input: str
    created_at: str


class Thread(_Answer):
    """GET /v1/threads/{id}: its runs, oldest first, and the whole conversation so far."""

    thread_id: str
    runs: list[ThreadRun]
    transcript: list[dict[str, Any]]


class CancelAnswer(_Answer):
    run_id: str
    status: str  # "cancelling", or the status of a run that had already ended


class ApprovalOutcome(_Answer):
    call_id: str
    tool: str
    decision: str  # approved | rejected


class InputOutcome(_Answer):
    call_id: str
    question: str


class WhoAmI(_Answer):
    token_id: str
    scope: TokenScope


class TokenRead(_Answer):
    """An API token as GET /v1/tokens lists it (never its secret)."""

    id: str
    name: str
    scope: TokenScope
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str  # the secret: shown this once


@dataclass(frozen=True)
class RunEvent:
    """One event of a run's stream.

    `offset` is its stream offset (the SSE `id:`), increasing without gaps along a run; None
    for what is not part of the run's stream: the terminal event of a run ended from outside
    the loop (terminated, timed out), and `stream.unavailable` (no worker polls the run's
    task queue; `data` has `notice` and `task_queue`). `data` is the event's payload
    (workflows/events.py names each type's fields).
    """

    offset: int | None
    type: str
    run_id: str | None = None
    step: int | None = None
    time: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_TYPES


# workflows/events.py TERMINAL_EVENTS, written out: that module imports Temporal's (through
# workflows/types.py); tests/orch/test_client_models.py checks they are the same.
TERMINAL_TYPES: frozenset[str] = frozenset(
    {"run.completed", "run.failed", "run.stopped", "run.cancelled"}
)


ReadT = TypeVar("ReadT", bound=BaseModel)


@dataclass(frozen=True)
class Applied(Generic[ReadT]):
    """What `apply` did: created the object (`created` True) or replaced it, and the answer."""

    created: bool
    item: ReadT


ConfigKind = Literal["agent", "tool", "provider", "route", "mcp_server"]
