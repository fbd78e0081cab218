"""What the sync and the async client share: the requests, the answers' parsing, the errors,
and the reading of a run's event stream (sans I/O: the clients feed it lines)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from orch.client.errors import OrchApiError, OrchConnectionError, OrchStreamError
from orch.client.models import RunEvent

T = TypeVar("T")

# The API sends a keep-alive comment every 15 s on an idle stream (FastAPI's EventSourceResponse):
# a stream silent for longer than this is dead, and is resumed.
STREAM_READ_TIMEOUT = 20.0
# Reconnecting a lost stream: the first pause, the longest, and how long it may stay lost in all
# (from the first failure since the stream last delivered anything) before OrchStreamError.
RECONNECT_FIRST_DELAY = 0.2
RECONNECT_MAX_DELAY = 5.0
RECONNECT_BUDGET = 60.0

NO_TOKEN_HINT = (
    "no API token was given: pass token=, set ORCH_TOKEN, or run `orch up` here "
    "(it keeps an admin token in .orch/admin-token)"
)


def path(*parts: str) -> str:
    return "/" + "/".join(quote(part, safe="") for part in parts)


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, str | int] | None = None
    body: Any = None


def model(kind: type[T]) -> Callable[[httpx.Response], T]:
    adapter: TypeAdapter[T] = TypeAdapter(kind)

    def parse(response: httpx.Response) -> T:
        return adapter.validate_json(response.content)

    return parse


def nothing(response: httpx.Response) -> None:
    return None


def _status_name(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return f"http_{status}"
    return phrase.lower().replace("-", "_").replace(" ", "_").replace("'", "")


def api_error(response: httpx.Response, *, had_token: bool) -> OrchApiError:
    """The API's error body `{"error": code, "detail": detail}` as an OrchApiError."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        code: str = body["error"]
        detail = body.get("detail")
    else:
        code, detail = _status_name(response.status_code), response.text or None
    errors = field_errors(detail)
    if errors:
        message = "; ".join(
            f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
        )
        first: str | None = errors[0]["field"] or None
    else:
        message = detail if isinstance(detail, str) else json.dumps(detail)
        first = None
    if response.status_code == 401 and not had_token:
        message = f"{message} ({NO_TOKEN_HINT})"
    return OrchApiError(
        response.status_code, code, message, field=first, detail=detail, errors=errors
    )


def field_errors(detail: Any) -> list[dict[str, str]]:
    if not isinstance(detail, list):
        return []
    found = []
    for item in detail:
        if isinstance(item, dict) and "message" in item:
            found.append({"field": str(item.get("field") or ""), "message": str(item["message"])})
    return found


def local_error(err: ValidationError, prefix: str = "body") -> OrchApiError:
    """A body the API's own model refuses, in the shape the API would answer it (422)."""
    errors = [
        {"field": ".".join([prefix, *(str(p) for p in e["loc"])]), "message": e["msg"]}
        for e in err.errors()
    ]
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return OrchApiError(
        422,
        "validation_error",
        message,
        field=errors[0]["field"] if errors else None,
        detail=errors,
        errors=errors,
        local=True,
    )


def as_dict(body: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_unset=True)
    return dict(body)


