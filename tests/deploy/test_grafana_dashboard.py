"""deploy/grafana/orch-dashboard.json: a Grafana dashboard on a Prometheus data source variable
whose every metric is listed in docs/operations.md (tests/temporal/test_worker_metrics.py
checks that the API or the worker really exposes each after runs)."""

from __future__ import annotations

from tests.support.metrics import (
    dashboard,
    dashboard_expressions,
    dashboard_metric_names,
    documented,
    documented_metrics,
    panels,
)


def test_the_dashboard_reads_its_data_source_from_a_prometheus_variable() -> None:
    board = dashboard()
    assert board["title"] and board["uid"] and isinstance(board["schemaVersion"], int)
    [variable] = [v for v in board["templating"]["list"] if v["type"] == "datasource"]
    assert variable["query"] == "prometheus"
    drawn = [p for p in panels(board) if p["type"] != "row"]
    assert len(drawn) >= 15
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids))
    for panel in drawn:
        assert panel["datasource"] == {"type": "prometheus", "uid": f"${{{variable['name']}}}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"]
            assert target["expr"].count("(") == target["expr"].count(")"), target["expr"]


def test_every_metric_the_dashboard_reads_is_documented() -> None:
    table = documented_metrics()
    names = dashboard_metric_names(dashboard())
    assert len(names) >= 15 and len(dashboard_expressions(dashboard())) >= 20
    undocumented = sorted(name for name in names if not documented(name, table))
    assert not undocumented, f"not in docs/operations.md#metrics: {undocumented}"
    # And what the docs list for the API and the worker, the dashboard draws.
    ours = {name for name in table if name.startswith("orch_")}
    drawn = {name for name in ours if any(documented(n, {name: table[name]}) for n in names)}
    assert drawn == ours, f"documented but not drawn: {sorted(ours - drawn)}"
