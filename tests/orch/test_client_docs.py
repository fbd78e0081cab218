"""docs/sdk.md's examples are real code: every python block compiles, and the main ones run
against the test stack (the API, a worker, the example config) and print what they say."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from pathlib import Path

import pytest

from tests.support.auth import ADMIN_TOKEN

pytestmark = pytest.mark.timeout(90)

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
BLOCK = re.compile(
    r"(?:<!-- sdk-example: (?P<name>[\w-]+) -->\n)?```python\n(?P<code>.*?)```", re.S
)


def blocks() -> dict[str, str]:
    found = {}
    for n, match in enumerate(BLOCK.finditer(DOC.read_text())):
        found[match["name"] or f"block-{n}"] = match["code"]
    return found


def test_the_doc_has_its_examples() -> None:
    named = [name for name in blocks() if not name.startswith("block-")]
    assert named == ["run-and-stream", "run-and-stream-async", "threads", "errors"]
    assert len(blocks()) >= 10


@pytest.mark.parametrize("name", sorted(blocks()))
def test_every_python_block_compiles(name: str) -> None:
    compile(blocks()[name], f"docs/sdk.md:{name}", "exec")


def _run(name: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks()[name], f"docs/sdk.md:{name}", "exec"), {"__name__": "__main__"})
    return out.getvalue()


@pytest.mark.parametrize("name", ["run-and-stream", "run-and-stream-async"])
async def test_the_run_and_stream_examples_run(
    name: str, api_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ORCH_URL", api_url)
    monkeypatch.setenv("ORCH_TOKEN", ADMIN_TOKEN)
    printed = (await asyncio.to_thread(_run, name)).splitlines()
    assert printed[-2].split()[1] == "run.completed" and printed[-2].startswith(
        str(len(printed) - 3 if name == "run-and-stream" else len(printed) - 2)
    )
    assert printed[-1].startswith("completed ") and "84" in printed[-1]


async def test_the_thread_and_error_examples_run(
    api_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ORCH_URL", api_url)
    monkeypatch.setenv("ORCH_TOKEN", ADMIN_TOKEN)
    answer, runs = (await asyncio.to_thread(_run, "threads")).splitlines()
    assert "4" in answer and runs.startswith("['run-") and runs.endswith("] 8")
    printed = await asyncio.to_thread(_run, "errors")
    assert printed.startswith("422 invalid_config provider ")