def validated(shape: type[BaseModel], body: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    """`body` checked by the API's model for it, as the JSON to send (what it was given)."""
    try:
        checked = shape.model_validate(as_dict(body))
    except ValidationError as err:
        raise local_error(err) from None
    return checked.model_dump(mode="json", exclude_unset=True)


def unreachable(url: str, err: httpx.TransportError) -> OrchConnectionError:
    reason = str(err) or type(err).__name__
    return OrchConnectionError(url, reason)


@dataclass
class SseFrame:
    id: str | None = None
    event: str = "message"
    data: list[str] = field(default_factory=list)


class SseDecoder:
    """Server-Sent Events, line by line (the text/event-stream format)."""

    def __init__(self) -> None:
        self._frame = SseFrame()
        self._seen = False

    def feed(self, line: str) -> SseFrame | None:
        """The frame a blank line completes, else None (comments are keep-alives)."""
        if not line:
            frame, seen = self._frame, self._seen
            self._frame, self._seen = SseFrame(), False
            return frame if seen and frame.data else None
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        self._seen = True
        if name == "id":
            self._frame.id = value or None
        elif name == "event":
            self._frame.event = value
        elif name == "data":
            self._frame.data.append(value)
        return None


class StreamBroke(Exception):
    """The stream must be opened again (internal: the iterator retries, then OrchStreamError)."""


class Follow:
    """The state of following one run's events across connections: the last offset delivered
    (what Last-Event-ID resumes after), whether the terminal event came, and the reconnect
    budget."""

    def __init__(
        self,
        url: str,
        run_id: str,
        after: int | None,
        *,
        tokens: bool,
        budget: float,
        max_delay: float = RECONNECT_MAX_DELAY,
    ) -> None:
        self.url = url
        self.run_id = run_id
        self.last = after
        self.tokens = tokens
        self.done = False
        self.budget = budget
        self.max_delay = max_delay
        self.reconnects = 0
        self._failures = 0
        self._lost_since: float | None = None

    @property
    def path(self) -> str:
        return path("v1", "runs", self.run_id, "events")

    def request(self) -> tuple[dict[str, str], dict[str, str]]:
        """The headers and query of the next connection."""
        headers = {"Accept": "text/event-stream"}
        if self.last is not None:
            headers["Last-Event-ID"] = str(self.last)
        params = {"include": "tokens"} if self.tokens else {}
        return headers, params

    def alive(self) -> None:
        """Something came on the connection: the stream works, its reconnect budget is whole."""
        self._failures = 0
        self._lost_since = None

    def accept(self, frame: SseFrame) -> RunEvent | None:
        """The frame as an event, or None when it was delivered already."""
        self.alive()
        offset = int(frame.id) if frame.id is not None and frame.id.isdigit() else None
        if offset is not None and self.last is not None and offset <= self.last:
            return None
        try:
            payload = json.loads("\n".join(frame.data))
        except ValueError:
            payload = {"text": "\n".join(frame.data)}
        if not isinstance(payload, dict):
            payload = {"value": payload}
        if frame.event == "stream.error":  # the API's feed broke off: open it again
            raise StreamBroke(str(payload.get("error", "the API's event feed broke off")))
        if offset is not None:
            self.last = offset
        event = _event(frame.event, offset, payload)
        if event.terminal:
            self.done = True
        return event

    def lost(self, reason: str) -> float:
        """The pause before connecting again, or OrchStreamError once the budget is spent."""
        now = time.monotonic()
        if self._lost_since is None:
            self._lost_since = now
        spent = now - self._lost_since
        if spent >= self.budget:
            raise OrchStreamError(
                self.url,
                f"the event stream of run {self.run_id} stayed lost for {spent:.1f} s "
                f"({self._failures} attempts; last: {reason}); resume with "
                f"events({self.run_id!r}, after={self.last!r})",
                run_id=self.run_id,
                last_offset=self.last,
            )
        delay: float = min(self.max_delay, RECONNECT_FIRST_DELAY * 2.0**self._failures)
        self._failures += 1
        self.reconnects += 1
        return max(0.0, min(delay, self.budget - spent))


def _event(kind: str, offset: int | None, payload: dict[str, Any]) -> RunEvent:
    if "type" in payload and isinstance(payload.get("data", {}), dict):
        step = payload.get("step")
        return RunEvent(
            offset=offset,
            type=str(payload.get("type") or kind),
            run_id=payload.get("run_id"),
            step=step if isinstance(step, int) else None,
            time=payload.get("time"),
            data=payload.get("data") or {},
        )
    return RunEvent(offset=offset, type=kind, data=payload)


def retry_status(status: int) -> bool:
    """An answer to opening a stream that a restarting API or a proxy in front gives."""
    return status in (502, 503, 504)
