"""Reading Prometheus text (the API's /metrics, the worker's endpoint), the Grafana dashboard
in deploy/grafana/ and the metrics table of docs/operations.md."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "orch-dashboard.json"
OPERATIONS = REPO / "docs" / "operations.md"
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# A metric name in a PromQL expression: ours and the SDK's (the functions, labels and keywords
# of the language never start so).
_NAME = re.compile(r"\b((?:orch|temporal)_[a-zA-Z0-9_]+)\b")

Sample = tuple[dict[str, str], float]


def samples(text: str) -> dict[str, list[Sample]]:
    """Every sample of a scrape, by sample name (`orch_runs_started_total`, `…_bucket`)."""
    found: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def total(scraped: dict[str, list[Sample]], name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels`."""
    return sum(
        value
        for sample_labels, value in scraped.get(name, [])
        if all(sample_labels.get(key) == wanted for key, wanted in labels.items())
    )


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those in rows included."""
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_expressions(board: dict[str, Any]) -> list[str]:
    return [
        str(target["expr"])
        for panel in panels(board)
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def dashboard_metric_names(board: dict[str, Any]) -> set[str]:
    """The sample names the dashboard's expressions read."""
    return {name for expr in dashboard_expressions(board) for name in _NAME.findall(expr)}


def documented_metrics() -> dict[str, str]:
    """Name -> type of every metric in the table of docs/operations.md's `## Metrics`."""
    text = OPERATIONS.read_text()
    section = text.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    found: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.fullmatch(r"`(orch|temporal)_[a-z0-9_]+`", cells[0]):
            found[cells[0].strip("`")] = cells[1]
    return found


def documented(name: str, table: dict[str, str]) -> bool:
    """Whether the sample name `name` is one the table lists (a histogram's `_bucket`, `_sum`
    and `_count` are its samples)."""
    if name in table:
        return True
    for suffix in HISTOGRAM_SUFFIXES:
        base = name.removesuffix(suffix)
        if base != name and table.get(base) == "histogram":
            return True
    return False
