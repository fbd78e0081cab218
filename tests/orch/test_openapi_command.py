"""`orch openapi`: the document the web app's client is generated from, written with no
database and no Temporal."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.support.cli import orch


def test_writes_the_document_without_a_database(tmp_path: Path) -> None:
    env = {
        **os.environ,
        # A database that does not exist and a Temporal nobody listens on: neither is opened.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'absent' / 'none.db'}",
        "TEMPORAL_ADDRESS": "127.0.0.1:9",
    }
    out = tmp_path / "web" / "openapi.json"
    done = orch(env, "openapi", "--out", str(out))
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text())
    assert document["openapi"].startswith("3.")
    assert "/v1/agents" in document["paths"] and "/v1/whoami" in document["paths"]
    assert not (tmp_path / "absent").exists()
    assert not list(out.parent.glob("*.tmp"))
