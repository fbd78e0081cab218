"""`Orch`: the blocking client (httpx.Client). `AsyncOrch` (orch/client/aio.py) has the same
methods, awaited."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import httpx
from pydantic import BaseModel

from orch.client import _calls
from orch.client._config import default_token, default_url
from orch.client._kinds import kind_name
from orch.client._wire import (
    RECONNECT_BUDGET,
    STREAM_READ_TIMEOUT,
    Call,
    Follow,
    SseDecoder,
    StreamBroke,
    api_error,
    retry_status,
    unreachable,
)
from orch.client.errors import OrchApiError, OrchTimeoutError
from orch.client.models import (
    Applied,
    ApprovalOutcome,
    CancelAnswer,
    InputOutcome,
    RunEvent,
    RunPage,
    RunStarted,
    RunSummary,
    RunView,
    Thread,
    TokenCreated,
    TokenRead,
    WhoAmI,
)
from workflows.kinds import TokenScope

if TYPE_CHECKING:
    from api.schemas import AgentRead, McpServerRead, ProviderRead, RouteRead, ToolRead

ReadT = TypeVar("ReadT", bound=BaseModel)
T = TypeVar("T")
Body = Mapping[str, Any] | BaseModel


class Resource(Generic[ReadT]):
    """CRUD on one kind of config (`orch.agents`, `orch.tools`, ...). Bodies are checked by the
    API's own models before they are sent (a refusal is an OrchApiError with `local` True);
    answers are the API's Read models."""

    def __init__(self, client: Orch, kind: str) -> None:
        self._client = client
        self.kind = kind_name(kind)

    def list(self) -> list[ReadT]:
        return cast(list[ReadT], self._client.send(_calls.config_list(self.kind)))

    def get(self, name: str) -> ReadT:
        return cast(ReadT, self._client.send(_calls.config_get(self.kind, name)))

    def create(self, body: Body) -> ReadT:
        """POST: a new one (409 conflict when the name is taken)."""
        return cast(ReadT, self._client.send(_calls.config_create(self.kind, body)))

    def update(self, name: str, body: Body) -> ReadT:
        """PUT: replace the whole definition (the body may repeat the name, or leave it out)."""
        return cast(ReadT, self._client.send(_calls.config_update(self.kind, name, body)))

    def delete(self, name: str) -> None:
        self._client.send(_calls.config_delete(self.kind, name))

    def apply(self, body: Body) -> Applied[ReadT]:
        """Create it, or replace it when one of that name exists (the body names it)."""
        name = _calls.key_of(self.kind, body)
        try:
            return Applied(False, self.update(name, body))
        except OrchApiError as err:
            if err.status != 404 or err.local:
                raise
        try:
            return Applied(True, self.create(body))
        except OrchApiError as err:  # made meanwhile by someone else: replace it after all
            if err.status != 409:
                raise
        return Applied(False, self.update(name, body))


class AgentResource(Resource["AgentRead"]):
    """Agents are versioned: an update writes version n+1 (when anything versioned changed)."""

    def get(self, name: str, version: int | None = None) -> AgentRead:
        params = {"version": version} if version is not None else None
        return cast("AgentRead", self._client.send(_calls.config_get("agent", name, params)))

    def versions(self, name: str) -> list[AgentRead]:
        return cast("list[AgentRead]", self._client.send(_calls.agent_versions(name)))

    def rollback(self, name: str, version: int) -> AgentRead:
        """A new current version equal to `version` (history is never rewritten)."""
        return cast("AgentRead", self._client.send(_calls.agent_rollback(name, version)))


class McpServerResource(Resource["McpServerRead"]):
    def discover(self, name: str) -> McpServerRead:
        """List the server's tools again and bring /v1/tools up to date."""
        return cast("McpServerRead", self._client.send(_calls.mcp_discover(name)))


