"""The admin token the tests' apps accept (`ORCH_ADMIN_TOKEN`), and the header that carries it."""

from __future__ import annotations

ADMIN_TOKEN = "orch_test_admin_0123456789abcdefghijklmnopqrstuv"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
