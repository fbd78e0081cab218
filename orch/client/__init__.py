"""The Python SDK of the orch API: `Orch` (blocking) and `AsyncOrch` (asyncio).

    from orch.client import Orch

    with Orch() as orch:  # ORCH_URL / ORCH_TOKEN, else what `orch up` wrote in .orch/
        run = orch.start_run("support", "Where is my order?")
        for event in orch.events(run.run_id):
            print(event.offset, event.type)

docs/sdk.md has the whole tour. Importing this package starts nothing and imports neither
FastAPI nor Temporal; the config calls import the API's models (api/schemas.py) on first use.
"""

from orch.client.aio import AsyncAgentResource, AsyncMcpServerResource, AsyncOrch, AsyncResource
from orch.client.errors import OrchApiError, OrchConnectionError, OrchStreamError, OrchTimeoutError
from orch.client.models import (
    Applied,
    ApprovalOutcome,
    CancelAnswer,
    ConfigKind,
    InputOutcome,
    PendingAction,
    PublishedEvent,
    RunEvent,
    RunPage,
    RunStarted,
    RunSummary,
    RunView,
    Thread,
    ThreadRun,
    TokenCreated,
    TokenRead,
    WhoAmI,
)
from orch.client.sync import AgentResource, McpServerResource, Orch, Resource

__all__ = [
    "AgentResource",
    "Applied",
    "ApprovalOutcome",
    "AsyncAgentResource",
    "AsyncMcpServerResource",
    "AsyncOrch",
    "AsyncResource",
    "CancelAnswer",
    "ConfigKind",
    "InputOutcome",
    "McpServerResource",
    "Orch",
    "OrchApiError",
    "OrchConnectionError",
    "OrchStreamError",
    "OrchTimeoutError",
    "PendingAction",
    "PublishedEvent",
    "Resource",
    "RunEvent",
    "RunPage",
    "RunStarted",
    "RunSummary",
    "RunView",
    "Thread",
    "ThreadRun",
    "TokenCreated",
    "TokenRead",
    "WhoAmI",
]