class Orch:
    """A client of the orch API.

    `url` defaults to ORCH_URL, else the URL `orch up` wrote in `.orch/api-url`, else
    http://localhost:8000; `token` to ORCH_TOKEN, else the admin token `orch up` keeps in
    `.orch/admin-token` (LOCAL_TOKEN_FILE). `timeout` bounds each request (seconds); an event
    stream reads with `stream_read_timeout` (the API pings an idle stream every 15 s) and
    reconnects for up to `reconnect_budget` seconds. `transport` is httpx's (e.g. for tests).
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        stream_read_timeout: float = STREAM_READ_TIMEOUT,
        reconnect_budget: float = RECONNECT_BUDGET,
    ) -> None:
        self.url = (url or default_url()).rstrip("/")
        self.token = token if token is not None else default_token()
        self.timeout = timeout
        self.stream_read_timeout = stream_read_timeout
        self.reconnect_budget = reconnect_budget
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )
        self.agents = AgentResource(self, "agent")
        self.tools: Resource[ToolRead] = Resource(self, "tool")
        self.providers: Resource[ProviderRead] = Resource(self, "provider")
        self.routes: Resource[RouteRead] = Resource(self, "route")
        self.mcp_servers = McpServerResource(self, "mcp_server")

    def __enter__(self) -> Orch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, call: Call[T]) -> T:
        """Send one request; its answer parsed, or OrchApiError / OrchConnectionError."""
        try:
            response = self._http.request(
                call.method, call.path, params=call.params, json=call.body
            )
        except httpx.TransportError as err:
            raise unreachable(self.url, err) from err
        if response.is_error:
            raise api_error(response, had_token=bool(self.token))
        return call.parse(response)

    # Runs.

    def start_run(
        self,
        agent: str,
        input: str,
        *,
        variables: Mapping[str, Any] | None = None,
        tokens: bool = False,
        thread: str | None = None,
    ) -> RunStarted:
        """Start a run of `agent`'s current version. `tokens`: you follow its events with
        `events(..., tokens=True)` from the start (its first model call then streams tokens).
        `thread`: the run continues that thread (sees its earlier turns; a new id starts one;
        409 while the thread's last run is still going)."""
        return self.send(_calls.start_run(agent, input, variables, tokens, thread))

    def start_route_run(
        self,
        key: str,
        input: str,
        *,
        variables: Mapping[str, Any] | None = None,
        tokens: bool = False,
    ) -> RunStarted:
        """Start a run of the agent the route `key` points to."""
        return self.send(_calls.start_route_run(key, input, variables, tokens))

    def get_run(self, run_id: str) -> RunView:
        return self.send(_calls.get_run(run_id))

    def list_runs(
        self,
        *,
        agent: str | None = None,
        status: str | None = None,
        limit: int = 50,
        page_token: str | None = None,
    ) -> RunPage:
        """One page of runs (running first, then the most recently closed); pass the page's
        `next_page_token` as `page_token` for the next one."""
        return self.send(_calls.list_runs(agent, status, limit, page_token))

    def iter_runs(
        self, *, agent: str | None = None, status: str | None = None, limit: int = 50
    ) -> Iterator[RunSummary]:
        """Every run, page after page."""
        token: str | None = None
        while True:
            page = self.list_runs(agent=agent, status=status, limit=limit, page_token=token)
            yield from page.runs
            if page.next_page_token is None:
                return
            token = page.next_page_token

    def events(
        self, run_id: str, *, after: int | None = None, tokens: bool = False
    ) -> Iterator[RunEvent]:
        """The run's events, from after offset `after` (all when None), until its terminal
        one. A dropped connection or a restarted API is reconnected with Last-Event-ID: no
        event twice, none missed. OrchStreamError when the stream stays lost longer than the
        reconnect budget. `tokens`: also the model's token deltas (`llm.delta`)."""
        follow = Follow(self.url, run_id, after, tokens=tokens, budget=self.reconnect_budget)
        timeout = httpx.Timeout(self.timeout, read=self.stream_read_timeout)
        while not follow.done:
            headers, params = follow.request()
            reason = ""
            try:
                with self._http.stream(
                    "GET", follow.path, headers=headers, params=params, timeout=timeout
                ) as response:
                    if response.is_error and not retry_status(response.status_code):
                        response.read()
                        raise api_error(response, had_token=bool(self.token))
                    if response.is_error:
                        reason = f"the API answered {response.status_code}"
                    else:
                        decoder = SseDecoder()
                        for line in response.iter_lines():
                            follow.alive()
                            frame = decoder.feed(line)
                            if frame is None:
                                continue
                            event = follow.accept(frame)
                            if event is not None:
                                yield event
                            if follow.done:
                                return
                        reason = "the stream ended before the run's terminal event"
            except httpx.TransportError as err:
                reason = str(err) or type(err).__name__
            except StreamBroke as err:
                reason = str(err)
            time.sleep(follow.lost(reason))

    def wait(self, run_id: str, *, timeout: float | None = None, interval: float = 0.25) -> RunView:
        """The run once it has ended (polls get_run every `interval` s); OrchTimeoutError when
        it has not within `timeout` s. A run waiting for an approval or an answer is running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            if run.finished:
                return run
            if deadline is not None and time.monotonic() >= deadline:
                raise OrchTimeoutError(f"run {run_id} still {run.status} after {timeout} s")
            time.sleep(interval)

    def cancel(self, run_id: str) -> CancelAnswer:
        """Cancel the run; `status` "cancelling", or the status of a run that had ended."""
        return self.send(_calls.cancel(run_id))

    def approve(self, run_id: str, call_id: str, *, by: str = "") -> ApprovalOutcome:
        """Approve the tool call `call_id` that waits for approval (409 when none waits)."""
        return self.send(_calls.decide(run_id, call_id, True, "", by))

    def reject(
        self, run_id: str, call_id: str, reason: str = "", *, by: str = ""
    ) -> ApprovalOutcome:
        """Reject it; `reason` is told to the model."""
        return self.send(_calls.decide(run_id, call_id, False, reason, by))

    def answer(self, run_id: str, text: str, *, call_id: str | None = None) -> InputOutcome:
        """Answer the agent's `ask_user` question (`call_id` needed when several are pending)."""
        return self.send(_calls.answer(run_id, text, call_id))

    # Threads.

    def get_thread(self, thread_id: str) -> Thread:
        return self.send(_calls.get_thread(thread_id))

    # Config and tokens.

    def apply(self, kind: str, body: Body) -> Applied[Any]:
        """Create or replace the config object `body` names: `kind` is agent, tool, provider,
        route or mcp_server (plurals too)."""
        return self._resource(kind).apply(body)

    def _resource(self, kind: str) -> Resource[Any]:
        resources: dict[str, Resource[Any]] = {
            "agent": self.agents,
            "tool": self.tools,
            "provider": self.providers,
            "route": self.routes,
            "mcp_server": self.mcp_servers,
        }
        return resources[kind_name(kind)]

    def whoami(self) -> WhoAmI:
        """The token this client sends, and its scope."""
        return self.send(_calls.whoami())

    def create_token(self, name: str, scope: TokenScope) -> TokenCreated:
        """Make an API token (admin): `token` is its secret, shown this once."""
        return self.send(_calls.create_token(name, scope))

    def list_tokens(self) -> list[TokenRead]:
        """Every token made here, revoked ones included (admin)."""
        return self.send(_calls.list_tokens())

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token (admin): from now on it is refused (401)."""
        self.send(_calls.revoke_token(token_id))
