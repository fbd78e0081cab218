"""`orch run` and `orch runs`: start a run and watch it from a terminal, list runs."""

from __future__ import annotations

import json
import sys
from typing import Any

from core.settings import Settings
from temporal.client import connect
from temporal.visibility import decode_page_token, list_runs, runs_query


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_event(event: dict[str, Any]) -> str | None:
    """One line for a person watching a run; None for events not worth a line."""
    kind, step, data = event.get("type"), event.get("step"), event.get("data", {})
    if kind == "run.started":
        return f"started {data['agent']} v{data['agent_version']} ({data['model']})"
    if kind == "llm.completed":
        calls = ", ".join(
            f"{c['name']}({_short(c['arguments'], 80)})" for c in data.get("tool_calls", [])
        )
        said = _short(data["text"]) if data.get("text") else ""
        return f"step {step} model: {said}{' -> ' if said and calls else ''}{calls}"
    if kind == "tool.completed":
        outcome = _short(data["result"] if data["ok"] else data["error"])
        return f"step {step}   {data['name']}: {outcome}"
    if kind in ("run.completed", "run.stopped"):
        usage = data["usage"]
        cost = f", ${usage['cost_usd']:.4f}" if usage.get("cost_usd") else ""
        return (
            f"{kind.split('.')[1]} ({data['stop_reason']}, {data['steps']} steps, "
            f"{usage['total_tokens']} tokens{cost}): {data['answer']}"
        )
    if kind == "run.failed":
        return f"failed: {data['error']}"
    if kind == "llm.failover":
        return f"step {step} failover {data['from']} -> {data['to']}: {_short(data['error'])}"
    if kind == "output.invalid":
        return f"step {step} answer breaks the output schema (repair {data['repair']})"
    if kind == "subagent.event":
        # A child run's event, indented under the parent's (with the child's own step numbers).
        line = format_event(data["event"])
        if line is None:
            return None
        return f"    {line}" if line.startswith("    |") else f"    | {line}"
    return None


async def print_runs(
    settings: Settings,
    *,
    agent: str | None,
    status: str | None,
    limit: int,
    page_token: str | None,
) -> int:
    """One line per run, from Temporal visibility; then the token of the next page, if any."""
    # Refuse bad arguments before connecting to Temporal.
    runs_query(agent=agent, status=status, page_size=limit)
    token = decode_page_token(page_token) if page_token is not None else None
    client = await connect(settings)
    page = await list_runs(client, agent=agent, status=status, page_size=limit, page_token=token)
    for run in page.runs:
        started = f"{run.started_at:%Y-%m-%d %H:%M:%S}" if run.started_at else "-" * 19
        _say(f"{started}  {run.run_id}  {run.agent or '-'}  {run.status}")
    if page.next_page_token:
        # `=`: a token may start with "-", which argparse would take for an option.
        _say(f"next page: --page-token={page.next_page_token}")
    return 0
