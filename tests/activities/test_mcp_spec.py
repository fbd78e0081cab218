"""`command: python` runs the worker's own interpreter, whatever PATH holds."""

from __future__ import annotations

import sys

from activities.tools.mcp_spec import local_command


def test_python_means_this_interpreter() -> None:
    assert local_command("python") == sys.executable
    assert local_command("python3") == sys.executable
    assert local_command("npx") == "npx"
    assert local_command("/usr/bin/python3") == "/usr/bin/python3"
    assert local_command(None) is None
