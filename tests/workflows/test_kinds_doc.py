"""The docs name every member of the closed sets in workflows/kinds.py, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from workflows.kinds import (
    ON_UNKNOWN_OUTCOMES,
    PROVIDER_KINDS,
    RUN_STATUSES,
    STOP_REASONS,
    TOOL_ERROR_TYPES,
    TOOL_KINDS,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _row(doc: str, first_cell: str) -> str:
    """The markdown table row of `doc` whose first cell is `first_cell`."""
    for line in (DOCS / doc).read_text().splitlines():
        if line.startswith(f"| {first_cell} |"):
            return line
    raise AssertionError(f"docs/{doc} has no row {first_cell!r}")


def _codes(text: str) -> set[str]:
    return set(re.findall(r"`([a-z_]+)`", text))


def test_every_tool_kind_is_described_in_the_tools_doc() -> None:
    # A heading names the kind, or a bullet of the small tools' list starts with it.
    named = {
        kind
        for line in (DOCS / "tools.md").read_text().splitlines()
        if line.startswith("#") or line.startswith("- `")
        for kind in _codes(line if line.startswith("#") else line.split(":")[0])
    }
    missing = [kind for kind in TOOL_KINDS if kind not in named]
    assert not missing, f"docs/tools.md does not describe {missing}"


def test_the_provider_kinds_are_the_documented_ones() -> None:
    row = _row("configuration.md", "`kind`")
    assert _codes(row.split("|")[3]) == set(PROVIDER_KINDS), row


def test_the_stop_reasons_are_the_documented_ones() -> None:
    meaning = _row("api.md", "`stop_reason`").split("|")[2]
    assert _codes(meaning) - {"null"} == set(STOP_REASONS)


def test_every_run_status_is_in_the_status_table() -> None:
    for status in RUN_STATUSES:
        _row("api.md", f"`{status}`")


def test_the_tool_error_types_are_the_documented_ones() -> None:
    row = _row("events.md", "`tool.completed`")
    listed = re.search(r"else ((?:`[a-z_]+`(?:, | or )?)+)", row)
    assert listed is not None, row
    assert _codes(listed.group(1)) == set(TOOL_ERROR_TYPES)


def test_the_on_unknown_outcome_values_are_documented() -> None:
    for doc in ("configuration.md", "tools.md"):
        row = _row(doc, "`on_unknown_outcome`")
        assert _codes(row.split("|")[2]) == {"report"}, row  # the default
        assert set(ON_UNKNOWN_OUTCOMES) <= _codes(row.split("|")[3]), row
