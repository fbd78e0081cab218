"""docs/events.md documents every event type with the fields its payload dataclass has."""

from __future__ import annotations

import re
from pathlib import Path

from workflows.events import EVENT_TYPES, TERMINAL_EVENTS, wire_names

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def _without_parentheses(text: str) -> str:
    """`text` with every (possibly nested) parenthesised aside removed."""
    kept: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            kept.append(char)
    return "".join(kept)


def documented() -> dict[str, tuple[str, ...]]:
    """Event type -> the `data` fields its row of the "Event types" table names, in order.

    A field is a `name` in the row's last column outside parentheses: asides in parentheses
    describe a field (its nested keys, its values), they are not fields themselves.
    """
    section = DOC.read_text().split("## Event types", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, ...]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        name = re.fullmatch(r"`([a-z_]+\.[a-z_]+)`", cells[0]) if len(cells) == 3 else None
        if name is None:
            continue
        prose = re.sub(r";.*$", "", _without_parentheses(cells[2]))
        rows[name.group(1)] = tuple(re.findall(r"`([a-z_]+)`", prose))
    return rows


def test_every_event_type_is_documented_and_no_other() -> None:
    assert set(documented()) == {payload.type for payload in EVENT_TYPES}


def test_the_documented_fields_are_the_payloads_fields() -> None:
    rows = documented()
    for payload in EVENT_TYPES:
        assert rows[payload.type] == wire_names(payload), payload.type


def test_the_terminal_events_are_the_runs_ends() -> None:
    assert TERMINAL_EVENTS == {"run.completed", "run.stopped", "run.failed", "run.cancelled"}
    assert TERMINAL_EVENTS <= {payload.type for payload in EVENT_TYPES}
