"""The lines `orch run` and `orch runs` print for a person: one per event worth a line, one per
run."""

from __future__ import annotations

import json
import sys
from typing import Any

from core.errors import OrchError
from orch.client import AsyncOrch, RunSummary
from workflows.kinds import LISTED_STATUSES


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _calls(data: dict[str, Any]) -> str:
    return ", ".join(
        f"{c['name']}({_short(c['arguments'], 80)})" for c in data.get("tool_calls", [])
    )


def format_event(event: dict[str, Any], *, shown: str | None = None) -> str | None:
    """One line for a person watching a run; None for events not worth a line.

    `shown`: the model text the person already saw (streamed, or on an earlier line): an
    `llm.completed` or a run's end that carries the same text does not print it again.
    """
    kind, step, data = event.get("type"), event.get("step"), event.get("data", {})
    if kind == "run.started":
        return f"started {data['agent']} v{data['agent_version']} ({data['model']})"
    if kind == "llm.completed":
        calls = _calls(data)
        text = data.get("text") or ""
        said = _short(text) if text and text != shown else ""
        if not said and not calls:
            return None
        return f"step {step} model: {said}{' -> ' if said and calls else ''}{calls}"
    if kind == "llm.retrying":
        return (
            f"step {step}: {_short(data['error'])}, retrying in {data['retry_in_s']:.1f} s "
            f"(attempt {data['attempt']})"
        )
    if kind == "tool.completed":
        outcome = _short(data["result"] if data["ok"] else data["error"])
        return f"step {step}   {data['name']}: {outcome}"
    if kind in ("run.completed", "run.stopped"):
        usage = data["usage"]
        cost = f", ${usage['cost_usd']:.4f}" if usage.get("cost_usd") else ""
        answer = data.get("answer") or ""
        said = f": {answer}" if answer and answer != shown else ""
        return (
            f"{kind.split('.')[1]} ({data['stop_reason']}, {data['steps']} steps, "
            f"{usage['total_tokens']} tokens{cost}){said}"
        )
    if kind == "run.failed":
        return f"failed: {data['error']}"
    if kind == "run.cancelled":
        return f"cancelled ({data['steps']} steps)"
    if kind == "llm.failover":
        return f"step {step} failover {data['from']} -> {data['to']}: {_short(data['error'])}"
    if kind == "output.invalid":
        return f"step {step} answer breaks the output schema (repair {data['repair']})"
    if kind == "approval.requested":
        call = f"{data['tool']}({_short(data['arguments'], 120)})"
        return f"step {step} waiting for approval: {call}"
    if kind == "input.requested":
        return f"step {step} question: {data['question']}"
    if kind == "stream.unavailable":
        return f"... {data.get('notice', 'no worker is polling the run')}"
    if kind == "subagent.event":
        # A child run's event, indented under the parent's (with the child's own step numbers).
        line = format_event(data["event"], shown=shown)  # `shown`: the child's, nested alike
        if line is None:
            return None
        return f"    {line}" if line.startswith("    |") else f"    | {line}"
    return None


def run_line(run: RunSummary) -> str:
    started = f"{run.started_at:%Y-%m-%d %H:%M:%S}" if run.started_at else "-" * 19
    return f"{started}  {run.run_id}  {run.agent or '-'}  {run.status}"


def check_status(status: str | None) -> None:
    """Refuse a status `GET /v1/runs` does not list by, in one line, before asking it."""
    if status is not None and status not in LISTED_STATUSES:
        raise OrchError(
            f"--status must be one of {', '.join(LISTED_STATUSES)}", code="bad_argument"
        )


async def print_runs(
    orch: AsyncOrch,
    *,
    agent: str | None,
    status: str | None,
    limit: int,
    page_token: str | None,
) -> int:
    """One line per run (GET /v1/runs); then the token of the next page, if any."""
    check_status(status)
    page = await orch.list_runs(agent=agent, status=status, limit=limit, page_token=page_token)
    for run in page.runs:
        _say(run_line(run))
    if page.next_page_token:
        # `=`: a token may start with "-", which argparse would take for an option.
        _say(f"next page: --page-token={page.next_page_token}")
    return 0
